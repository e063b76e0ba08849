using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using CoordinationEvents.Api.Core;

namespace CoordinationEvents.Benchmarks;

/// <summary>
/// The issues' figures that need a large database, asked in the statistics phase on the data it generated (each line
/// goes to RESULTS.md's notes, beside its ceiling):
/// <list type="bullet">
/// <item>issue 18: <c>asOf</c> (the figures as known at an instant: a replay of the scope) for a district over 6 years and
/// for a province, beside the same query live (ceilings at 1M: p99 &lt; 2 s and &lt; 10 s);</item>
/// <item>issue 21: the widest legal statistics query, one at a time, with the service's RSS before and at its peak
/// (ceilings at 1M: ≤ 1 s, ≤ 50 MiB above idle);</item>
/// <item>issue 17, at the largest size only (it changes the organisation): a late reorganisation of a province (two
/// districts merged from 2022-01-01) timed from the POST until it reads <c>applied</c>, as activities of the province
/// restated per second (≥ 30k/s), then the straddling query grouped by unit (p99 ≤ 40 ms at 10M) and verify.</item>
/// </list>
/// </summary>
public static class ScaleFigures
{
    const string Province = "lai-chau";
    const string District = "phong-tho";
    const string SixYears = "from=2019-01-01&to=2024-12-31";

