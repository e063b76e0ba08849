using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CoordinationEvents.Api.Tests.Infrastructure;
using Xunit.Abstractions;

namespace CoordinationEvents.Api.Tests.Statistics;

/// <summary>
/// <c>asOf</c>: the figures as the service knew them at an instant (transaction time). Activities are recorded, an
/// instant noted (a report issued), then one is corrected (moved to another district, its figure changed), one
/// retracted, one moved in, one posted late: asOf at the instant gives the figures computed here from what was recorded
/// before it, and the issued report's lines; without asOf the figures are new. One scenario on its own database.
/// </summary>
public sealed class AsOfTests(ApiFactory api, ITestOutputHelper output) : IClassFixture<ApiFactory>
{
    sealed record Patrol(string ExternalId, string UnitId, string OccurredOn, int Patrols, int Participants)
    {
        public string Body => $$$"""
            {"externalId":"{{{ExternalId}}}","kind":"patrol","unitId":"{{{UnitId}}}","occurredOn":"{{{OccurredOn}}}",
             "summary":"Tuần tra {{{ExternalId}}}","details":{"mode":"independent","patrols":{{{Patrols}}},"patrolParticipants":{{{Participants}}}}}
            """;
    }

    const string Period = "from=2024-01-01&to=2024-12-31";

