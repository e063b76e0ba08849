using System.Text;
using CoordinationEvents.Benchmarks;
using Npgsql;

// `make bench` (QUICK=1 for a short run): every figure of the service beside PostgreSQL's own ceiling, measured
// on the same server in the same run. Progress goes to stderr; the table to stdout and to RESULTS.md.
var options = BenchOptions.Parse(args);
var scratch = Directory.CreateTempSubdirectory("ce-bench-").FullName;
Log.Line($"CoordinationEvents benchmark, {options.Mode} mode; scratch files (service logs, pgbench script) in {scratch}");
if (!options.Quick)
    Log.Line("full mode: on 2 busy cores expect well over half an hour; RESULTS.md is rewritten (marked partial) after each long phase");

// The idiomatic peer is a project of its own, not in the solution: built now, before anything is measured.
if (!options.IngestOnly && !options.StatisticsOnly && !options.Abuse && !options.ReorganisationOnly && !options.TelemetryOnly)
{
    Log.Line("building the idiomatic peer (Peer/)");
    await ServiceProcess.BuildPeerAsync(scratch);
}

var server = await BenchServer.StartAsync(args.Contains("--reuse-statistics") ? "bench_stats" : null);
Log.Line($"{server.Version} ({server.Settings}) on {server.Where}");
var results = new Results
{
    Options = options,
    Machine = Machine.Describe(),
    Postgres = $"{server.Version}, {server.Settings}" + (server.Server.IsExternal ? $" ({BenchServer.ExternalVariable})" : ", a throwaway cluster started by the benchmark"),
    LoadBefore = Machine.LoadAverage(),
};
var meter = new CpuMeter(server.PostmasterPid);
var runStart = meter.Take();
var resultsFile = Path.Combine(ServiceProcess.RepositoryRoot(), "tests", "CoordinationEvents.Benchmarks", "RESULTS.md");

async Task WriteResultsAsync()
{
    results.OtherCpu = meter.KnowsPostgres ? CpuSplit.Between(runStart, meter.Take()) : null;
    results.LoadAfter = Machine.LoadAverage();
    results.Duration = Log.Elapsed;
    // The abuse run's section (make bench-abuse) stays as that run left it.
    var kept = File.Exists(resultsFile) ? ResultsSections.Find(await File.ReadAllTextAsync(resultsFile), ResultsSections.Abuse) : null;
    var markdown = Report.Markdown(results, Report.Rows(results));
    await File.WriteAllTextAsync(resultsFile, kept is null ? markdown : ResultsSections.Replace(markdown, ResultsSections.Abuse, kept));
}

if (options.Abuse)
{
    // The careless client's loads (issue 21.7): their own section of RESULTS.md, the rest of it left as it is.
    var abuse = await AbuseBench.RunAsync(server, options, scratch, results);
    var section = AbuseBench.Markdown(abuse, options, results.Machine, results.Postgres);
    Console.WriteLine();
    Console.Write(section);
    var existing = File.Exists(resultsFile) ? await File.ReadAllTextAsync(resultsFile) : "";
    await File.WriteAllTextAsync(resultsFile, ResultsSections.Replace(existing, ResultsSections.Abuse, section));
    Log.Line($"written to {resultsFile} (its abuse section)");
    NpgsqlConnection.ClearAllPools();
    server.Server.Stop();
    Directory.Delete(scratch, recursive: true);
    return 0;
}

if (options.ReorganisationOnly)
{
    foreach (var line in await ReorganisationBench.RunAsync(server, options, scratch)) Console.WriteLine(line);
    NpgsqlConnection.ClearAllPools();
    server.Server.Stop();
    Directory.Delete(scratch, recursive: true);
    return 0;
}

var seedFactory = new ActivityFactory(BenchUnits.Seed);
var row = EventRow.Sample(seedFactory);
results.EventBytes = Encoding.UTF8.GetByteCount(row.Data);

