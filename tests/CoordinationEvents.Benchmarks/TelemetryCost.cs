namespace CoordinationEvents.Benchmarks;

/// <summary>
/// Single POST at 32 clients with telemetry on and off (<c>Telemetry__Enabled=false</c>), issue 19's "never traded":
/// two services, each on a database of its own, warmed up alike, then measured in alternating runs (on, off, on, off …:
/// 1 round in a quick run, 3 in a full one) so that the machine's noise falls on both; the sums of each side.
/// </summary>
public static class TelemetryCost
{
    public static async Task<(LoadResult On, LoadResult Off)> RunAsync(BenchServer server, BenchOptions options, string scratch, BodyPool bodies)
    {
        var rounds = options.Quick ? 1 : 3;
        await using var on = await ServiceProcess.StartAsync(await server.CreateDatabaseAsync("bench_telemetry_on"), "telemetry-on", scratch);
        await using var off = await ServiceProcess.StartAsync(await server.CreateDatabaseAsync("bench_telemetry_off"), "telemetry-off", scratch,
            new Dictionary<string, string> { ["Telemetry__Enabled"] = "false" });
        Log.Line($"telemetry cost: single POST, 32 clients, {rounds} alternating round(s) of {options.RunDuration.TotalSeconds:0} s per side (on pid {on.Pid}, off pid {off.Pid})");
        await Ingest.SinglePostAsync(on.Reporter, bodies, 8, options.Warmup);
        await Ingest.SinglePostAsync(off.Reporter, bodies, 8, options.Warmup);
        var onRuns = new List<LoadResult>();
        var offRuns = new List<LoadResult>();
        for (var round = 0; round < rounds; round++)
        {
            onRuns.Add(await Ingest.SinglePostAsync(on.Reporter, bodies, 32, options.RunDuration));
            offRuns.Add(await Ingest.SinglePostAsync(off.Reporter, bodies, 32, options.RunDuration));
            Log.Line($"  round {round + 1}: on {onRuns[^1].PerSecond:N0}/s, off {offRuns[^1].PerSecond:N0}/s");
        }
        var (onAll, offAll) = (Sum(onRuns), Sum(offRuns));
        Log.Line($"telemetry cost: on {onAll.PerSecond:N0}/s, off {offAll.PerSecond:N0}/s: on is {onAll.PerSecond / offAll.PerSecond:P0} of off");
        return (onAll, offAll);
    }

    static LoadResult Sum(List<LoadResult> runs) => new(32, runs.Sum(r => r.Stored), runs.Sum(r => r.Failed), runs.Sum(r => r.Seconds),
        new Latencies(runs.SelectMany(r => r.Latencies.Samples)), runs.Select(r => r.FirstError).FirstOrDefault(e => e is not null));
}