    static Dictionary<string, decimal> Totals(JsonElement statistics) =>
        statistics.GetProperty("totals").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDecimal());

    /// <summary>The totals of these patrols as the statistics give them (activities, patrols, participants; zeros left out).</summary>
    static Dictionary<string, decimal> Expected(IEnumerable<Patrol> patrols)
    {
        var list = patrols.ToArray();
        var totals = new Dictionary<string, decimal>
        {
            ["activities"] = list.Length, ["patrols"] = list.Sum(p => p.Patrols), ["patrolParticipants"] = list.Sum(p => p.Participants),
        };
        return totals.Where(t => t.Value != 0).ToDictionary();
    }

    static string[] Lines(JsonElement report) => report.GetProperty("sections").EnumerateArray()
        .SelectMany(s => s.GetProperty("lines").EnumerateArray()).Select(l => l.GetProperty("text").GetString()!).ToArray();

    [Fact]
    public async Task AsOf_gives_the_figures_known_at_the_instant_exactly()
    {
        using var reporter = api.Reporter;
        using var analyst = api.Analyst;
        async Task<(Guid Id, Patrol Patrol)> Record(Patrol p)
        {
            var response = await reporter.PostJsonAsync("/api/v1/activities", p.Body);
            Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
            return ((await response.JsonAsync()).GetProperty("activityId").GetGuid(), p);
        }
        async Task<JsonElement> Statistics(string unit, string? asOf = null) =>
            await analyst.GetFromJsonAsync<JsonElement>($"/api/v1/statistics?unitId={unit}&{Period}" + (asOf is null ? "" : $"&asOf={Uri.EscapeDataString(asOf)}"));

        var a = await Record(new("asof-a", "don-ma-lu-thang", "2024-03-01", 2, 10));
        var b = await Record(new("asof-b", "don-dao-san", "2024-04-01", 1, 7));
        var c = await Record(new("asof-c", "don-ma-lu-thang", "2024-05-01", 3, 12));
        var d = await Record(new("asof-d", "sin-ho", "2024-02-01", 4, 20));
        async Task Correct((Guid Id, Patrol Patrol) activity, Patrol now, int version = 1)
        {
            var put = await reporter.PutJsonAsync($"/api/v1/activities/{activity.Id}", now.Body, $"\"{version}\"");
            Assert.True(put.StatusCode == HttpStatusCode.OK, await put.Content.ReadAsStringAsync());
        }
        // Before the instant too: f corrected (another post, another figure) and g retracted; neither changes after it,
        // so asOf reads them as they are now (their documents), where a, b and d are replayed from their events.
        var f = await Record(new("asof-f", "don-ma-lu-thang", "2024-07-01", 1, 5));
        var fCorrected = f.Patrol with { UnitId = "don-dao-san", Patrols = 6 };
        await Correct(f, fCorrected);
        var g = await Record(new("asof-g", "don-dao-san", "2024-08-01", 7, 70));
        Assert.Equal(HttpStatusCode.OK, (await reporter.DeleteJsonAsync($"/api/v1/activities/{g.Id}", """{"reason":"nhập nhầm"}""")).StatusCode);
        await api.WaitForProjectionsAsync();

        // The instant: a report issued now (its issuedAt), the figures frozen at it.
        var issue = await analyst.PostJsonAsync("/api/v1/reports", """{"kind":"review","unitId":"phong-tho","from":"2024-01-01","to":"2024-12-31"}""");
        Assert.Equal(HttpStatusCode.Created, issue.StatusCode);
        var issuedAt = (await issue.JsonAsync()).GetProperty("issuedAt").GetDateTimeOffset();
        var issued = JsonDocument.Parse(await analyst.GetByteArrayAsync(issue.Headers.Location!.ToString())).RootElement.GetProperty("report");
        var instant = issuedAt.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffffzzz");
        await Task.Delay(20);

        // After it: a (phong-tho) corrected into sin-ho with another figure, b retracted, d moved into phong-tho, e posted late.
        await Correct(a, a.Patrol with { UnitId = "sin-ho", Patrols = 9 });
        Assert.Equal(HttpStatusCode.OK, (await reporter.DeleteJsonAsync($"/api/v1/activities/{b.Id}", """{"reason":"ghi trùng"}""")).StatusCode);
        await Correct(d, d.Patrol with { UnitId = "don-dao-san" });
        var e = await Record(new("asof-e", "don-ma-lu-thang", "2024-06-01", 5, 30));
        await api.WaitForProjectionsAsync();

        // Computed here: at the instant, phong-tho had a, b, c, f (corrected) and sin-ho had d; now phong-tho has c, d, e,
        // f and sin-ho a (9 patrols); g counts nowhere.
        Assert.Equal(Expected([a.Patrol, b.Patrol, c.Patrol, fCorrected]), Totals(await Statistics("phong-tho", instant)));
        Assert.Equal(Expected([d.Patrol]), Totals(await Statistics("sin-ho", instant)));
        Assert.Equal(Expected([a.Patrol, b.Patrol, c.Patrol, d.Patrol, fCorrected]), Totals(await Statistics("lai-chau", instant)));
        Assert.Equal(Expected([c.Patrol, d.Patrol with { UnitId = "don-dao-san" }, e.Patrol, fCorrected]), Totals(await Statistics("phong-tho")));
        Assert.Equal(Expected([a.Patrol with { Patrols = 9 }]), Totals(await Statistics("sin-ho")));
        // A period with ragged ends reads day cells too: 2024-03-15 to 2024-05-20 held b and c at the instant.
        Assert.Equal(Expected([b.Patrol, c.Patrol]), Totals(await analyst.GetFromJsonAsync<JsonElement>(
            $"/api/v1/statistics?unitId=phong-tho&from=2024-03-15&to=2024-05-20&asOf={Uri.EscapeDataString(instant)}")));
        var echoed = await Statistics("phong-tho", instant);
        Assert.Equal(issuedAt, echoed.GetProperty("asOf").GetDateTimeOffset());
        // Grouped answers are formed as the live ones: by unit, the children of phong-tho as known then.
        var byUnit = await analyst.GetFromJsonAsync<JsonElement>($"/api/v1/statistics?unitId=phong-tho&{Period}&groupBy=unit&asOf={Uri.EscapeDataString(instant)}");
        var rows = byUnit.GetProperty("rows").EnumerateArray().ToDictionary(r => r.GetProperty("key").GetProperty("unit").GetString()!,
            r => r.GetProperty("metrics").GetProperty("patrols").GetDecimal());
        Assert.Equal(new Dictionary<string, decimal> { ["don-ma-lu-thang"] = 5, ["don-dao-san"] = 7 }, rows);

        // The live report asOf the issue time has the issued report's lines; without asOf, today's.
        var report = await analyst.GetFromJsonAsync<JsonElement>($"/api/v1/reports/review?unitId=phong-tho&{Period}&asOf={Uri.EscapeDataString(instant)}");
        Assert.Equal(Lines(issued), Lines(report));
        Assert.Contains(Lines(issued), l => l.StartsWith("Tổ chức tuần tra 12 lần/34 lượt", StringComparison.Ordinal));
        var live = await analyst.GetFromJsonAsync<JsonElement>($"/api/v1/reports/review?unitId=phong-tho&{Period}");
        Assert.NotEqual(Lines(issued), Lines(live));
        // An unencoded '+' (read as a space) is the same instant.
        Assert.Equal(Totals(echoed), Totals(await analyst.GetFromJsonAsync<JsonElement>($"/api/v1/statistics?unitId=phong-tho&{Period}&asOf={instant.Replace("+", "%20")}")));

        // Before the first event: zeros (an instant, and a date alone: the end of that day in Vietnam).
        Assert.Empty(Totals(await Statistics("phong-tho", "2020-01-01T00:00:00+07:00")));
        Assert.Empty(Totals(await Statistics("phong-tho", "2020-01-01")));
        Assert.Empty(Totals(await analyst.GetFromJsonAsync<JsonElement>($"/api/v1/statistics?{Period}&asOf=2020-01-01")));

        // Without a unit (every stream replayed), at the instant: everything recorded before it.
        Assert.Equal(Expected([a.Patrol, b.Patrol, c.Patrol, d.Patrol, fCorrected]), Totals(await analyst.GetFromJsonAsync<JsonElement>($"/api/v1/statistics?{Period}&asOf={Uri.EscapeDataString(instant)}")));

        // No scratch table is left behind.
        Assert.Equal(0, await api.ScalarAsync("select count(*) from pg_tables where tablename like 'stat_asof_%'"));

        // The organisation changed after the instant (don-ma-lu-thang moved under sin-ho from 2024-01-01, recorded now):
        // the live figures follow today's tree, asOf the tree as it was known then (a replay of the scope, not the live
        // cells corrected), so at the instant phong-tho still had a, b, c and f.
        var restates = await api.RestatesAsync();
        using (var admin = api.Admin)
        {
            var move = await admin.PutAsJsonAsync("/api/v1/units/don-ma-lu-thang", new { name = "Đồn Biên phòng Ma Lù Thàng", type = "border-post", parentId = "sin-ho", effectiveFrom = "2024-01-01" });
            Assert.True(move.StatusCode == HttpStatusCode.OK, await move.Content.ReadAsStringAsync());
        }
        await api.WaitForRestatesAsync(restates + 1);
        Assert.Equal(Expected([d.Patrol with { UnitId = "don-dao-san" }, fCorrected]), Totals(await Statistics("phong-tho")));
        Assert.Equal(Expected([a.Patrol, b.Patrol, c.Patrol, fCorrected]), Totals(await Statistics("phong-tho", instant)));
        Assert.Equal(Expected([d.Patrol]), Totals(await Statistics("sin-ho", instant)));
        Assert.Equal(Expected([b.Patrol, c.Patrol]), Totals(await analyst.GetFromJsonAsync<JsonElement>(
            $"/api/v1/statistics?unitId=phong-tho&from=2024-03-15&to=2024-05-20&asOf={Uri.EscapeDataString(instant)}")));

        // What it costs at this (small) scale, beside a live query: a printout.
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < 5; i++) await Statistics("phong-tho", instant);
        var asOfMs = watch.Elapsed.TotalMilliseconds / 5;
        watch.Restart();
        for (var i = 0; i < 5; i++) await Statistics("phong-tho");
        output.WriteLine($"asOf district: {asOfMs:0.0} ms; live: {watch.Elapsed.TotalMilliseconds / 5:0.0} ms ({await api.EventCountAsync()} events)");
    }

    [Fact]
    public async Task A_future_or_malformed_asOf_is_a_400_keyed_asOf()
    {
        using var analyst = api.Analyst;
        var future = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddMinutes(5).ToString("yyyy-MM-dd'T'HH:mm:sszzz"));
        await (await analyst.GetAsync($"/api/v1/statistics?unitId=phong-tho&{Period}&asOf={future}")).AssertProblemAsync(400, "asOf");
        await (await analyst.GetAsync($"/api/v1/reports/review?unitId=phong-tho&{Period}&asOf={future}")).AssertProblemAsync(400, "asOf");
        await (await analyst.GetAsync($"/api/v1/statistics?unitId=phong-tho&{Period}&asOf=2999-01-01")).AssertProblemAsync(400, "asOf");
        foreach (var bad in new[] { "yesterday", "2025-01-15T08:00:00", "2025-13-01T08:00:00Z", "2025-01-15T08:00:00+07:00x" })
        {
            await (await analyst.GetAsync($"/api/v1/statistics?unitId=phong-tho&{Period}&asOf={Uri.EscapeDataString(bad)}")).AssertProblemAsync(400, "asOf");
            await (await analyst.GetAsync($"/api/v1/reports/review?unitId=phong-tho&{Period}&asOf={Uri.EscapeDataString(bad)}")).AssertProblemAsync(400, "asOf");
        }
    }
}
