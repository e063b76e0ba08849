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
    public PgbenchResult? PgbenchSimple32 { get; set; }
    public ImportResult? Import { get; set; }
    public LagResult? LagImport { get; set; }
    public long? PeakRssBytes { get; set; }
    public StatisticsResults? Statistics { get; set; }
    public InlineResult? Inline { get; set; }
    public LoadResult? Peer { get; set; }

    /// <summary>Single POST at 32 clients, telemetry on and off (Telemetry__Enabled=false), alternating runs of the same length (issue 19).</summary>
    public (LoadResult On, LoadResult Off)? Telemetry { get; set; }
    public long? PeerPeakRssBytes { get; set; }
    public RebuildAtScaleResult? RebuildAtScale { get; set; }
    public List<string> Notes { get; } = [];

    /// <summary>pg_stat_statements tables of the ingest runs (StatementProfile).</summary>
    public List<string> StatementTables { get; } = [];

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

public sealed record Row(string Figure, string Value, string Ceiling, string Ratio, string Target, string Floor, string Met);

/// <summary>The one table: each figure beside PostgreSQL's own ceiling on the same server in the same run.</summary>
public static class Report
{
    const string Yes = "yes", No = "**no**", NotApplicable = "—";

    /// <summary>Issue 10's target and issue 8's floor (the figure may not fall below the last RESULTS.md), each met or not.</summary>
    static string Met(bool? target, bool? floor) =>
        target is null && floor is null ? NotApplicable
        : floor is null ? $"target {Met(target!.Value)}"
        : target is null ? $"floor {Met(floor.Value)}"
        : $"target {Met(target.Value)}; floor {Met(floor.Value)}";