    public static async Task<List<string>> RunAsync(ServiceProcess service, long size, bool largest, int repetitions, Results results)
    {
        var lines = new List<string>();
        var at = Format.Size(size);
        if (size <= 1_000_000)
        {
            foreach (var (name, query, ceiling, times) in new[]
                     {
                         ("a district over 6 years by month", $"unitId={District}&{SixYears}&groupBy=month", "p99 < 2 s at 1M", 20),
                         ("a province over 6 years by kind and year", $"unitId={Province}&{SixYears}&groupBy=kind,year", "p99 < 10 s at 1M", 10),
                     })
            {
                var live = await TimeAsync(service, "api/v1/statistics?" + query, repetitions);
                // An instant a second ago: every event recorded so far is replayed (the dearest asOf there is).
                var instant = DateTimeOffset.UtcNow.AddSeconds(-1).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
                var asOf = await TimeAsync(service, $"api/v1/statistics?{query}&asOf={instant}", times);
                var same = asOf.Body is not null && live.Body is not null && SameFigures(asOf.Body, live.Body);
                lines.Add($"Issue 18 at {at}: asOf, {name} ({query}&asOf=<a second ago>): p50 {Format.Ms(asOf.Latencies.P50)}, p99 {Format.Ms(asOf.Latencies.P99)} over {asOf.Latencies.Count}"
                    + $"{asOf.Error}; the same query live: p50 {Format.Ms(live.Latencies.P50)}, p99 {Format.Ms(live.Latencies.P99)} over {live.Latencies.Count}{live.Error}; "
                    + $"figures equal: {(same ? "yes" : "NO")}; ceiling {ceiling}");
                // Older instants: the generated history is recorded on its own days (2019–2024), so an instant inside it
                // has the later years' activities recorded after it: the live cells corrected by a sixth of the store
                // (mid-2024), or, past 200,000 events after the instant, the replay of the scope (2021).
                foreach (var old in new[] { "2024-07-01", "2021-01-01" })
                {
                    var earlier = await TimeAsync(service, $"api/v1/statistics?{query}&asOf={old}", Math.Max(3, times / 4), warmUp: 1);
                    lines.Add($"Issue 18 at {at}: asOf={old}, {name}: p50 {Format.Ms(earlier.Latencies.P50)}, max {Format.Ms(earlier.Latencies.Max)} over {earlier.Latencies.Count}{earlier.Error}");
                }
            }

            foreach (var query in WideQueries)
            {
                var idle = Machine.RssBytes(service.Pid);
                Machine.ResetPeakRss(service.Pid);
                var allocated = await AllocatedBytesAsync(service);
                var wide = await TimeAsync(service, "api/v1/statistics?" + query, 5, warmUp: 1);
                var perAsk = (await AllocatedBytesAsync(service) - allocated) / 6;
                var peak = service.PeakRssBytes;
                var rows = wide.Body is null ? "" : $"{JsonDocument.Parse(wide.Body).RootElement.GetProperty("rows").GetArrayLength():N0} rows, {wide.Bytes / 1024.0 / 1024:0.00} MB; ";
                lines.Add($"Issue 21 at {at}: the widest legal statistics query ({query}), one at a time: p50 {Format.Ms(wide.Latencies.P50)}, max {Format.Ms(wide.Latencies.Max)} over {wide.Latencies.Count}{wide.Error}; "
                    + $"{rows}RSS {Mib(idle)} before, peak {Mib(peak)} (+{Mib(peak - idle)}); {(perAsk is { } a ? $"{a / 1024.0 / 1024:0.0} MiB allocated per ask" : "allocations n/a")}; ceiling ≤ 1 s and ≤ 50 MiB above idle at 1M");
            }
        }

        if (largest)
        {
            var straddling = $"unitId={Province}&{SixYears}&groupBy=unit";
            var before = await TimeAsync(service, "api/v1/statistics?" + straddling, repetitions);
            lines.Add($"Issue 17 at {at}: the straddling query grouped by unit ({straddling}), before the reorganisation: p50 {Format.Ms(before.Latencies.P50)}, p99 {Format.Ms(before.Latencies.P99)} over {before.Latencies.Count}{before.Error}; ceiling p99 ≤ 40 ms at 10M");
            var activities = await ActivitiesAsync(service, $"unitId={Province}&from=1900-01-01&to=2099-12-31");
            var districts = BenchUnits.Grown().Where(u => u.ParentId == Province && u.Type == UnitTypes.District).Take(2).Select(u => u.UnitId).ToArray();
            var id = "bench-scale-merge-" + DateTime.UtcNow.ToString("HHmmss", CultureInfo.InvariantCulture);
            var body = MergeBody(id, BenchUnits.Grown(), districts);
            var watch = Stopwatch.StartNew();
            using (var posted = await service.Admin.PostAsync("api/v1/reorganisations", new StringContent(body, Encoding.UTF8, "application/json")))
                if (posted.StatusCode is not (HttpStatusCode.Created or HttpStatusCode.OK))
                {
                    lines.Add($"Issue 17 at {at}: POST /api/v1/reorganisations answered {(int)posted.StatusCode}: {Short(await posted.Content.ReadAsStringAsync())}");
                    return lines;
                }
            var applied = false;
            while (!applied && watch.Elapsed < TimeSpan.FromMinutes(60))
            {
                using var state = await service.Admin.GetAsync($"api/v1/reorganisations/{id}");
                applied = state.StatusCode == HttpStatusCode.OK
                    && JsonDocument.Parse(await state.Content.ReadAsStringAsync()).RootElement.TryGetProperty("applied", out var a) && a.ValueKind == JsonValueKind.True;
                if (!applied) await Task.Delay(100);
            }
            var seconds = watch.Elapsed.TotalSeconds;
            lines.Add(applied
                ? $"Issue 17 at {at}: a late reorganisation of {Province} ({string.Join(" + ", districts)} merged from 2022-01-01; the province holds {activities:N0} activities): applied {seconds:0.0} s after the POST: {(double)activities / seconds:N0} activities/s; ceiling ≥ 30,000/s"
                : $"Issue 17 at {at}: the reorganisation was not applied within {seconds:0} s");
            var after = await TimeAsync(service, "api/v1/statistics?" + straddling, repetitions);
            lines.Add($"Issue 17 at {at}: the straddling query grouped by unit ({straddling}), after the reorganisation: "
                + $"p50 {Format.Ms(after.Latencies.P50)}, p99 {Format.Ms(after.Latencies.P99)} over {after.Latencies.Count}{after.Error}; ceiling p99 ≤ 40 ms at 10M");
            try
            {
                var check = await Verification.RunAsync(service, $"after the reorganisation at {at}", results);
                lines.Add($"Issue 17 at {at}: verify after the reorganisation: {check.DifferenceCount} differences");
            }
            catch (InvalidOperationException e) { lines.Add($"Issue 17 at {at}: verify after the reorganisation failed: {Short(e.Message)}"); }
        }
        return lines;
    }

