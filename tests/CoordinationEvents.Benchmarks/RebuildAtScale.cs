using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Statistics;
using Npgsql;

namespace CoordinationEvents.Benchmarks;

/// <summary>The rebuild at 1M (issue 8's floor and issue 10's target are at 1M), and where its time went.</summary>
public sealed record RebuildAtScaleResult(RebuildResult Rebuild, double GenerateSeconds, double HighWaterMarkSeconds, string? ServiceLine,
    double FillMs, double IndexMs, string PlanFile, IReadOnlyList<string> PlanSummary,
    IReadOnlyList<string> Activity, RebuildResult Second, string? SecondServiceLine, IReadOnlyList<string> SecondActivity);

/// <summary>
/// <c>--rebuild-1m</c> (<c>make bench REBUILD_1M=1</c>): without the 10M run, a database of its own with 1M activities
/// generated as <see cref="StatisticsBench"/> does (Marten's bulk COPY, the service stopped), then the service is
/// started and the rebuild asked as soon as the daemon's high water mark has reached the last event (the rebuild fills
/// up to that mark), without waiting for the async projection to catch up; timed until <c>lastRebuildCompletedAt</c>
/// changes; verified (0 differences). Then the fill alone, under <c>EXPLAIN (ANALYZE, BUFFERS)</c> into scratch tables,
/// and the indexes built after it, timed, in a transaction that is rolled back.
/// </summary>
public static partial class RebuildAtScale
{
    public static async Task<RebuildAtScaleResult> RunAsync(BenchServer server, long size, string scratch, CpuMeter meter, Results results)
    {
        await using var db = await server.CreateServiceStoreAsync("bench_rebuild");
        var units = BenchUnits.Grown();
        await BenchUnits.InsertAsync(db.Store, units);
        Log.Line($"rebuild at {Format.Size(size)}: generating {size:N0} activities by Marten's bulk COPY, no service running");
        var generate = Stopwatch.StartNew();
        var cpu = meter.Take();
        await StatisticsBench.GenerateAsync(db.Store, new ActivityFactory(units), 0, size);
        results.AddCpu($"bulk generation 0 → {Format.Size(size)} (rebuild database)", CpuSplit.Between(cpu, meter.Take()), size, "activity");
        var generateSeconds = generate.Elapsed.TotalSeconds;
        // As a database that has been running would be (and so that autovacuum does not start on them mid-rebuild).
        foreach (var table in new[] { "mt_events", "mt_streams", "mt_doc_activityview" }) await BenchServer.ExecuteAsync(db.DataSource, $"vacuum analyze {table}");

        RebuildResult rebuild, second;
        double hwmSeconds;
        string? line, secondLine;
        IReadOnlyList<string> activity, secondActivity;
        await using (var service = await ServiceProcess.StartAsync(db.ConnectionString, $"rebuild-{Format.Size(size)}", scratch))
        {
            meter.ServicePid = service.Pid;
            hwmSeconds = await StatisticsBench.WaitForHighWaterMarkAsync(db.DataSource);
            Log.Line($"rebuild at {Format.Size(size)}: the daemon's high water mark reached the last event {hwmSeconds:0.0} s after the service was ready; asking for the rebuild");
            cpu = meter.Take();
            var sampler = new ActivitySampler(server.Server.AdminConnectionString);
            sampler.Start();
            rebuild = await StatisticsBench.RebuildAsync(service, db.DataSource);
            activity = await sampler.StopAsync();
            results.AddCpu($"rebuild at {Format.Size(size)} ({rebuild.Events:N0} events, asked at once after start)", CpuSplit.Between(cpu, meter.Take()), rebuild.Events, "event");
            line = await ServiceLineAsync(service, 1);
            Log.Line($"rebuild at {Format.Size(size)}: the service says: {line ?? "(no \"Statistics rebuilt\" line in its log)"}; backends: {string.Join("; ", activity)}");
            await Verification.RunAsync(service, $"after the rebuild at {Format.Size(size)} (asked at once after start)", results);

            // Again, the daemon idle (caught up at the mark) and the caches warm: what the start-up costs the first one.
            cpu = meter.Take();
            sampler = new ActivitySampler(server.Server.AdminConnectionString);
            sampler.Start();
            second = await StatisticsBench.RebuildAsync(service, db.DataSource);
            secondActivity = await sampler.StopAsync();
            results.AddCpu($"second rebuild at {Format.Size(size)} (daemon idle)", CpuSplit.Between(cpu, meter.Take()), second.Events, "event");
            secondLine = await ServiceLineAsync(service, 2);
            Log.Line($"second rebuild at {Format.Size(size)}: the service says: {secondLine}; backends: {string.Join("; ", secondActivity)}");
        }
        meter.ServicePid = null;

        var (fillMs, indexMs, planFile, summary) = await ExplainFillAsync(db.DataSource, scratch);
        return new RebuildAtScaleResult(rebuild, generateSeconds, hwmSeconds, line, fillMs, indexMs, planFile, summary, activity, second, secondLine, secondActivity);
    }

    /// <summary>The service's n-th "Statistics rebuilt up to event {Mark} in {Seconds} s" line (logged just after the swap commits).</summary>
    static async Task<string?> ServiceLineAsync(ServiceProcess service, int n)
    {
        for (var i = 0; i < 30; i++)
        {
            var lines = File.ReadLines(service.LogPath).Where(l => l.Contains("Statistics rebuilt up to event", StringComparison.Ordinal)).ToList();
            if (lines.Count >= n) return lines[n - 1].Trim();
            await Task.Delay(100);
        }
        return null;
    }

    /// <summary>The service's fill statement under EXPLAIN ANALYZE into scratch tables, then its indexes, all rolled back.</summary>
    static async Task<(double FillMs, double IndexMs, string PlanFile, IReadOnlyList<string> Summary)> ExplainFillAsync(NpgsqlDataSource dataSource, string scratch)
    {
        Log.Line("rebuild: EXPLAIN (ANALYZE, BUFFERS) of the fill into scratch tables (rolled back)");
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var tx = await connection.BeginTransactionAsync();
        const string cells = "explain_cells", stocks = "explain_stocks";
        long mark;
        await using (var cmd = new NpgsqlCommand($"""
            create table {cells} (like {StatisticsProjection.Cells} including defaults including constraints);
            create table {stocks} (like {StatisticsProjection.Stocks} including defaults including constraints);
            set local work_mem = '256MB'; set local jit = off;
            """, connection) { CommandTimeout = 0 })
            await cmd.ExecuteNonQueryAsync();
        await using (var cmd = new NpgsqlCommand("select coalesce((select last_seq_id from mt_event_progression where name = 'HighWaterMark'), 0)", connection))
            mark = (long)(await cmd.ExecuteScalarAsync())!;
        var ancestry = (await UnitDirectory.LoadAsync(connection, DateOnly.FromDateTime(DateTime.UtcNow), default)).Ancestry();
        var plan = new StringBuilder();
        var watch = Stopwatch.StartNew();
        // The fill's two halves, one after the other here (the rebuild runs them side by side on two connections).
        foreach (var part in Enum.GetValues<StatisticsProjection.FillPart>())
        {
            plan.AppendLine($"-- {part}");
            await using var cmd = new NpgsqlCommand("explain (analyze, buffers, verbose off) " + StatisticsProjection.FillSql(cells, stocks, part), connection) { CommandTimeout = 0 };
            StatisticsProjection.AddFillParameters(cmd, mark, ancestry);
            await using var reader = await cmd.ExecuteReaderAsync();
            while (await reader.ReadAsync()) plan.AppendLine(reader.GetString(0));
        }
        var fillMs = watch.Elapsed.TotalMilliseconds;
        watch.Restart();
        await using (var cmd = new NpgsqlCommand($"""
            alter table {cells} add constraint {cells}_pkey primary key (unit_id, period, bucket, kind, d1, d2);
            alter table {stocks} add constraint {stocks}_pkey primary key (activity_id);
            create index {stocks}_latest on {stocks} (unit_id, occurred_on, recorded_at, activity_id);
            """, connection) { CommandTimeout = 0 })
            await cmd.ExecuteNonQueryAsync();
        var indexMs = watch.Elapsed.TotalMilliseconds;
        await tx.RollbackAsync();

        var planFile = Path.Combine(ServiceProcess.RepositoryRoot(), "tests", "CoordinationEvents.Benchmarks", "rebuild-plan.txt");
        await File.WriteAllTextAsync(planFile, $"EXPLAIN (ANALYZE, BUFFERS) of StatisticsProjection.FillSql up to event {mark}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC (make bench REBUILD_1M=1)\n\n{plan}");
        await File.WriteAllTextAsync(Path.Combine(scratch, "rebuild-plan.txt"), plan.ToString());
        var summary = Summarise(plan.ToString());
        Log.Line($"rebuild: fill {fillMs / 1000:0.0} s under EXPLAIN ANALYZE, indexes after it {indexMs / 1000:0.0} s; plan in {planFile}");
        foreach (var s in summary) Log.Line($"  {s}");
        return (fillMs, indexMs, planFile, summary);
    }

    /// <summary>The plan's nodes that took the most time of their own (a node's actual time × loops minus its direct children's; rough, CTEs are charged where they are first read).</summary>
    static IReadOnlyList<string> Summarise(string plan)
    {
        var nodes = new List<(int Indent, string Name, double Ms)>();
        foreach (var raw in plan.Split('\n'))
        {
            var m = NodeLine().Match(raw);
            if (!m.Success) continue;
            nodes.Add((raw.TakeWhile(ch => ch == ' ').Count(), m.Groups["name"].Value.Trim(),
                double.Parse(m.Groups["ms"].Value, CultureInfo.InvariantCulture) * long.Parse(m.Groups["loops"].Value, CultureInfo.InvariantCulture)));
        }
        var own = new List<(string Name, double Ms)>();
        for (var i = 0; i < nodes.Count; i++)
        {
            var below = nodes.Skip(i + 1).TakeWhile(n => n.Indent > nodes[i].Indent).ToList();
            var children = below.Count == 0 ? 0 : below.Where(n => n.Indent == below.Min(b => b.Indent)).Sum(n => n.Ms);
            own.Add((nodes[i].Name, Math.Max(0, nodes[i].Ms - children)));
        }
        var lines = own.OrderByDescending(o => o.Ms).Take(8).Select(o => $"{o.Ms / 1000:0.0} s own time: {o.Name}").ToList();
        if (ExecutionTime().Match(plan) is { Success: true } t) lines.Insert(0, $"Execution Time: {double.Parse(t.Groups[1].Value, CultureInfo.InvariantCulture) / 1000:0.0} s");
        return lines;
    }

    [GeneratedRegex(@"^\s*(->\s*)?(?<name>[A-Za-z][^(]*?)\s*\(cost=[^)]*\)\s*\(actual time=[\d.]+\.\.(?<ms>[\d.]+) rows=[\d.]+ loops=(?<loops>\d+)\)")]
    private static partial Regex NodeLine();

    [GeneratedRegex(@"Execution Time: ([\d.]+) ms")]
    private static partial Regex ExecutionTime();
}
/// <summary>
/// What the server's backends are doing, sampled every 500 ms during a rebuild (pg_stat_activity: backend type, wait
/// event, the statement's start), counted: a poor man's profile of where a rebuild's time goes (CPU when no wait event).
/// </summary>
public sealed class ActivitySampler(string connectionString)
{
    readonly CancellationTokenSource stop = new();
    readonly Dictionary<string, int> counts = [];
    int samples;
    Task? loop;