// Ceilings that need no service: the scratch table, and COPY.
await using var scratchDb = NpgsqlDataSource.Create(await server.CreateDatabaseAsync("bench_scratch"));
await Ceilings.CreateTableAsync(scratchDb);
var pgbench = Ceilings.FindPgbench();
var script = Ceilings.WriteScript(scratch, row);
if (pgbench is null) results.Notes.Add("pgbench was not found (PATH, /usr/lib/postgresql/*/bin): no pgbench ceilings.");
Log.Line($"COPY ceiling: {options.CopyRows:N0} event-shaped rows ({results.EventBytes} B of event data each)");
results.CopyRowsPerSecond = await Ceilings.CopyRowsPerSecondAsync(scratchDb, row, options.CopyRows);
Log.Line($"COPY ceiling: {results.CopyRowsPerSecond:N0} rows/s");

if (options.TelemetryOnly)
{
    var ceiling = pgbench is null ? null : await Ceilings.PgbenchAsync(pgbench, scratchDb.ConnectionString, script, 32, options.RunDuration);
    var (on, off) = await TelemetryCost.RunAsync(server, options, scratch, new BodyPool(seedFactory, 2_000));
    Console.WriteLine($"single POST, 32 clients: telemetry on {on.PerSecond:N0}/s (p99 {Format.Ms(on.Latencies.P99)}), off {off.PerSecond:N0}/s (p99 {Format.Ms(off.Latencies.P99)}): "
        + $"on is {on.PerSecond / off.PerSecond:P1} of off (issue 19: telemetry costs < 5%)"
        + (ceiling is null ? "" : $"; pgbench -M prepared, 32 clients: {ceiling.Tps:N0} rows/s: on {on.PerSecond / ceiling.Tps:P0}, off {off.PerSecond / ceiling.Tps:P0} (issue 17: ≥ 22%)"));
    return PrintAndStop(printStatements: false);
}

