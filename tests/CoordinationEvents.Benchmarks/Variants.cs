using CoordinationEvents.Api.Statistics;
using Npgsql;

namespace CoordinationEvents.Benchmarks;

/// <summary>The inline-statistics service's runs (issue 8: inline against async, measured in the same run).</summary>
public sealed record InlineResult(LoadResult Post, LoadResult Batch, long? PeakRssBytes, string Check);

/// <summary>
/// The two variants measured beside the service, each in a database of its own on the same server:
/// <list type="bullet">
/// <item>the service with <c>Statistics__Inline=true</c> (the statistics applied in each append's transaction, no
/// daemon lag), single POST at 32 clients and batches of 1,000 at 2 clients;</item>
/// <item>the idiomatic peer (Peer/: one Wolverine.Http endpoint, one Marten session and transaction per request, no
/// group commit), single POST at 32 clients.</item>
/// </list>
/// </summary>
public static class Variants
{
    public static async Task<InlineResult> InlineAsync(BenchServer server, BenchOptions options, string scratch, CpuMeter meter, Results results, BodyPool bodies)
    {
        var connectionString = await server.CreateDatabaseAsync("bench_inline");
        LoadResult post, batch;
        long? rss;
        await using (var service = await ServiceProcess.StartAsync(connectionString, "inline", scratch, new Dictionary<string, string> { ["Statistics__Inline"] = "true" }))
        {
            meter.ServicePid = service.Pid;
            Log.Line($"service (statistics inline) pid {service.Pid}: warm-up 8 clients for {options.Warmup.TotalSeconds:0} s");
            await Ingest.SinglePostAsync(service.Reporter, bodies, 8, options.Warmup);
            var cpu = meter.Take();
            post = await Ingest.SinglePostAsync(service.Reporter, bodies, 32, options.RunDuration);
            results.AddCpu("single POST, 32 clients, statistics inline", CpuSplit.Between(cpu, meter.Take()), post.Stored, "activity");
            Log.Line($"POST 32 clients, statistics inline: {post.PerSecond:N0} activities/s, p50 {Format.Ms(post.Latencies.P50)}, p99 {Format.Ms(post.Latencies.P99)}"
                + (post.Failed > 0 ? $", {post.Failed} failed: {post.FirstError}" : ""));
            await Ingest.BatchPostAsync(service.Reporter, bodies, 1, BenchOptions.BatchSize, TimeSpan.FromMilliseconds(1));
            cpu = meter.Take();
            batch = await Ingest.BatchPostAsync(service.Reporter, bodies, options.BatchClients, BenchOptions.BatchSize, options.RunDuration);
            results.AddCpu($"batch POST, {options.BatchClients} clients, statistics inline", CpuSplit.Between(cpu, meter.Take()), batch.Stored, "activity");
            Log.Line($"batch POST, statistics inline: {batch.PerSecond:N0} activities/s, p50 {Format.Ms(batch.Latencies.P50)} per batch"
                + (batch.Failed > 0 ? $", {batch.Failed} failed: {batch.FirstError}" : ""));
            rss = service.PeakRssBytes;
        }
        meter.ServicePid = null;
        var check = await CheckInlineAsync(connectionString, scratch, results);
        return new InlineResult(post, batch, rss, check);
    }