    public static IReadOnlyList<Row> Rows(Results r)
    {
        var rows = new List<Row>();
        var pgbench32 = r.Single.FirstOrDefault(s => s.Pgbench?.Clients == 32).Pgbench;
        var async32 = r.Single.FirstOrDefault(s => s.Post.Clients == 32).Post;
        var pgbench32Ceiling = pgbench32 is null ? "pgbench not found" : $"pgbench -M prepared, 32 clients: {Format.Number(pgbench32.Tps)} rows/s";
        var copyCeiling = $"binary COPY of {Format.Size(r.Options.CopyRows)} rows: {Format.Number(r.CopyRowsPerSecond)} rows/s";
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
                targeted ? "≥ 33% of pgbench" : NotApplicable,
                targeted ? Met(ratio >= 0.5, ratio >= 0.33) : NotApplicable));
        }
        if (r.PgbenchSimple32 is { } simple && async32 is not null)
        {
            var ratio = async32.PerSecond / simple.Tps;
            rows.Add(new Row(
                "single-activity POST, 32 clients, against pgbench in simple query mode (the ceiling of the RESULTS.md that issue 8's floor comes from)",
                $"{Format.Number(async32.PerSecond)} activities/s (the run above)",
                $"pgbench -M simple, 1 INSERT/transaction, 32 clients: {Format.Number(simple.Tps)} rows/s",
                Format.Percent(ratio), NotApplicable, "≥ 33% of pgbench (then in simple mode)", $"floor {Met(ratio >= 0.33)}"));
        }
        if (r.Peer is { } peer)
        {
            var ratio = pgbench32 is null ? double.NaN : peer.PerSecond / pgbench32.Tps;
            rows.Add(new Row(
                "peer: the same POST written the idiomatic way (Peer/: one Wolverine.Http endpoint, one Marten session and transaction per request, no group commit), 32 clients",
                $"{Format.Number(peer.PerSecond)} activities/s; p50 {Format.Ms(peer.Latencies.P50)}, p99 {Format.Ms(peer.Latencies.P99)}{Failures(peer)}"
                    + (async32 is null ? "" : $"; the service does {async32.PerSecond / peer.PerSecond:0.00}× this")
                    + (r.PeerPeakRssBytes is { } prss ? $"; peak RSS {prss / 1024.0 / 1024.0:0} MiB" : ""),
                pgbench32Ceiling,
                Format.Percent(ratio), NotApplicable, NotApplicable, NotApplicable));
        }
        if (r.Telemetry is { } telemetry)
        {
            var (on, off) = telemetry;
            var ratio = on.PerSecond / off.PerSecond;
            rows.Add(new Row(
                "single-activity POST, 32 clients, **telemetry on / off** (Telemetry__Enabled=false; alternating runs, each service in a database of its own)",
                $"on {Format.Number(on.PerSecond)}/s (p99 {Format.Ms(on.Latencies.P99)}), off {Format.Number(off.PerSecond)}/s (p99 {Format.Ms(off.Latencies.P99)}): on is {Format.Percent(ratio)} of off{Failures(on)}{Failures(off)}"
                    + (pgbench32 is null ? "" : $"; on {Format.Percent(on.PerSecond / pgbench32.Tps)}, off {Format.Percent(off.PerSecond / pgbench32.Tps)} of pgbench"),
                pgbench32Ceiling,
                Format.Percent(ratio), NotApplicable, "telemetry costs < 5% (issue 19)", $"{Met(ratio >= 0.95)}"));
        }
        if (r.Inline is { } inline)
        {
            var ratio = pgbench32 is null ? double.NaN : inline.Post.PerSecond / pgbench32.Tps;
            rows.Add(new Row(
                "single-activity POST, 32 clients, **statistics inline** (Statistics__Inline=true)",
                $"{Format.Number(inline.Post.PerSecond)} activities/s; p50 {Format.Ms(inline.Post.Latencies.P50)}, p99 {Format.Ms(inline.Post.Latencies.P99)}{Failures(inline.Post)}"
                    + (async32 is null ? "" : $"; {Format.Percent(inline.Post.PerSecond / async32.PerSecond)} of the async service's")
                    + (inline.PeakRssBytes is { } irss ? $"; peak RSS {irss / 1024.0 / 1024.0:0} MiB" : ""),
                pgbench32Ceiling,
                Format.Percent(ratio), "≥ 50% of pgbench", "≥ 33% of pgbench", Met(ratio >= 0.5, ratio >= 0.33)));
        }
        if (r.Batch is { } batch)
        {
            var ratio = batch.PerSecond / r.CopyRowsPerSecond;
            rows.Add(new Row(
                $"batch POST, {BenchOptions.BatchSize:N0} per batch, {batch.Clients} clients",
                $"{Format.Number(batch.PerSecond)} activities/s; p50 {Format.Ms(batch.Latencies.P50)} per batch{Failures(batch)}",
                copyCeiling,
                Format.Percent(ratio), "≥ 30% of COPY", "≥ 8% of COPY", Met(ratio >= 0.3, ratio >= 0.08)));
        }
        if (r.Import is { } import)
        {
            var ratio = import.PerSecond / r.CopyRowsPerSecond;
            rows.Add(new Row(
                $"import job (POST /api/v1/imports, NDJSON) of {import.Lines:N0} activities, {import.Concurrent.Clients} clients posting single activities meanwhile",
                $"{Format.Number(import.PerSecond)} activities/s ({import.Seconds:0.0} s from the first byte to `completed`; upload {import.UploadSeconds:0.0} s); "
                    + $"{import.Created:N0} created{(import.NotCreated == 0 ? "" : $", **{import.NotCreated:N0} not**")}; the other clients meanwhile {Format.Number(import.Concurrent.PerSecond)} posts/s, p99 {Format.Ms(import.Concurrent.Latencies.P99)}{Failures(import.Concurrent)}",
                copyCeiling,
                Format.Percent(ratio), "≥ 50% of COPY (1M)", NotApplicable, $"target {Met(ratio >= 0.5)}"));
        }
        if (r.Inline is { } inlineBatch)
        {
            var b = inlineBatch.Batch;
            var ratio = b.PerSecond / r.CopyRowsPerSecond;
            rows.Add(new Row(
                $"batch POST, {BenchOptions.BatchSize:N0} per batch, {b.Clients} clients, **statistics inline**",
                $"{Format.Number(b.PerSecond)} activities/s; p50 {Format.Ms(b.Latencies.P50)} per batch{Failures(b)}"
                    + (r.Batch is null ? "" : $"; {Format.Percent(b.PerSecond / r.Batch.PerSecond)} of the async service's"),
                copyCeiling,
                Format.Percent(ratio), "≥ 30% of COPY", "≥ 8% of COPY", Met(ratio >= 0.3, ratio >= 0.08)));
        }
        if (r.Store is { } store)
        {
            var pgbench8 = r.Single.FirstOrDefault(s => s.Pgbench?.Clients == BenchOptions.StoreWriters).Pgbench;
            rows.Add(new Row(
                $"store-level append (Marten: a LightweightSession and transaction per append, no HTTP), {store.Writers} writers",
                $"{Format.Number(store.PerSecond)} events/s; p50 {Format.Ms(store.Latencies.P50)}, p99 {Format.Ms(store.Latencies.P99)}",
                pgbench8 is null ? "pgbench not found" : $"pgbench -M prepared, {pgbench8.Clients} clients: {Format.Number(pgbench8.Tps)} rows/s",
                pgbench8 is null ? "n/a" : Format.Percent(store.PerSecond / pgbench8.Tps), NotApplicable, NotApplicable, NotApplicable));
        }
        if (r.Statistics is { } statistics)
        {
            var largest = r.Options.StatisticsSizes.Max();
            foreach (var size in statistics.Sizes)
            {
                if (size.Skipped is not null)
                {
                    rows.Add(new Row($"statistics at {Format.Size(size.Size)}", "not measured", "", "", "p99 < 20 ms at 10M", "p99 ≤ 60 ms at 10M", size.Skipped));
                    continue;
                }
                foreach (var q in size.Queries)
                {
                    var targeted = size.Size == 10_000_000;
                    var p99 = q.Latencies.P99;
                    rows.Add(new Row(
                        $"statistics, {Format.Size(size.Size)}{(size.When is null ? "" : " " + size.When)}: {q.Query.Name}",
                        $"p50 {Format.Ms(q.Latencies.P50)}, p99 {Format.Ms(p99)}",
                        $"select count(*) from mt_events: {Format.Ms(size.CountMs)}",
                        $"p99 = {Format.Percent(p99 / size.CountMs)} of count(*)",
                        targeted ? "p99 < 20 ms" : size.Size == largest ? "(10M: p99 < 20 ms)" : NotApplicable,
                        targeted ? "p99 ≤ 60 ms" : size.Size == largest ? "(10M: p99 ≤ 60 ms)" : NotApplicable,
                        targeted ? Met(p99 < 20, p99 <= 60)
                            : size.Size == largest ? $"not measured at 10M; here {(p99 < 20 ? "< 20 ms" : p99 <= 60 ? "20–60 ms" : "> 60 ms")}" : NotApplicable));
                }
            }
        }
        if (r.LagPost is { } lagPost) rows.Add(LagRow("async projection lag, during 32-client POST", lagPost));
        if (r.LagBatch is { } lagBatch) rows.Add(LagRow("async projection lag, during batch ingest", lagBatch));
        if (r.LagImport is { } lagImport) rows.Add(LagRow("async projection lag, during the import", lagImport));
        if (r.Inline is not null)
            rows.Add(new Row("statistics lag with the statistics inline", "none: the figures commit with the activity (read-your-writes)", NotApplicable, NotApplicable,
                "p99 < 500 ms", "p99 < 1 s", Met(true, true)));
        if (r.Statistics?.Rebuild is { } rebuild) rows.Add(RebuildRow($"rebuild of the statistics projection, {Format.Size(rebuild.Events)} events", rebuild));
        if (r.RebuildAtScale is { } scale)
            rows.Add(RebuildRow($"rebuild of the statistics projection, {Format.Size(scale.Rebuild.Events)} events (--rebuild-1m: asked as soon as the service had started)", scale.Rebuild,
                $"; asked again with the daemon idle: {Format.Number(scale.Second.PerSecond)} events/s ({scale.Second.Seconds:0.0} s); fill alone {scale.FillMs / 1000:0.0} s (EXPLAIN ANALYZE), indexes after it {scale.IndexMs / 1000:0.0} s"));
        if (r.PeakRssBytes is { } rss)
            rows.Add(new Row("memory: the service's peak RSS during the ingest runs", $"{rss / 1024.0 / 1024.0:0} MiB", NotApplicable, NotApplicable, "< 300 MiB", NotApplicable,
                Met(rss < 300L * 1024 * 1024, null)));
        if (r.Verifications.Count > 0)
        {
            var failed = r.Verifications.Count(v => v.DifferenceCount != 0);
            rows.Add(new Row(
                "verify (GET /api/v1/admin/verify) after each ingest run, generation and rebuild",
                $"{r.Verifications.Sum(v => v.DifferenceCount):N0} differences in {r.Verifications.Count} checks (largest: {Format.Number(r.Verifications.Max(v => v.EventsChecked))} events, {Format.Number(r.Verifications.Max(v => v.CellsCompared))} cells)",
                NotApplicable, NotApplicable, "0 differences", "0 differences", Met(failed == 0, failed == 0)));
        }
        return rows;
    }

    static Row RebuildRow(string figure, RebuildResult rebuild, string extra = "")
    {
        var atScale = rebuild.Events >= 1_000_000;
        return new Row(figure,
            $"{Format.Number(rebuild.PerSecond)} events/s ({rebuild.Seconds:0.0} s){extra}",
            $"sequential read of mt_events (count, sum(length(data::text))): {Format.Number(rebuild.SequentialReadRowsPerSecond)} rows/s",
            Format.Percent(rebuild.PerSecond / rebuild.SequentialReadRowsPerSecond),
            "≥ 100k events/s at 1M", "≥ 27k events/s at 1M",
            Met(rebuild.PerSecond >= 100_000, rebuild.PerSecond >= 27_000) + (atScale ? "" : $" (at {Format.Size(rebuild.Events)}, not 1M)"));
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
        NotApplicable, NotApplicable, "p99 < 500 ms", "p99 < 1 s", lag.Samples == 0 ? "n/a" : Met(lag.P99Ms < 500, lag.P99Ms < 1_000));

    static string Met(bool met) => met ? Yes : No;

    static string Failures(LoadResult load) => load.Failed == 0 ? "" : $"; **{load.Failed:N0} failed requests**";

    public static string Table(IReadOnlyList<Row> rows)
    {
        static string Cell(string text) => text.Replace("|", "\\|");
        var table = new StringBuilder();
        table.AppendLine("| figure | value | PostgreSQL ceiling | ratio | target (issue 10) | floor (issue 8) | met? |");
        table.AppendLine("| --- | --- | --- | --- | --- | --- | --- |");
        foreach (var row in rows)
            table.AppendLine($"| {Cell(row.Figure)} | {Cell(row.Value)} | {Cell(row.Ceiling)} | {Cell(row.Ratio)} | {Cell(row.Target)} | {Cell(row.Floor)} | {Cell(row.Met)} |");
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
        text.AppendLine($"- pgbench: `pgbench -n -M prepared -c N -j min(N,2) -T {r.Options.RunDuration.TotalSeconds:0}` (prepared statements, as issue 10 asks; earlier runs used the simple query mode, which parses every statement, and at 32 clients it is also run in that mode, `-M simple`, for issue 8's floor, which was taken against it), a script of one INSERT per transaction of an event-shaped row (uuid, int, text, the service's own {r.EventBytes} B activity-recorded event as Marten stores it, as jsonb; its headers as jsonb metadata; timestamptz; the texts bound as pgbench `-D` variables) into a table with a bigint identity primary key, in a scratch database on the same server. COPY: one Npgsql binary COPY of {Format.Size(r.Options.CopyRows)} of the same rows.");
        text.AppendLine($"- Store-level append (Marten): {BenchOptions.StoreWriters} tasks, each opening one LightweightSession per append, StartStream of one activity-recorded event (built and given its client header as ActivityRecorder does) and SaveChangesAsync: one transaction per event, with the service's StoreOptions (ServiceSetup.EventStoreOptions: Quick append, the inline activity read model), no HTTP, no group commit, {r.Options.RunDuration.TotalSeconds:0} s, in a database of its own.");
        text.AppendLine("- Statistics: activities generated with Marten's bulk COPY (DocumentStore.BulkInsertEventsAsync for mt_streams and mt_events, BulkInsertAsync of the ActivityView documents that the service's inline projection makes, since the bulk event path projects nothing) over ~400 units (posts and communes under the 18 seeded districts), 13 kinds, 2019-01-01..2024-12-31, **with the service process stopped** (BulkInsertEventsAsync lets the daemon skip events still in flight: critter-stack.md); the service is then started, its async projection catches up, GET /api/v1/admin/verify must find 0 differences; then each query is asked " +
            $"{r.Options.QueryRepetitions} times in a row over HTTP (GET /api/v1/statistics, after 5 warm-ups). The ceiling is a plain `select count(*) from mt_events` (median of 3): a query that scanned would take at least that long.");
        text.AppendLine("- Projection lag: about every 100 ms during the load, the query that serves GET /api/v1/admin/projections (GetProjectionsEndpoint.StatusAsync: the projection's row in mt_event_progression against max(seq_id) and the events after it in mt_events), asked of the database directly: through the saturated service each answer took a few hundred ms, too coarse for this. Lag in events as the endpoint reports it; lag in time is how long ago the oldest unapplied event was committed (an upper bound, to within one sampling interval).");
        text.AppendLine("- Rebuild: POST /api/v1/admin/projections/statistics/rebuild, timed until the projection's `lastRebuildCompletedAt` changes (polled every 100 ms in `projection_rebuilds.completed_at`, where GET /api/v1/admin/projections reads it: the endpoint itself counts every event after the projection's position, ~1M rows per call during a rebuild after a start). Ceiling: `select count(*), sum(length(data::text)) from mt_events`.");
        if (r.Inline is not null)
            text.AppendLine("- Statistics inline: the same service started with `Statistics__Inline=true` (the statistics projection applied in each append's transaction; ServiceSetup.EventStoreOptions) in a database of its own, after the same warm-up, 32-client single POST and 2-client batches, every activity new (inline is only valid for new activities: Quick append does not tell it what a correction replaces). Its own verify cannot be asked (an inline projection keeps no position), so its tables are copied, the default (async) service is started on that database, rebuilds the statistics from the events with the set-based fill, verify checks that (0 differences), and the inline copy is compared with the rebuilt tables row by row (see the note below).");
        if (r.Peer is not null)
            text.AppendLine("- Peer: tests/CoordinationEvents.Benchmarks/Peer, a web app of its own (not in the solution; built by the bench), one Wolverine.Http endpoint that validates with ActivityRules.Check, starts the stream (same deterministic id, same event and headers) in the request's IDocumentSession and calls SaveChangesAsync: one session and one transaction per request. Same StoreOptions (ServiceSetup.EventStoreOptions), same pool settings, the async statistics projection under a HotCold daemon, IntegrateWithWolverine, TypeLoadMode.Dynamic (WolverineFx.RuntimeCompilation). It checks no API key and looks up no duplicate (the bench posts only new activities). Same load client, 8-client warm-up, 32 clients, in a database of its own.");
        if (r.RebuildAtScale is { } scale)
        {
            text.AppendLine($"- Rebuild at {Format.Size(scale.Rebuild.Events)} (`--rebuild-1m`, `make bench REBUILD_1M=1`): {Format.Size(scale.Rebuild.Events)} activities generated as for the statistics (bulk COPY, no service running, {scale.GenerateSeconds:0} s), the service started, the rebuild asked as soon as the daemon's high water mark had reached the last event ({scale.HighWaterMarkSeconds:0.0} s after the service was ready; the fill goes up to that mark) without waiting for the async projection, timed as above, then verified. The service logged: `{scale.ServiceLine ?? "nothing"}`; the server's backends, sampled every 500 ms: {string.Join("; ", scale.Activity)}. Asked again at once after it (the daemon idle at the mark, caches warm): {scale.Second.Seconds:0.0} s, `{scale.SecondServiceLine ?? "nothing"}`; backends: {string.Join("; ", scale.SecondActivity)}. Then the fill statement alone under `EXPLAIN (ANALYZE, BUFFERS)` into scratch tables: {scale.FillMs / 1000:0.0} s, and the three indexes built after it: {scale.IndexMs / 1000:0.0} s (rolled back). The plan is in `{Path.GetFileName(scale.PlanFile)}`; the nodes with the most time of their own: {string.Join("; ", scale.PlanSummary)}.");
        }
        text.AppendLine("- Memory: VmHWM of the service process (from /proc), reset before each ingest run (`echo 5 > /proc/<pid>/clear_refs`) and read at its end, before the verify that follows it: the largest of the runs. A verify folds every event again and is not ingest.");
        text.AppendLine("- Verify: GET /api/v1/admin/verify (the service's independent recomputation from the raw events, compared with the projection at its position) after each POST run, after the batch run, after each generation and after the rebuild; a non-zero difference stops the benchmark.");
        if (r.Statistics is { } s)
        {
            text.AppendLine($"- The statistics database took {s.DatabaseBytes / 1024.0 / 1024.0 / 1024.0:0.00} GiB; " + string.Join("; ", s.Sizes.Where(z => z.Skipped is null && z.When != SizeResult.AfterRebuild).Select(z =>
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
        foreach (var table in r.StatementTables)
        {
            text.AppendLine();
            text.Append(table);
        }
        return text.ToString();
    }
}
