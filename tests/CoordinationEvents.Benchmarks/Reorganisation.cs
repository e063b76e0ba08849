using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using CoordinationEvents.Api.Core;

namespace CoordinationEvents.Benchmarks;

/// <summary>
/// Issue 17's speed figures, beside their ceilings (<c>--reorganisation</c>; <c>make bench ARGS=--reorganisation</c>):
/// <list type="bullet">
/// <item>a reorganisation of a province recorded late (<c>POST /api/v1/reorganisations</c>, api.md "Units over time"):
/// two of Lai Châu's districts merged from a date inside the activities' years, timed from the POST until the
/// reorganisation reads <c>applied</c>; the rate is the activities of the province over that time (ceiling: ≥ 30k/s at 1M);</item>
/// <item>a statistics query that straddles the change, grouped by unit (ceiling: p99 ≤ 40 ms at 10M).</item>
/// </list>
/// Written against the contract: a build without the endpoint answers 404 or 405, and the figure says so.
/// </summary>
public static class ReorganisationBench
{
    public const string Province = "lai-chau";

    public static async Task<List<string>> RunAsync(BenchServer server, BenchOptions options, string scratch)
    {
        var lines = new List<string>();
        var activities = options.Quick ? 20_000 : 200_000;
        var db = await server.CreateDatabaseAsync("bench_reorganisation");
        await using var service = await ServiceProcess.StartAsync(db, "reorganisation", scratch);
        var units = BenchUnits.Seed.Where(u => u.UnitId == Province || IsUnder(u, Province)).ToArray();
        var factory = new ActivityFactory(units);
        var bodies = new BodyPool(factory, 2_000);
        Log.Line($"reorganisation: recording {activities:N0} activities in {Province}'s {units.Length} units");
        for (var start = 0; start < activities; start += 1_000)
        {
            var json = new StringBuilder("{\"activities\":[");
            for (var i = start; i < Math.Min(activities, start + 1_000); i++)
                json.Append(i > start ? "," : "").Append(bodies.Body(i, $"reorg-{i}"));
            json.Append("]}");
            using var response = await service.Reporter.PostAsync("api/v1/activities/batch", new StringContent(json.ToString(), Encoding.UTF8, "application/json"));
            if (response.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"reorganisation seed batch: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        // Straddling: 2019–2024 over a change on 2022-01-01, grouped by unit, before and after the change is recorded.
        const string straddling = "api/v1/statistics?from=2019-01-01&to=2024-12-31&unitId=" + Province + "&groupBy=unit";
        lines.Add(await QueryP99Async(service, straddling, options.QueryRepetitions, "before the reorganisation"));

        var districts = BenchUnits.Seed.Where(u => u.ParentId == Province && u.Type == UnitTypes.District).Take(2).Select(u => u.UnitId).ToArray();
        var body = ScaleFigures.MergeBody("bench-merge-" + DateTime.UtcNow.ToString("HHmmss"), BenchUnits.Seed, districts);
        var watch = Stopwatch.StartNew();
        using var posted = await service.Admin.PostAsync("api/v1/reorganisations", new StringContent(body, Encoding.UTF8, "application/json"));
        var answer = await posted.Content.ReadAsStringAsync();
        if (posted.StatusCode is not (HttpStatusCode.Created or HttpStatusCode.OK))
        {
            lines.Add($"reorganisation of {Province} ({activities:N0} activities; {string.Join(" + ", districts)} merged from 2022-01-01): POST /api/v1/reorganisations answered {(int)posted.StatusCode}"
                + (posted.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed ? " (not in this build)" : $": {(answer.Length > 300 ? answer[..300] : answer)}")
                + "; ceiling ≥ 30,000 activities/s at 1M");
            return lines;
        }
        var location = posted.Headers.Location?.OriginalString ?? $"api/v1/reorganisations/{JsonDocument.Parse(body).RootElement.GetProperty("reorganisationId").GetString()}";
        var applied = false;
        while (watch.Elapsed < TimeSpan.FromMinutes(30))
        {
            using var state = await service.Admin.GetAsync(location.TrimStart('/'));
            if (state.StatusCode == HttpStatusCode.OK && JsonDocument.Parse(await state.Content.ReadAsStringAsync()).RootElement.TryGetProperty("applied", out var a) && a.ValueKind == JsonValueKind.True)
            {
                applied = true;
                break;
            }
            await Task.Delay(100);
        }
        var seconds = watch.Elapsed.TotalSeconds;
        lines.Add(applied
            ? $"reorganisation of {Province} ({activities:N0} activities; {string.Join(" + ", districts)} merged from 2022-01-01): applied in {seconds:0.00} s: {activities / seconds:N0} activities/s of the province; ceiling ≥ 30,000 activities/s (at 1M)"
            : $"reorganisation of {Province}: not applied after {seconds:0} s");
        lines.Add(await QueryP99Async(service, straddling, options.QueryRepetitions, "after the reorganisation"));
        try
        {
            var check = await Verification.RunAsync(service, "after the reorganisation", new Results { Options = options, Machine = "", Postgres = "" });
            lines.Add($"verify after the reorganisation: {check.DifferenceCount} differences");
        }
        catch (InvalidOperationException e) { lines.Add($"verify after the reorganisation failed: {e.Message[..Math.Min(300, e.Message.Length)]}"); }
        return lines;
    }

    static bool IsUnder(Unit unit, string root)
    {
        var parent = unit.ParentId;
        while (parent is not null)
        {
            if (parent == root) return true;
            parent = BenchUnits.Seed.FirstOrDefault(u => u.UnitId == parent)?.ParentId;
        }
        return false;
    }

    static async Task<string> QueryP99Async(ServiceProcess service, string query, int repetitions, string when)
    {
        var times = new List<double>();
        string? error = null;
        var rows = -1;
        for (var i = 0; i < repetitions + 5; i++)
        {
            var watch = Stopwatch.StartNew();
            using var response = await service.Analyst.GetAsync(query);
            var body = await response.Content.ReadAsStringAsync();
            if (i >= 5) times.Add(watch.Elapsed.TotalMilliseconds);
            if (response.StatusCode != HttpStatusCode.OK) { error ??= $"{(int)response.StatusCode}: {(body.Length > 200 ? body[..200] : body)}"; continue; }
            rows = JsonDocument.Parse(body).RootElement.GetProperty("rows").GetArrayLength();
        }
        var all = new Latencies(times);
        return $"straddling query grouped by unit ({query["api/v1/statistics?".Length..]}), {when}: p50 {Format.Ms(all.P50)}, p99 {Format.Ms(all.P99)} over {all.Count}; {rows} rows"
            + (error is null ? "" : $"; an error: {error}") + "; ceiling p99 ≤ 40 ms (at 10M)";
    }
}
