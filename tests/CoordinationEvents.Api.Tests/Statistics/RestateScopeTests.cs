using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Statistics;
using CoordinationEvents.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CoordinationEvents.Api.Tests.Statistics;

/// <summary>
/// A late reorganisation restates the cells of the units whose holdings it changed, and no others
/// (<see cref="StatisticsRebuild.ChangedAncestors"/>): two districts merged inside a province leave the province's
/// cells as they were (the same rows, never rewritten), and the figures stay exact.
/// </summary>
public sealed class RestateScopeTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    /// <summary>Each cell of the unit from the month on, as its physical row and the transaction that wrote it.</summary>
    async Task<HashSet<string>> RowsAsync(string unitId, DateOnly month)
    {
        await using var cmd = api.Services.GetRequiredService<NpgsqlDataSource>().CreateCommand(
            $"select ctid::text || '/' || xmin::text from {StatisticsProjection.Cells} where unit_id = $1 and bucket >= $2");
        cmd.Parameters.AddWithValue(unitId);
        cmd.Parameters.AddWithValue(month);
        var rows = new HashSet<string>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync()) rows.Add(reader.GetString(0));
        return rows;
    }

    static async Task<int> ActivitiesAsync(HttpClient analyst, string unitId, DateOnly from, DateOnly to) =>
        (await analyst.GetFromJsonAsync<JsonElement>($"/api/v1/statistics?from={from:yyyy-MM-dd}&to={to:yyyy-MM-dd}&unitId={unitId}"))
            .GetProperty("totals").TryGetProperty("activities", out var a) ? a.GetInt32() : 0;

    [Fact]
    public async Task A_merge_of_two_districts_recorded_late_leaves_the_province_cells_alone_and_the_figures_exact()
    {
        var org = new Organisation(api);
        var p = $"rs{Environment.TickCount & 0xFFFFF:x}-";
        string U(string name) => p + name;
        var (prov, d0, d1) = (U("prov"), U("d0"), U("d1"));
        await org.AppendAsync(
            new UnitEstablished { UnitId = prov, Name = "Tỉnh thử", Type = UnitTypes.Province },
            new UnitEstablished { UnitId = d0, Name = "Huyện một", Type = UnitTypes.District, ParentId = prov },
            new UnitEstablished { UnitId = d1, Name = "Huyện hai", Type = UnitTypes.District, ParentId = prov },
            new UnitEstablished { UnitId = d0 + "c0", Name = "Xã một", Type = UnitTypes.Commune, ParentId = d0 },
            new UnitEstablished { UnitId = d1 + "c0", Name = "Xã hai", Type = UnitTypes.Commune, ParentId = d1 },
            new UnitEstablished { UnitId = d1 + "c1", Name = "Xã ba", Type = UnitTypes.Commune, ParentId = d1 },
            new UnitEstablished { UnitId = U("other"), Name = "Huyện khác", Type = UnitTypes.District, ParentId = prov });

        var posting = DateTimeOffset.UtcNow;
        // Activities in every unit over 2020–2023, one a month per unit.
        var units = new[] { d0, d1, d0 + "c0", d1 + "c0", d1 + "c1", U("other") };
        var posted = new List<(string Unit, DateOnly Day)>();
        for (var m = 0; m < 48; m++)
            foreach (var (unit, i) in units.Select((u, i) => (u, i)))
                posted.Add((unit, new DateOnly(2020, 1, 1).AddMonths(m).AddDays((m * 7 + i * 3) % 28)));
        using (var reporter = api.Reporter)
            await Task.WhenAll(Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
            {
                for (var i = w; i < posted.Count; i += 4)
                {
                    var response = await reporter.PostJsonAsync("/api/v1/activities", ReorganisationTests.Body($"{p}{i}", posted[i].Unit, posted[i].Day, 3));
                    Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
                }
            })));
        await org.SettleAsync();

        // The histories compared begin RecordedMargin before the change: let the units' establishment fall before them
        // (else the province, unknown to the earliest of them, is restated too, as it must be when in doubt).
        var elapsed = DateTimeOffset.UtcNow - posting;
        if (elapsed < StatisticsRebuild.RecordedMargin + TimeSpan.FromSeconds(1))
            await Task.Delay(StatisticsRebuild.RecordedMargin + TimeSpan.FromSeconds(1) - elapsed);

        var day = new DateOnly(2022, 3, 15);
        var month = new DateOnly(2022, 3, 1);
        var provinceBefore = await RowsAsync(prov, month);
        var otherBefore = await RowsAsync(U("other"), month);
        var districtBefore = await RowsAsync(d0, month);
        Assert.NotEmpty(provinceBefore);

        // Recorded late: d1's communes move under d0, and d1 merges into d0, from the 15th of March 2022.
        var id = p + "merge";
        var body = JsonSerializer.Serialize(new
        {
            reorganisationId = id, title = "Thử: hai huyện hợp nhất", effectiveFrom = day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            changes = new object[]
            {
                new { op = "move", unitId = d1 + "c0", parentId = d0 },
                new { op = "move", unitId = d1 + "c1", parentId = d0 },
                new { op = "merge", unitIds = new[] { d0, d1 }, into = d0 },
            },
        });
        using (var admin = api.Admin)
        {
            var response = await admin.PostJsonAsync("/api/v1/reorganisations", body);
            Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        }
        await org.SettleAsync();

        // The province and the untouched district keep every cell row as it was; the merged district's were restated.
        Assert.True(provinceBefore.SetEquals(await RowsAsync(prov, month)), "the province's cells were rewritten");
        Assert.True(otherBefore.SetEquals(await RowsAsync(U("other"), month)), "the untouched district's cells were rewritten");
        Assert.False(districtBefore.Overlaps(await RowsAsync(d0, month)), "the merged district's cells were not all restated");

        // The figures: the province's all along, the district's that took the other over from the day, and verify.
        using var analyst = api.Analyst;
        var (start, end) = (new DateOnly(2020, 1, 1), new DateOnly(2023, 12, 31));
        Assert.Equal(posted.Count, await ActivitiesAsync(analyst, prov, start, end));
        Assert.Equal(posted.Count(a => a.Unit != U("other") && a.Day >= day), await ActivitiesAsync(analyst, d0, day, end));
        Assert.Equal(posted.Count(a => a.Unit.StartsWith(d0, StringComparison.Ordinal) && a.Day < day), await ActivitiesAsync(analyst, d0, start, day.AddDays(-1)));
        Assert.Equal(posted.Count(a => a.Unit.StartsWith(d1, StringComparison.Ordinal) && a.Day < day), await ActivitiesAsync(analyst, d1, start, end));
        Assert.Equal(posted.Count(a => a.Unit == d1 + "c0" && a.Day >= day), await ActivitiesAsync(analyst, d1 + "c0", day, end));
        await api.AssertStatisticsConsistentAsync();
    }

    [Fact]
    public async Task Activities_changed_after_the_projection_position_count_as_they_were_at_it_and_then_as_changed()
    {
        var org = new Organisation(api);
        var p = $"rp{Environment.TickCount & 0xFFFFF:x}-";
        string U(string name) => p + name;
        var (prov, d0, d1, c0, other) = (U("prov"), U("d0"), U("d1"), U("d1c0"), U("other"));
        await org.AppendAsync(
            new UnitEstablished { UnitId = prov, Name = "Tỉnh thử", Type = UnitTypes.Province },
            new UnitEstablished { UnitId = d0, Name = "Huyện một", Type = UnitTypes.District, ParentId = prov },
            new UnitEstablished { UnitId = d1, Name = "Huyện hai", Type = UnitTypes.District, ParentId = prov },
            new UnitEstablished { UnitId = c0, Name = "Xã hai", Type = UnitTypes.Commune, ParentId = d1 },
            new UnitEstablished { UnitId = other, Name = "Huyện khác", Type = UnitTypes.District, ParentId = prov });
        var day = new DateOnly(2022, 3, 15);
        var units = new[] { c0, other, d1 };
        var posted = new List<(Guid Id, string ExternalId, string Unit, DateOnly Day)>();
        using var reporter = api.Reporter;
        for (var i = 0; i < 60; i++)
        {
            var (unit, when) = (units[i % 3], new DateOnly(2021, 1, 1).AddDays(i * 17));
            var response = await reporter.PostJsonAsync("/api/v1/activities", ReorganisationTests.Body($"{p}{i}", unit, when, 3));
            Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
            posted.Add(((await response.JsonAsync()).GetProperty("activityId").GetGuid(), $"{p}{i}", unit, when));
        }
        await org.SettleAsync();

        // The daemon held still: the corrections, retractions and new activities that follow are after its position when
        // the late merge (d1 into d0, its commune under d0) is restated.
        var coordinator = api.Services.GetRequiredService<JasperFx.Events.Daemon.IProjectionCoordinator>();
        await coordinator.PauseAsync();
        try
        {
            for (var i = 0; i < 30; i++)
            {
                var (id, externalId, unit, when) = posted[i];
                if (i % 5 == 4)
                {
                    Assert.Equal(HttpStatusCode.OK, (await reporter.DeleteJsonAsync($"/api/v1/activities/{id}", """{"reason":"khai báo nhầm"}""")).StatusCode);
                    posted[i] = (id, externalId, "", when);
                    continue;
                }
                var moved = unit == other ? c0 : other;
                var put = await reporter.PutJsonAsync($"/api/v1/activities/{id}", ReorganisationTests.Body(externalId, moved, when, 3), "\"1\"");
                Assert.True(put.StatusCode == HttpStatusCode.OK, await put.Content.ReadAsStringAsync());
                posted[i] = (id, externalId, moved, when);
            }
            for (var i = 60; i < 70; i++)
            {
                var (unit, when) = (units[i % 3], new DateOnly(2021, 1, 1).AddDays(i * 17));
                Assert.Equal(HttpStatusCode.Created, (await reporter.PostJsonAsync("/api/v1/activities", ReorganisationTests.Body($"{p}{i}", unit, when, 3))).StatusCode);
                posted.Add((Guid.Empty, $"{p}{i}", unit, when));
            }
            await org.AppendAsync(
                new UnitMoved { UnitId = c0, ParentId = d0, EffectiveFrom = day },
                new UnitMerged { UnitId = d1, Into = d0, EffectiveFrom = day });
            await org.PublishAsync(p + "merge", day, c0, d1, d0, prov);
            // The restatement runs here, the daemon still paused (the service's own loop, or this call if that loop waits
            // for the daemon).
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (await api.ScalarAsync($"select count(*) from organisation_restates where change_id = '{p}merge'") == 0 && DateTime.UtcNow < deadline)
                await Task.Delay(50);
            await api.Services.GetRequiredService<StatisticsRebuild>().RestateAsync(CancellationToken.None);
            Assert.Equal(1, await api.ScalarAsync($"select count(*) from organisation_restates where change_id = '{p}merge' and done_at is not null"));
        }
        finally
        {
            await coordinator.ResumeAsync();
        }
        await org.SettleAsync();

        using var analyst = api.Analyst;
        var (start, end) = (new DateOnly(2020, 1, 1), new DateOnly(2024, 12, 31));
        var live = posted.Where(a => a.Unit != "").ToArray();
        Assert.Equal(live.Length, await ActivitiesAsync(analyst, prov, start, end));
        Assert.Equal(live.Count(a => a.Unit != other && a.Day >= day), await ActivitiesAsync(analyst, d0, day, end));
        Assert.Equal(live.Count(a => a.Unit != other && a.Day < day), await ActivitiesAsync(analyst, d1, start, end));
        Assert.Equal(live.Count(a => a.Unit == other), await ActivitiesAsync(analyst, other, start, end));
        await api.AssertStatisticsConsistentAsync();
    }

    static UnitRecord Record(params UnitEvent[] events) =>
        new() { Id = UnitEventTypes.StreamIdOf(events[0].UnitId), UnitId = events[0].UnitId, Changes = events };

    [Fact]
    public void A_change_undone_by_the_next_still_restates_the_units_it_moved_between()
    {
        var t0 = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var (t1, t2) = (t0.AddHours(1), t0.AddHours(2));
        var day = new DateOnly(2022, 1, 1);
        // A commune moved from x to y on the 1st of January 2022, then moved back from the same day by the next change.
        var records = new[]
        {
            Record(new UnitEstablished { UnitId = "p", Name = "P", Type = UnitTypes.Province, RecordedAt = t0 }),
            Record(new UnitEstablished { UnitId = "x", Name = "X", Type = UnitTypes.District, ParentId = "p", RecordedAt = t0 }),
            Record(new UnitEstablished { UnitId = "y", Name = "Y", Type = UnitTypes.District, ParentId = "p", RecordedAt = t0 }),
            Record(new UnitEstablished { UnitId = "z", Name = "Z", Type = UnitTypes.District, ParentId = "p", RecordedAt = t0 }),
            Record(new UnitEstablished { UnitId = "c", Name = "C", Type = UnitTypes.Commune, ParentId = "x", RecordedAt = t0 },
                new UnitMoved { UnitId = "c", ParentId = "y", EffectiveFrom = day, RecordedAt = t1 },
                new UnitMoved { UnitId = "c", ParentId = "x", EffectiveFrom = day, RecordedAt = t2 }),
        };
        var today = new DateOnly(2026, 1, 1);
        var now = new UnitHistory(records, today).Ancestry();
        var pending = new[] { new StatisticsRebuild.PendingChange("a", day, ["c", "x", "y"]), new StatisticsRebuild.PendingChange("b", day, ["c", "x"]) };
        var since = StatisticsRebuild.RecordedSince(records, pending);
        Assert.Equal(t1 - StatisticsRebuild.RecordedMargin, since);
        var candidates = StatisticsRebuild.AffectedUnits(now, ["c", "x", "y"]);
        Assert.Equal(["c", "p", "x", "y"], candidates.Order(StringComparer.Ordinal));
        // Before and after both changes the tree is the same, but the projection may have counted c's activities under y in
        // between: x and y are restated; p held them all along, and c holds its own.
        Assert.Equal(["x", "y"], StatisticsRebuild.ChangedAncestors(records, now, candidates, day, since, today).Order(StringComparer.Ordinal));
        // The move holds on every later day too: from a later month, the same.
        Assert.Equal(["x", "y"], StatisticsRebuild.ChangedAncestors(records, now, candidates, day.AddMonths(1), since, today).Order(StringComparer.Ordinal));
        // Before the changes only: nothing of theirs is seen; unknown changes: every candidate.
        Assert.Empty(StatisticsRebuild.ChangedAncestors(records, now, candidates, day, t2.AddSeconds(1), today));
        Assert.Equal(candidates.Order(StringComparer.Ordinal), StatisticsRebuild.ChangedAncestors(records, now, candidates, day, null, today).Order(StringComparer.Ordinal));
        // A change whose events are not found gives no instant.
        Assert.Null(StatisticsRebuild.RecordedSince(records, [new StatisticsRebuild.PendingChange("c", new DateOnly(2023, 5, 1), ["z"])]));
    }
}