// The service under load: single POSTs at 1, 8 and 32 clients, each after pgbench at the same client count; then batches.
if (options.StatisticsOnly)
{
    // A short look at the statistics queries (--statistics-only): printed, RESULTS.md left as it is.
    await StatisticsBench.RunAsync(server, options, scratch, meter, results, () => Task.CompletedTask);
    return PrintAndStop(printStatements: true);
}
var ingestDb = await server.CreateDatabaseAsync("bench_ingest");
await using (var service = await ServiceProcess.StartAsync(ingestDb, "ingest", scratch))
await using (var lagDb = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(ingestDb) { MaxPoolSize = 2 }.ConnectionString))
{
    var statements = new StatementProfile(lagDb);
    meter.ServicePid = service.Pid;
    Log.Line($"service (ingest) pid {service.Pid} at {service.BaseAddress}");
    var bodies = new BodyPool(seedFactory, 2_000);
    Log.Line($"warm-up: 8 clients POST for {options.Warmup.TotalSeconds:0} s");
    await Ingest.SinglePostAsync(service.Reporter, bodies, 8, options.Warmup);
    // The peak RSS of the ingest runs alone: reset before each, read at its end, before its verify.
    void StartPeak() => Machine.ResetPeakRss(service.Pid);
    void EndPeak(string run)
    {
        if (service.PeakRssBytes is not { } peak) return;
        results.PeakRssBytes = Math.Max(results.PeakRssBytes ?? 0, peak);
        Log.Line($"  service peak RSS during {run}: {peak / 1024 / 1024} MiB");
    }

    foreach (var clients in options.BatchOnly ? [] : BenchOptions.ClientCounts)
    {
        PgbenchResult? ceiling = null;
        if (pgbench is not null)
        {
            ceiling = await Ceilings.PgbenchAsync(pgbench, scratchDb.ConnectionString, script, clients, options.RunDuration);
            Log.Line($"pgbench {clients} clients: {ceiling.Tps:N0} rows/s (latency avg {ceiling.LatencyAverageMs:0.00} ms)");
            if (clients == 32)
            {
                // The ceiling the last RESULTS.md before issue 10 used, and issue 8's floor was taken against.
                results.PgbenchSimple32 = await Ceilings.PgbenchAsync(pgbench, scratchDb.ConnectionString, Ceilings.WriteLiteralScript(scratch, row), clients, options.RunDuration, "simple");
                Log.Line($"pgbench {clients} clients, simple query mode: {results.PgbenchSimple32.Tps:N0} rows/s");
            }
        }
        var lag = clients == 32 ? new LagSampler(lagDb) : null;
        if (clients == 32) await statements.ResetAsync();
        lag?.Start();
        var cpu = meter.Take();
        StartPeak();
        var post = await Ingest.SinglePostAsync(service.Reporter, bodies, clients, options.RunDuration);
        EndPeak($"the {clients}-client POST run");
        var split = CpuSplit.Between(cpu, meter.Take());
        if (clients == 32) results.StatementTables.Add(StatementProfile.Table("the 32-client single POST run", await statements.ReadAsync(), post.Stored, "activity"));
        if (lag is not null) results.LagPost = await lag.StopAsync();
        Log.Line($"POST {clients} clients: {post.PerSecond:N0} activities/s, p50 {Format.Ms(post.Latencies.P50)}, p99 {Format.Ms(post.Latencies.P99)}"
            + (post.Failed > 0 ? $", {post.Failed} failed: {post.FirstError}" : ""));
        results.AddCpu($"single POST, {clients} client{(clients == 1 ? "" : "s")}", split, post.Stored, "activity");
        results.Single.Add((ceiling, post));
        await Verification.RunAsync(service, $"after the {clients}-client POST run", results);
    }
    if (results.LagPost is { } lp) Log.Line($"projection lag during 32-client POST: p99 {Format.Ms(lp.P99Ms)} ({lp.P99Events:0} events)");

    Log.Line($"batch POST: {options.BatchClients} clients, {BenchOptions.BatchSize:N0} per batch, {options.RunDuration.TotalSeconds:0} s");
    // Warm-up: one batch, or, when nothing ran before (--batch-only), batches for as long as the run itself (the JIT tiers the batch path up meanwhile).
    await Ingest.BatchPostAsync(service.Reporter, bodies, 1, BenchOptions.BatchSize, options.BatchOnly ? options.RunDuration : TimeSpan.FromMilliseconds(1));
    var batchLag = new LagSampler(lagDb);
    await statements.ResetAsync();
    batchLag.Start();
    var batchCpu = meter.Take();
    StartPeak();
    results.Batch = await Ingest.BatchPostAsync(service.Reporter, bodies, options.BatchClients, BenchOptions.BatchSize, options.RunDuration);
    EndPeak("the batch run");
    var batchSplit = CpuSplit.Between(batchCpu, meter.Take());
    results.StatementTables.Add(StatementProfile.Table("the 2-client batch run", await statements.ReadAsync(), results.Batch.Stored, "activity"));
    results.LagBatch = await batchLag.StopAsync();
    Log.Line($"batch POST: {results.Batch.PerSecond:N0} activities/s; projection lag p99 {Format.Ms(results.LagBatch.P99Ms)} ({results.LagBatch.P99Events:0} events)"
        + (results.Batch.Failed > 0 ? $", {results.Batch.Failed} failed: {results.Batch.FirstError}" : ""));
    results.AddCpu($"batch POST, {options.BatchClients} clients", batchSplit, results.Batch.Stored, "activity");
    await Verification.RunAsync(service, "after the batch POST run", results);

    // --batch-only stops here: the import is the batch path again, with other clients posting.
    if (!options.BatchOnly)
    {
        Log.Line($"import: {options.ImportLines:N0} lines, {BenchOptions.ImportConcurrentClients} clients posting single activities meanwhile");
        var importLag = new LagSampler(lagDb);
        await statements.ResetAsync();
        importLag.Start();
        var importCpu = meter.Take();
        StartPeak();
        results.Import = await Ingest.ImportAsync(service.Reporter, bodies, options.ImportLines, BenchOptions.ImportConcurrentClients);
        EndPeak("the import");
        var importSplit = CpuSplit.Between(importCpu, meter.Take());
        results.LagImport = await importLag.StopAsync();
        results.StatementTables.Add(StatementProfile.Table($"the import of {options.ImportLines:N0} lines (with the other clients' posts)", await statements.ReadAsync(),
            results.Import.Created + results.Import.Concurrent.Stored, "activity"));
        Log.Line($"import: {results.Import.PerSecond:N0} activities/s ({results.Import.Seconds:0.0} s, upload {results.Import.UploadSeconds:0.0} s); others {results.Import.Concurrent.PerSecond:N0}/s; projection lag p99 {Format.Ms(results.LagImport.P99Ms)}");
        results.AddCpu($"import of {options.ImportLines:N0} lines, {BenchOptions.ImportConcurrentClients} clients posting meanwhile", importSplit,
            results.Import.Created + results.Import.Concurrent.Stored, "activity");
        await Verification.RunAsync(service, "after the import", results);
    }
    Log.Line($"service peak RSS: {results.PeakRssBytes / 1024 / 1024} MiB");
}
// Telemetry's cost (issue 19): single POST at 32 clients against two services, telemetry on and off, in alternating runs.
if (!options.BatchOnly)
    results.Telemetry = await TelemetryCost.RunAsync(server, options, scratch, new BodyPool(seedFactory, 2_000));