    /// <summary>
    /// A reorganisation from 2022-01-01 that merges <paramref name="districts"/> into the first: the others' children
    /// move under it first (a unit may not stay under one that ended), then the merge.
    /// </summary>
    public static string MergeBody(string id, IReadOnlyList<Unit> units, string[] districts) => JsonSerializer.Serialize(new
    {
        reorganisationId = id,
        title = "Bench: two districts merged (illustrative)",
        effectiveFrom = "2022-01-01",
        changes = units.Where(u => districts.Skip(1).Contains(u.ParentId)).Select(u => (object)new { op = "move", unitId = u.UnitId, parentId = districts[0] })
            .Append(new { op = "merge", unitIds = districts, into = districts[0] }).ToArray(),
    });

    /// <summary>The widest statistics queries within the bounds: all of time by month, every root, and a province's children.</summary>
    static readonly string[] WideQueries =
    [
        "from=1900-01-01&to=2099-12-31&groupBy=unit,month",
        $"unitId={Province}&from=1900-01-01&to=2099-12-31&groupBy=unit,month",
    ];

    sealed record Timed(Latencies Latencies, string? Body, long Bytes, string Error);

    /// <summary>A few asks first (not timed), then <paramref name="times"/> timed asks one after another; the last 200's body.</summary>
    static async Task<Timed> TimeAsync(ServiceProcess service, string url, int times, int warmUp = 2)
    {
        var samples = new List<double>();
        string? body = null;
        long bytes = 0;
        string? error = null;
        for (var i = 0; i < warmUp + times; i++)
        {
            var watch = Stopwatch.StartNew();
            using var response = await service.Analyst.GetAsync(url);
            var content = await response.Content.ReadAsStringAsync();
            if (i >= warmUp) samples.Add(watch.Elapsed.TotalMilliseconds);
            if (response.StatusCode == HttpStatusCode.OK) { body = content; bytes = Encoding.UTF8.GetByteCount(content); }
            else error ??= $"; an error: {(int)response.StatusCode} {Short(content)}";
        }
        return new Timed(new Latencies(samples), body, bytes, error ?? "");
    }

    /// <summary>The bytes the service's managed heap has allocated since it started (the runtime's own counter, at /metrics).</summary>
    static async Task<long?> AllocatedBytesAsync(ServiceProcess service)
    {
        using var response = await service.Analyst.GetAsync("metrics");
        if (!response.IsSuccessStatusCode) return null;
        foreach (var line in (await response.Content.ReadAsStringAsync()).Split('\n'))
            if (line.StartsWith("dotnet_gc_heap_total_allocated_bytes", StringComparison.Ordinal)
                && double.TryParse(line[(line.LastIndexOf(' ') + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                return (long)value;
        return null;
    }

    static async Task<decimal> ActivitiesAsync(ServiceProcess service, string query)
    {
        using var response = await service.Analyst.GetAsync("api/v1/statistics?" + query);
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"GET statistics?{query}: {(int)response.StatusCode} {Short(body)}");
        return JsonDocument.Parse(body).RootElement.GetProperty("totals").TryGetProperty("activities", out var a) ? a.GetDecimal() : 0;
    }

    /// <summary>The rows and totals of two answers are the same (asOf echoes its instant; the rest must match).</summary>
    static bool SameFigures(string a, string b)
    {
        using var x = JsonDocument.Parse(a);
        using var y = JsonDocument.Parse(b);
        return x.RootElement.GetProperty("rows").GetRawText() == y.RootElement.GetProperty("rows").GetRawText()
            && x.RootElement.GetProperty("totals").GetRawText() == y.RootElement.GetProperty("totals").GetRawText();
    }

    static string Mib(long? bytes) => bytes is { } b ? $"{b / 1024.0 / 1024:0} MiB" : "n/a";

    static string Short(string text) => text.Length > 300 ? text[..300] + "…" : text;
}