    public void Start() => loop = Task.Run(async () =>
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        while (!stop.IsCancellationRequested)
        {
            await using (var cmd = new NpgsqlCommand("""
                select coalesce(backend_type, '?') || ' ' || coalesce(wait_event_type || ':' || wait_event, 'on CPU') || ' ' ||
                       coalesce(regexp_replace(left(query, 48), '\s+', ' ', 'g'), '')
                from pg_stat_activity where pid <> pg_backend_pid() and (state = 'active' or backend_type not in ('client backend'))
                  and coalesce(query, '') not like 'select count(*)%' -- the bench's own ceiling and event count, before the rebuild is asked
                  and backend_type not in ('checkpointer', 'background writer', 'walwriter', 'logical replication launcher', 'autovacuum launcher', 'archiver')
                  or (backend_type in ('checkpointer', 'background writer', 'walwriter') and wait_event_type is distinct from 'Activity')
                """, connection))
            await using (var reader = await cmd.ExecuteReaderAsync())
                while (await reader.ReadAsync())
                {
                    var key = reader.GetString(0);
                    counts[key] = counts.GetValueOrDefault(key) + 1;
                }
            samples++;
            try { await Task.Delay(500, stop.Token); }
            catch (OperationCanceledException) { }
        }
    });

    /// <summary>The most frequent states, as "share of samples: state".</summary>
    public async Task<IReadOnlyList<string>> StopAsync()
    {
        stop.Cancel();
        await loop!;
        return counts.OrderByDescending(c => c.Value).Take(8)
            .Select(c => $"{100.0 * c.Value / Math.Max(1, samples):0}% {c.Key}").ToList();
    }
}