meter.ServicePid = null;
if (options.IngestOnly)
{
    // A short look at the write path (--ingest-only): printed, RESULTS.md left as it is.
    return PrintAndStop(printStatements: true);
}

// The same ingest written the idiomatic way (issue 10). The statistics inline were measured once and rejected (RESULTS.md, issue 8);
// the service no longer has that switch.
{
    var bodies = new BodyPool(seedFactory, 2_000);
    Log.Line("idiomatic peer (Peer/: one Wolverine.Http endpoint, one session and transaction per request), in a database of its own");
    (results.Peer, results.PeerPeakRssBytes) = await Variants.PeerAsync(server, options, scratch, meter, results, bodies);
    await WriteResultsAsync();
}

// Marten alone: one LightweightSession and transaction per append, no HTTP, no group commit.
Log.Line($"store-level append (Marten): {BenchOptions.StoreWriters} writers, {options.RunDuration.TotalSeconds:0} s");
await using (var storeDb = await server.CreateServiceStoreAsync("bench_store"))
{
    results.Store = await StoreAppend.RunAsync(storeDb.Store, seedFactory, BenchOptions.StoreWriters, options.Warmup, options.RunDuration, meter);
    results.AddCpu($"store-level append (Marten), {BenchOptions.StoreWriters} writers", results.Store.Cpu!, results.Store.Events, "event");
    Log.Line($"store-level append (Marten): {results.Store.PerSecond:N0} events/s, p50 {Format.Ms(results.Store.Latencies.P50)}, p99 {Format.Ms(results.Store.Latencies.P99)}");
    // The bulk generation of the statistics phase must write what these sessions wrote: compare a few generated rows with them.
    await StatisticsBench.GenerateAsync(storeDb.Store, seedFactory, 0, 200);
    results.Notes.Add(await GenerationCheck.CompareAsync(storeDb.DataSource, StoreAppend.Client, StatisticsBench.BackfillClient));
}

// Statistics at each size, and the rebuild.
await StatisticsBench.RunAsync(server, options, scratch, meter, results, WriteResultsAsync);

// The rebuild at 1M without the 10M run (--rebuild-1m, make bench REBUILD_1M=1).
if (options.RebuildAtScale is { } rebuildSize)
{
    results.InProgress = $"the rebuild at {Format.Size(rebuildSize)}";
    await WriteResultsAsync();
    results.RebuildAtScale = await RebuildAtScale.RunAsync(server, rebuildSize, scratch, meter, results);
}

// Issue 17: a late reorganisation's restate rate and the straddling query grouped by unit, beside their ceilings.
try
{
    foreach (var line in await ReorganisationBench.RunAsync(server, options, scratch)) { Log.Line(line); results.Notes.Add("Issue 17: " + line); }
}
catch (Exception e) { results.Notes.Add($"Issue 17's reorganisation figures failed: {e.Message}"); }

results.InProgress = null;
await WriteResultsAsync();
Console.WriteLine();
Console.Write(Report.Header(results));
Console.WriteLine();
Log.Line($"written to {resultsFile}");
return PrintAndStop(printStatements: false);

// The table to stdout (the short modes add the statement tables, which RESULTS.md holds otherwise), then clean up.
int PrintAndStop(bool printStatements)
{
    Console.Write(Report.Table(Report.Rows(results)));
    if (printStatements)
        foreach (var table in results.StatementTables) Console.Write("\n" + table);
    NpgsqlConnection.ClearAllPools();
    server.Server.Stop();
    Directory.Delete(scratch, recursive: true);
    return 0;
}
