using System.Globalization;
using System.Text;

namespace CoordinationEvents.Benchmarks;

/// <summary>Everything one run measured.</summary>
public sealed class Results
{
    public required BenchOptions Options { get; init; }
    public required string Machine { get; init; }
    public required string Postgres { get; init; }
    public DateTimeOffset StartedAt { get; init; } = DateTimeOffset.UtcNow;
    public TimeSpan Duration { get; set; }
    public string LoadBefore { get; set; } = "";
    public string LoadAfter { get; set; } = "";
    public CpuSplit? OtherCpu { get; set; }

    public int EventBytes { get; set; }
    public List<(PgbenchResult? Pgbench, LoadResult Post)> Single { get; } = [];
    public double CopyRowsPerSecond { get; set; } = double.NaN;
    public LoadResult? Batch { get; set; }
    public AppendResult? Store { get; set; }
    public LagResult? LagPost { get; set; }
    public LagResult? LagBatch { get; set; }
    public long? PeakRssBytes { get; set; }
    public StatisticsResults? Statistics { get; set; }
    public List<string> Notes { get; } = [];

    /// <summary>Every GET /api/v1/admin/verify the run asked, in order (each must find 0 differences).</summary>
    public List<VerifyResult> Verifications { get; } = [];

    /// <summary>Where the CPU went in each run: (what, split, items done, what an item is).</summary>
    public List<(string What, CpuSplit Cpu, double Items, string Item)> Cpu { get; } = [];

    /// <summary>Set while the run goes on: RESULTS.md is written after each long phase, marked partial.</summary>
    public string? InProgress { get; set; }

    public void AddCpu(string what, CpuSplit cpu, double items, string item)
    {
        lock (Cpu) Cpu.Add((what, cpu, items, item));
        Log.Line($"  CPU during {what}: {cpu.Use()}; per {item}: {cpu.PerItem(items)}");
    }
}

public sealed record Row(string Figure, string Value, string Ceiling, string Ratio, string Target, string Met);

/// <summary>The one table: each figure beside PostgreSQL's own ceiling on the same server in the same run.</summary>
public static class Report
{
    const string Yes = "yes", No = "**no**", NotApplicable = "—";

