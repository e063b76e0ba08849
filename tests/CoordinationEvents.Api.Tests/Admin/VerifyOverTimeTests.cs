using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using CoordinationEvents.Api.Admin;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Tests.Activities;
using CoordinationEvents.Api.Tests.Infrastructure;
using CoordinationEvents.Api.Tests.Statistics;

namespace CoordinationEvents.Api.Tests.Admin;

/// <summary>
/// issue 17, part 9: verify's own recomputation follows the dated tree (organisation.md, "As it was" and
/// "Reorganisations recorded late"), and shares no code with the unit history.
/// <para>The statistics projection is being rewritten for dated trees in parallel, so verify is checked here against
/// an expectation written out by hand in the test: the cells are replaced by that expectation, verify must find 0
/// differences, and a planted error must still be found.</para>
/// </summary>
public sealed class VerifyOverTimeTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    /// <summary>A patrol as <see cref="LateReorganisation.Patrol"/> writes it, in cell slots: activities, patrols, participants, markers, intrusions, metres.</summary>
    static readonly long[] PatrolSlots = [1, 1, 8, 2, 2, 12_500, 0, 0];

    /// <summary>Each activity: its unit, its day, and where it must count once the history below is recorded (worked out by hand).</summary>
    static readonly (string Id, string Unit, string Day, string[] Holders, bool AfterReform)[] Activities =
    [
        ("v-post-2021", "don-ma-lu-thang", "2021-06-01", ["don-ma-lu-thang", "phong-tho", "lai-chau"], false),   // before its dated move
        ("v-post-2022", "don-ma-lu-thang", "2022-06-01", ["don-ma-lu-thang", "sin-ho", "lai-chau"], false),      // after it (recorded late)
        ("v-post-2025", "don-ma-lu-thang", "2025-08-01", ["don-ma-lu-thang", "lai-chau"], false),                // the reform moved it
        ("v-merged-2024", "hoang-then", "2024-05-01", ["hoang-then", "phong-tho", "lai-chau"], false),
        ("v-merged-2025", "hoang-then", "2025-08-01", ["khong-lao", "lai-chau"], false),                         // merged by then: its successor
        ("v-dissolved", "dao-san", "2025-08-01", ["dao-san", "phong-tho", "lai-chau"], false),                   // dissolved: as on its last day
        ("v-split", "pa-vay-su", "2025-10-01", ["pa-vay-su", "phong-tho", "lai-chau"], false),                   // split: as on its last day
        ("v-district", "phong-tho", "2025-08-01", ["phong-tho", "lai-chau"], false),
        ("v-stays-2024", "si-lo-lau", "2024-01-01", ["si-lo-lau", "phong-tho", "lai-chau"], false),
        ("v-stays-2025", "si-lo-lau", "2025-09-01", ["si-lo-lau", "lai-chau"], false),
        ("v-undated-2020", "mo-si-san", "2020-01-01", ["mo-si-san", "sin-ho", "lai-chau"], false),               // an undated move: always so
        ("v-undated-2025", "mo-si-san", "2025-09-01", ["mo-si-san", "sin-ho", "lai-chau"], false),               // and it replaced the dated one
        ("v-undated-nam-xe", "nam-xe", "2024-01-01", ["nam-xe", "muong-te", "lai-chau"], false),
        ("v-new", "khong-lao", "2025-09-01", ["khong-lao", "lai-chau"], true),
        ("v-old-after", "hoang-then", "2023-03-03", ["hoang-then", "phong-tho", "lai-chau"], true),
    ];

    [Fact]
    public async Task Verify_counts_each_activity_where_the_dated_tree_holds_it_and_still_finds_a_planted_error()
    {
        using var reporter = api.Reporter;
        async Task PostAsync((string Id, string Unit, string Day, string[] Holders, bool AfterReform) a)
        {
            var response = await reporter.PostJsonAsync("/api/v1/activities", LateReorganisation.Patrol(a.Id, a.Unit, a.Day));
            Assert.True(response.StatusCode == HttpStatusCode.Created, $"{a.Id}: {await response.Content.ReadAsStringAsync()}");
        }
        foreach (var a in Activities.Where(a => !a.AfterReform)) await PostAsync(a);
        // One more, retracted: it counts nowhere.
        var retracted = await reporter.PostJsonAsync("/api/v1/activities", LateReorganisation.Patrol("v-retracted", "hoang-then", "2025-08-02"));
        var retractedId = (await retracted.JsonAsync()).GetProperty("activityId").GetGuid();
        using (var retract = new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/activities/{retractedId}") { Content = JsonContent.Create(new { reason = "twice" }) })
            Assert.Equal(HttpStatusCode.OK, (await reporter.SendAsync(retract)).StatusCode);

        // Recorded late: a dated move of the post (from 2022), the reform of 2025-07-01 (merges, a split, dissolutions,
        // dated moves), then two undated moves that replace what was recorded before them.
        var now = DateTimeOffset.UtcNow;
        var events = new List<(Guid, UnitEvent, bool)>
        {
            (UnitEventTypes.StreamIdOf("don-ma-lu-thang"), new UnitMoved { UnitId = "don-ma-lu-thang", ParentId = "sin-ho", EffectiveFrom = new DateOnly(2022, 1, 1), RecordedAt = now }, false),
        };
        events.AddRange(LateReorganisation.Events(now));
        events.Add((UnitEventTypes.StreamIdOf("mo-si-san"), new UnitMoved { UnitId = "mo-si-san", ParentId = "sin-ho", RecordedAt = now }, false));
        events.Add((UnitEventTypes.StreamIdOf("nam-xe"), new UnitMoved { UnitId = "nam-xe", ParentId = "muong-te", RecordedAt = now }, false));
        await LateReorganisation.ApplyAsync(api.Services, events);
        foreach (var a in Activities.Where(a => a.AfterReform)) await PostAsync(a);
        await api.WaitForProjectionsAsync();

        // The cells as they must be, written over the projection's (which may not follow dated trees yet).
        var expected = new Dictionary<(string Unit, char Period, string Bucket), long[]>();
        foreach (var a in Activities)
        {
            var day = DateOnly.ParseExact(a.Day, "yyyy-MM-dd", CultureInfo.InvariantCulture);
            foreach (var unit in a.Holders)
            foreach (var (period, bucket) in new[] { ('d', day), ('m', new DateOnly(day.Year, day.Month, 1)), ('y', new DateOnly(day.Year, 1, 1)) })
            {
                var key = (unit, period, bucket.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                if (!expected.TryGetValue(key, out var sum)) expected[key] = sum = new long[PatrolSlots.Length];
                for (var i = 0; i < sum.Length; i++) sum[i] += PatrolSlots[i];
            }
        }
        var sql = new StringBuilder("delete from stat_cells;\n");
        foreach (var ((unit, period, bucket), values) in expected)
            sql.Append(CultureInfo.InvariantCulture, $"insert into stat_cells values ('{unit}', '{period}', '{bucket}', 'patrol', 'joint', '', {string.Join(", ", values)});\n");
        sql.Append("select count(*) from stat_cells");
        Assert.Equal(expected.Count, await api.ScalarAsync(sql.ToString()));

        await using var db = Npgsql.NpgsqlDataSource.Create(api.ConnectionString);
        var report = await VerifyFigures.RunAsync(db, CancellationToken.None);
        Assert.True(report.DifferenceCount == 0, Describe(report));
        Assert.Equal(Activities.Length, report.ActiveActivities);
        Assert.Equal(expected.Count, report.CellsCompared);
        Assert.Equal(0, report.StocksCompared);

        // A planted error: the merged commune's activity of August 2025 moved back to its old district's month.
        Assert.Equal(1, await api.ScalarAsync(
            "with d as (update stat_cells set v0 = v0 + 1 where period = 'm' and bucket = '2025-08-01' and unit_id = 'phong-tho' returning 1) select count(*) from d"));
        Assert.Equal(1, await api.ScalarAsync(
            "with d as (update stat_cells set v0 = v0 - 1 where period = 'm' and bucket = '2025-08-01' and unit_id = 'khong-lao' returning 1) select count(*) from d"));
        using var admin = api.Admin;
        var planted = (await admin.GetFromJsonAsync<ConsistencyReport>("/api/v1/admin/verify", ServiceInstance.Json))!;
        Assert.True(planted.DifferenceCount == 2, Describe(planted));
        Assert.Equal(["unit=khong-lao month=2025-08-01 kind=patrol d1=joint d2=", "unit=phong-tho month=2025-08-01 kind=patrol d1=joint d2="],
            planted.Differences.Select(d => d.Key).Order(StringComparer.Ordinal));
        var khongLao = planted.Differences.Single(d => d.Key.StartsWith("unit=khong-lao", StringComparison.Ordinal));
        Assert.Equal(1, khongLao.Expected![0]);
        Assert.Equal(0, khongLao.Actual![0]);

    }

    /// <summary>Verify folds the unit events with its own code: nothing of the unit history, its tree, its records or its event types.</summary>
    [Fact]
    public void Verify_folds_the_unit_events_itself_and_uses_nothing_of_the_unit_history()
    {
        var used = VerifyTests.ReferencedTypes(typeof(VerifyFigures)).ToHashSet();
        Assert.Contains(typeof(JsonDocument), used); // the scan reaches the nested fold (the events are read as JSON there)
        Type[] forbidden = [typeof(UnitHistory), typeof(UnitTree), typeof(UnitLife), typeof(Timeline<>), typeof(UnitDirectory), typeof(UnitRecord),
            typeof(UnitEvent), typeof(UnitEventTypes), typeof(UnitEndings), typeof(Unit), typeof(AncestrySpan)];
        var found = used.Where(t => forbidden.Contains(t.IsGenericType ? t.GetGenericTypeDefinition() : t)).Select(t => t.Name).ToArray();
        Assert.True(found.Length == 0, "VerifyFigures uses " + string.Join(", ", found));
        Assert.Contains(typeof(UnitHistory), VerifyTests.ReferencedTypes(typeof(UnitDirectory))); // and the scan sees them where they are used
    }

    static string Describe(ConsistencyReport report) => $"{report.DifferenceCount} differences: " + string.Join("; ",
        report.Differences.Select(d => $"{d.Table} {d.Key} expected [{string.Join(",", d.Expected ?? [])}] actual [{string.Join(",", d.Actual ?? [])}]"));
}
