using CoordinationEvents.Api.Core;
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