    public static IReadOnlyList<Row> Rows(Results r)
    {
        var rows = new List<Row>();
        foreach (var (pgbench, post) in r.Single)
        {
            var ratio = pgbench is null ? double.NaN : post.PerSecond / pgbench.Tps;
            var targeted = post.Clients == 32;
            rows.Add(new Row(
                $"single-activity POST, {post.Clients} client{(post.Clients == 1 ? "" : "s")}",
                $"{Format.Number(post.PerSecond)} activities/s; p50 {Format.Ms(post.Latencies.P50)}, p99 {Format.Ms(post.Latencies.P99)}{Failures(post)}",
                pgbench is null ? "pgbench not found" : $"pgbench -M prepared, 1 INSERT/transaction, {pgbench.Clients} client{(pgbench.Clients == 1 ? "" : "s")}: {Format.Number(pgbench.Tps)} rows/s",
                Format.Percent(ratio),
                targeted ? "≥ 50% of pgbench" : NotApplicable,
                targeted ? Met(ratio >= 0.5) : NotApplicable));
        }
        if (r.Batch is { } batch)
        {
            var ratio = batch.PerSecond / r.CopyRowsPerSecond;
            rows.Add(new Row(
                $"batch POST, {BenchOptions.BatchSize:N0} per batch, {batch.Clients} clients",
                $"{Format.Number(batch.PerSecond)} activities/s; p50 {Format.Ms(batch.Latencies.P50)} per batch{Failures(batch)}",
                $"binary COPY of {Format.Size(r.Options.CopyRows)} rows: {Format.Number(r.CopyRowsPerSecond)} rows/s",
                Format.Percent(ratio), "≥ 30% of COPY", Met(ratio >= 0.3)));
        }
        if (r.Store is { } store)
        {
            var pgbench8 = r.Single.FirstOrDefault(s => s.Pgbench?.Clients == BenchOptions.StoreWriters).Pgbench;
            rows.Add(new Row(
                $"store-level append (Marten: a LightweightSession and transaction per append, no HTTP), {store.Writers} writers",
                $"{Format.Number(store.PerSecond)} events/s; p50 {Format.Ms(store.Latencies.P50)}, p99 {Format.Ms(store.Latencies.P99)}",
                pgbench8 is null ? "pgbench not found" : $"pgbench -M prepared, {pgbench8.Clients} clients: {Format.Number(pgbench8.Tps)} rows/s",
                pgbench8 is null ? "n/a" : Format.Percent(store.PerSecond / pgbench8.Tps), NotApplicable, NotApplicable));
        }
        if (r.Statistics is { } statistics)
        {
            var largest = r.Options.StatisticsSizes.Max();
            foreach (var size in statistics.Sizes)
            {
                if (size.Skipped is not null)
                {
                    rows.Add(new Row($"statistics at {Format.Size(size.Size)}", "not measured", "", "", "p99 < 50 ms at 10M", size.Skipped));
                    continue;
                }
                foreach (var q in size.Queries)
                {
                    var targeted = size.Size == 10_000_000;
                    rows.Add(new Row(
                        $"statistics, {Format.Size(size.Size)}: {q.Query.Name}",
                        $"p50 {Format.Ms(q.Latencies.P50)}, p99 {Format.Ms(q.Latencies.P99)}",
                        $"select count(*) from mt_events: {Format.Ms(size.CountMs)}",
                        $"p99 = {Format.Percent(q.Latencies.P99 / size.CountMs)} of count(*)",
                        targeted ? "p99 < 50 ms at 10M" : size.Size == largest ? "(10M: p99 < 50 ms)" : NotApplicable,
                        targeted ? Met(q.Latencies.P99 < 50) : size.Size == largest ? $"not measured at 10M{(q.Latencies.P99 < 50 ? "; < 50 ms here" : "")}" : NotApplicable));
                }
            }
        }
        if (r.LagPost is { } lagPost) rows.Add(LagRow("async projection lag, during 32-client POST", lagPost));
        if (r.LagBatch is { } lagBatch) rows.Add(LagRow("async projection lag, during batch ingest", lagBatch));
        if (r.Statistics?.Rebuild is { } rebuild)
            rows.Add(new Row(
                $"rebuild of the statistics projection, {Format.Size(rebuild.Events)} events",
                $"{Format.Number(rebuild.PerSecond)} events/s ({rebuild.Seconds:0.0} s)",
                $"sequential read of mt_events (count, sum(length(data::text))): {Format.Number(rebuild.SequentialReadRowsPerSecond)} rows/s",
                Format.Percent(rebuild.PerSecond / rebuild.SequentialReadRowsPerSecond),
                "≥ 50k events/s" + (rebuild.Events < 1_000_000 ? " (replaying 1M)" : ""),
                Met(rebuild.PerSecond >= 50_000) + (rebuild.Events < 1_000_000 ? $" (at {Format.Size(rebuild.Events)})" : "")));
        if (r.PeakRssBytes is { } rss)
            rows.Add(new Row("memory: the service's peak RSS during the ingest runs", $"{rss / 1024.0 / 1024.0:0} MiB", NotApplicable, NotApplicable, NotApplicable, NotApplicable));
        if (r.Verifications.Count > 0)
        {
            var failed = r.Verifications.Count(v => v.DifferenceCount != 0);
            var last = r.Verifications[^1];
            rows.Add(new Row(
                "verify (GET /api/v1/admin/verify) after each ingest run, generation and rebuild",
                $"{r.Verifications.Sum(v => v.DifferenceCount):N0} differences in {r.Verifications.Count} checks (largest: {Format.Number(r.Verifications.Max(v => v.EventsChecked))} events, {Format.Number(r.Verifications.Max(v => v.CellsCompared))} cells)",
                NotApplicable, NotApplicable, "0 differences", Met(failed == 0)));
        }
        return rows;
    }

    /// <summary>Kept in the file until a full run on Marten replaces it (then drop this paragraph).</summary>
    const string PreviousFullRun =
        "The last full run (`make bench`, 2026-11-22, 54 min, quiet machine) was on the old home-made event store, before the move to Marten; " +
        "its table is in this file's git history (commit before `bench` moved onto Marten). It gave: single POST at 32 clients 2,281 activities/s " +
        "(36% of pgbench in simple query mode, 6,372 rows/s); batch POST 6,429 activities/s (8% of COPY); store-level append 1,975 events/s; " +
        "statistics p99 at 10M 22.8–55.2 ms; projection lag p99 218 ms (POST) and 516 ms (batch); rebuild of 1M 26,741 events/s; peak RSS 247 MiB. " +
        "Since then the pgbench ceiling runs with `-M prepared`, so ratios to it are not comparable with that run's.";