    /// <summary>
    /// The inline service's verify cannot be asked (its projection keeps no position: verify would compare the figures
    /// with no events). Instead: keep a copy of its tables, start the default (async) service on the same database, have
    /// it rebuild the statistics from the events (the set-based fill), verify that (0 differences), and compare the
    /// inline copy with the rebuilt tables row by row.
    /// </summary>
    static async Task<string> CheckInlineAsync(string connectionString, string scratch, Results results)
    {
        await using var db = NpgsqlDataSource.Create(connectionString);
        var c = StatisticsProjection.Cells;
        var s = StatisticsProjection.Stocks;
        await BenchServer.ExecuteAsync(db, $"create table inline_cells as table {c}; create table inline_stocks as table {s}");
        await using var service = await ServiceProcess.StartAsync(connectionString, "inline-check", scratch);
        // The rebuild fills up to the daemon's high water mark: wait until it has seen every event.
        await StatisticsBench.WaitForHighWaterMarkAsync(db);
        await StatisticsBench.RebuildAsync(service, db);
        // Marten writes a 'tombstone' event for the sequence numbers of an append that failed (here: the inline
        // service's deadlocks); the service's verify reads every event and answers 500 on one (Admin/VerifyFigures.cs).
        var tombstones = await BenchServer.ScalarAsync<long>(db, "select count(*) from mt_events where type = 'tombstone'");
        string verified;
        try
        {
            var v = await Verification.RunAsync(service, "after the inline runs (their events rebuilt by the async service)", results);
            verified = $"verified, {v.DifferenceCount} differences";
        }
        catch (InvalidOperationException e) when (tombstones > 0 && !e.Message.StartsWith("VERIFY FAILED", StringComparison.Ordinal))
        {
            verified = $"verify could not be asked: it failed on the {tombstones:N0} 'tombstone' events Marten wrote for the inline service's failed appends ({e.Message.Split('\n')[0][..Math.Min(160, e.Message.Split('\n')[0].Length)]})";
            Log.Line($"inline check: {verified}");
        }
        const string cellColumns = "unit_id, period, bucket, kind, d1, d2, v0, v1, v2, v3, v4, v5, v6, v7";
        const string stockColumns = "activity_id, unit_id, occurred_on, recorded_at, v1, v2, v3, v4, v5, v6, v7";
        // Stocks are joined by activity; recorded_at is compared exactly (both paths cut .NET's 100 ns ticks to the
        // microsecond: StatisticsProjection.ToMicroseconds), and the 1 µs differences are also counted apart.
        var differing = await BenchServer.ScalarAsync<long>(db, $"""
            select (select count(*) from ((select {cellColumns} from inline_cells except all select {cellColumns} from {c})
                                          union all (select {cellColumns} from {c} except all select {cellColumns} from inline_cells)) x)
                 + (select count(*) from inline_stocks a full join {s} b on a.activity_id = b.activity_id
                    where a.activity_id is null or b.activity_id is null
                       or row(a.unit_id, a.occurred_on, a.v1, a.v2, a.v3, a.v4, a.v5, a.v6, a.v7) is distinct from row(b.unit_id, b.occurred_on, b.v1, b.v2, b.v3, b.v4, b.v5, b.v6, b.v7)
                       or a.recorded_at <> b.recorded_at)
            """);
        var microsecond = await BenchServer.ScalarAsync<long>(db, $"select count(*) from inline_stocks a join {s} b using (activity_id) where a.recorded_at <> b.recorded_at");
        var cells = await BenchServer.ScalarAsync<long>(db, "select count(*) from inline_cells");
        var stocks = await BenchServer.ScalarAsync<long>(db, "select count(*) from inline_stocks");
        var events = await BenchServer.ScalarAsync<long>(db, "select count(*) from mt_events");
        var message = $"Inline check: the inline service's {cells:N0} cells and {stocks:N0} stocks (after its {events:N0} events, {tombstones:N0} of them Marten's tombstones of failed appends) against the set-based rebuild of the same events by the default service ({verified}): {differing:N0} rows differ ({microsecond:N0} stocks' recorded_at differ; both cut .NET's 100 ns ticks to the microsecond).";
        Log.Line(message);
        if (differing != 0)
        {
            // Not fatal (inline is a measurement, not the service's setting), but loud, with the first rows.
            var sample = new List<string>();
            await using (var cmd = db.CreateCommand($"""
                (select 'inline only' as side, 'cell' as t, row({cellColumns})::text as r from (select {cellColumns} from inline_cells except all select {cellColumns} from {c}) a limit 5)
                union all (select 'rebuild only', 'cell', row({cellColumns})::text from (select {cellColumns} from {c} except all select {cellColumns} from inline_cells) b limit 5)
                union all (select 'inline only', 'stock', row({stockColumns})::text from (select {stockColumns} from inline_stocks except all select {stockColumns} from {s}) d limit 3)
                union all (select 'rebuild only', 'stock', row({stockColumns})::text from (select {stockColumns} from {s} except all select {stockColumns} from inline_stocks) e limit 3)
                """))
            await using (var reader = await cmd.ExecuteReaderAsync())
                while (await reader.ReadAsync()) sample.Add($"{reader.GetString(0)} {reader.GetString(1)} {reader.GetString(2)}");
            message = $"**INLINE FIGURES DIFFER** {message} First ones: {string.Join("; ", sample)}";
            Log.Line(message);
        }
        return message;
    }

    /// <summary>The idiomatic peer: single POST at 32 clients after the same warm-up.</summary>
    public static async Task<(LoadResult Post, long? PeakRssBytes)> PeerAsync(BenchServer server, BenchOptions options, string scratch, CpuMeter meter, Results results, BodyPool bodies)
    {
        var connectionString = await server.CreateDatabaseAsync("bench_peer");
        await using var peer = await ServiceProcess.StartAsync(ServiceProcess.PeerAssembly(), connectionString, "peer", scratch, null);
        meter.ServicePid = peer.Pid;
        Log.Line($"idiomatic peer pid {peer.Pid}: warm-up 8 clients for {options.Warmup.TotalSeconds:0} s");
        await Ingest.SinglePostAsync(peer.Reporter, bodies, 8, options.Warmup);
        var cpu = meter.Take();
        var post = await Ingest.SinglePostAsync(peer.Reporter, bodies, 32, options.RunDuration);
        results.AddCpu("idiomatic peer, single POST, 32 clients", CpuSplit.Between(cpu, meter.Take()), post.Stored, "activity");
        Log.Line($"peer POST 32 clients: {post.PerSecond:N0} activities/s, p50 {Format.Ms(post.Latencies.P50)}, p99 {Format.Ms(post.Latencies.P99)}"
            + (post.Failed > 0 ? $", {post.Failed} failed: {post.FirstError}" : ""));
        await using var db = NpgsqlDataSource.Create(connectionString);
        var stored = await BenchServer.ScalarAsync<long>(db, "select count(*) from mt_streams");
        Log.Line($"peer: {stored:N0} streams stored");
        meter.ServicePid = null;
        return (post, peer.PeakRssBytes);
    }
}