    static Row LagRow(string figure, LagResult lag) => new(
        figure,
        lag.Samples == 0 ? "no samples"
            : $"p99 {Format.Ms(lag.P99Ms)} ({Format.Number(lag.P99Events)} events); max {Format.Ms(lag.MaxMs)}; caught up {(double.IsNaN(lag.DrainMs) ? "n/a" : Format.Ms(lag.DrainMs))} after the load ({lag.Samples} samples)",
        NotApplicable, NotApplicable, "p99 < 1 s", lag.Samples == 0 ? "n/a" : Met(lag.P99Ms < 1_000));

    static string Met(bool met) => met ? Yes : No;

    static string Failures(LoadResult load) => load.Failed == 0 ? "" : $"; **{load.Failed:N0} failed requests**";

    public static string Table(IReadOnlyList<Row> rows)
    {
        static string Cell(string text) => text.Replace("|", "\\|");
        var table = new StringBuilder();
        table.AppendLine("| figure | value | PostgreSQL ceiling | ratio | target | met? |");
        table.AppendLine("| --- | --- | --- | --- | --- | --- |");
        foreach (var row in rows)
            table.AppendLine($"| {Cell(row.Figure)} | {Cell(row.Value)} | {Cell(row.Ceiling)} | {Cell(row.Ratio)} | {Cell(row.Target)} | {Cell(row.Met)} |");
        return table.ToString();
    }

    public static string Header(Results r)
    {
        var text = new StringBuilder();
        text.AppendLine($"- Date: {r.StartedAt.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC; mode: {r.Options.Mode} (`make bench{(r.Options.Quick ? " QUICK=1" : "")}`), {r.Duration.TotalMinutes:0.0} min");
        text.AppendLine($"- Machine: {r.Machine}");
        text.AppendLine($"- Database: {r.Postgres}");
        if (r.OtherCpu is { } other)
            text.AppendLine($"- Other work on the machine during the run: {other.OtherCpus:0.00} CPUs on average ({Format.Percent(other.OtherShare)} of its capacity); load average {r.LoadBefore} before, {r.LoadAfter} after"
                + (other.OtherShare > 0.1 ? ". **The figures are noisy**: other processes competed for the CPUs." : "."));
        if (r.Options.Note is { } note) text.AppendLine($"- Note: {note}");
        if (r.InProgress is { } progress) text.AppendLine($"- **Partial results: the run was still going ({progress}).**");
        return text.ToString();
    }

    public static string Markdown(Results r, IReadOnlyList<Row> rows)
    {
        var text = new StringBuilder();
        text.AppendLine("# CoordinationEvents benchmark results");
        text.AppendLine();
        text.AppendLine("Written by `make bench` (tests/CoordinationEvents.Benchmarks); each run overwrites this file.");
        text.AppendLine();
        text.AppendLine(PreviousFullRun);
        text.AppendLine();
        text.Append(Header(r));
        text.AppendLine();
        text.Append(Table(rows));
        text.AppendLine();
        text.AppendLine("How each figure was taken:");
        text.AppendLine($"- The service is the real API (Release build) as a child process on Kestrel at 127.0.0.1, against its own database on the same PostgreSQL server as every ceiling. Load clients, service and database share the machine's CPUs.");
        text.AppendLine($"- POST: closed loop, each client sends its next request when the previous one is answered, {r.Options.RunDuration.TotalSeconds:0} s per client count after a {r.Options.Warmup.TotalSeconds:0} s warm-up; every activity is new (own externalId), made from the 13 example bodies with dimensions, figures, seeded units and dates (2019–2024) varied. Latency is per request at the client.");
        text.AppendLine($"- pgbench: `pgbench -n -M prepared -c N -j min(N,2) -T {r.Options.RunDuration.TotalSeconds:0}` (prepared statements, as issue 10 asks; earlier runs used the simple query mode, which parses every statement), a script of one INSERT per transaction of an event-shaped row (uuid, int, text, the service's own {r.EventBytes} B activity-recorded event as Marten stores it, as jsonb; its headers as jsonb metadata; timestamptz; the texts bound as pgbench `-D` variables) into a table with a bigint identity primary key, in a scratch database on the same server. COPY: one Npgsql binary COPY of {Format.Size(r.Options.CopyRows)} of the same rows.");
        text.AppendLine($"- Store-level append (Marten): {BenchOptions.StoreWriters} tasks, each opening one LightweightSession per append, StartStream of one activity-recorded event (built and given its client header as ActivityCommands does) and SaveChangesAsync: one transaction per event, with the service's StoreOptions (ServiceSetup.EventStoreOptions: Quick append, the inline activity read model), no HTTP, no group commit, {r.Options.RunDuration.TotalSeconds:0} s, in a database of its own.");
        text.AppendLine("- Statistics: activities generated with Marten's bulk COPY (DocumentStore.BulkInsertEventsAsync for mt_streams and mt_events, BulkInsertAsync of the ActivityView documents that the service's inline projection makes, since the bulk event path projects nothing) over ~400 units (posts and communes under the 18 seeded districts), 13 kinds, 2019-01-01..2024-12-31, **with the service process stopped** (BulkInsertEventsAsync lets the daemon skip events still in flight: critter-stack.md); the service is then started, its async projection catches up, GET /api/v1/admin/verify must find 0 differences; then each query is asked " +
            $"{r.Options.QueryRepetitions} times in a row over HTTP (GET /api/v1/statistics, after 5 warm-ups). The ceiling is a plain `select count(*) from mt_events` (median of 3): a query that scanned would take at least that long.");
        text.AppendLine("- Projection lag: about every 100 ms during the load, the query that serves GET /api/v1/admin/projections (AdminEndpoints.StatusAsync: the projection's row in mt_event_progression against max(seq_id) and the events after it in mt_events), asked of the database directly: through the saturated service each answer took a few hundred ms, too coarse for this. Lag in events as the endpoint reports it; lag in time is how long ago the oldest unapplied event was committed (an upper bound, to within one sampling interval).");
        text.AppendLine("- Rebuild: POST /api/v1/admin/projections/statistics/rebuild, timed until `projections[0].lastRebuildCompletedAt` of GET /api/v1/admin/projections changes (polled every 100 ms). Ceiling: `select count(*), sum(length(data::text)) from mt_events`.");
        text.AppendLine("- Memory: VmHWM of the service process (from /proc) after the POST and batch runs.");
        text.AppendLine("- Verify: GET /api/v1/admin/verify (the service's independent recomputation from the raw events, compared with the projection at its position) after each POST run, after the batch run, after each generation and after the rebuild; a non-zero difference stops the benchmark.");
        if (r.Statistics is { } s)
        {
            text.AppendLine($"- The statistics database took {s.DatabaseBytes / 1024.0 / 1024.0 / 1024.0:0.00} GiB; " + string.Join("; ", s.Sizes.Where(z => z.Skipped is null).Select(z =>
                $"{Format.Size(z.Size)}: generated in {z.GenerateSeconds:0} s, projection caught up {z.CatchUpSeconds:0} s later")) + ".");
        }
        foreach (var note in r.Notes) text.AppendLine($"- {note}");
        if (r.Verifications.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("Verify (GET /api/v1/admin/verify) in this run:");
            text.AppendLine();
            text.AppendLine("| when | differences | events checked | position | active activities | cells | stocks | took |");
            text.AppendLine("| --- | --- | --- | --- | --- | --- | --- | --- |");
            lock (r.Verifications)
                foreach (var v in r.Verifications)
                    text.AppendLine($"| {v.When} | {(v.DifferenceCount == 0 ? "0" : $"**{v.DifferenceCount:N0}**")} | {v.EventsChecked:N0} | {v.Position} | {v.ActiveActivities:N0} | {v.CellsCompared:N0} | {v.StocksCompared:N0} | {v.Seconds:0.0} s |");
        }
        if (r.Cpu.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("Where the CPU went, from /proc: the load client is this program (in the store-level append and the bulk generation it is Marten itself, in this process), the service is its process, PostgreSQL all the server's processes; other processes is everything else on the machine (other agents' builds and tests, kernel I/O threads).");
            text.AppendLine();
            text.AppendLine("| run | CPUs in use on average | CPU time per item |");
            text.AppendLine("| --- | --- | --- |");
            lock (r.Cpu)
                foreach (var (what, cpu, items, item) in r.Cpu)
                    text.AppendLine($"| {what} | {cpu.Use()} | per {item}: {cpu.PerItem(items)} |");
        }
        return text.ToString();
    }
}
