using System.Diagnostics;
using System.Net;
using System.Text.Json;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Admin;
using CoordinationEvents.Api.Statistics;
using CoordinationEvents.Api.Core;
using JasperFx.Events;
using Marten;
using Npgsql;

namespace CoordinationEvents.Benchmarks;

public sealed record QueryDefinition(string Name, string Query);

public sealed record QueryResult(QueryDefinition Query, Latencies Latencies, decimal Activities);

public sealed record SizeResult(long Size, double CountMs, IReadOnlyList<QueryResult> Queries, double GenerateSeconds, double CatchUpSeconds, string? Skipped = null, string? When = null)
{
    public const string AfterRebuild = "after the rebuild";
}

public sealed record RebuildResult(long Events, double Seconds, double SequentialReadRowsPerSecond)
{
    public double PerSecond => Events / Seconds;
}

public sealed record StatisticsResults(IReadOnlyList<SizeResult> Sizes, RebuildResult? Rebuild, long DatabaseBytes);

/// <summary>
/// Statistics at 100k, 1M and 10M activities: the data is made fast with Marten's bulk path (binary COPY:
/// <see cref="IDocumentStore.BulkInsertEventsAsync(IReadOnlyList{StreamAction}, int, CancellationToken)"/> for
/// <c>mt_streams</c> and <c>mt_events</c>, and <see cref="IDocumentStore.BulkInsertAsync{T}(IReadOnlyCollection{T}, Weasel.Core.BulkInsertMode, int, CancellationToken)"/>
/// for the inline read model <c>mt_doc_activityview</c>, which the bulk event path does not project) over about 400
/// units of the 4 provinces, the 13 kinds and 2019–2024; the service's statistics projection catches up on its own;
/// <c>GET /api/v1/admin/verify</c> must then find 0 differences; then each query is asked many times over HTTP. At the
/// rebuild size the projection is rebuilt, and verified again.
/// <para>
/// Only while no service process runs: <c>BulkInsertEventsAsync</c> lets the daemon skip events still in flight
/// (critter-stack.md: the high water mark jumps over an append that commits later, and it is lost silently). So the
/// service is stopped before each generation and started again after it; nothing else writes to this database.
/// </para>
/// </summary>
public static class StatisticsBench
{
    public static readonly QueryDefinition[] Queries =
    [
        new("whole-province 6-year total", "unitId=lai-chau&from=2019-01-01&to=2024-12-31"),
        new("whole-province total, ragged ends", "unitId=lai-chau&from=2019-01-15&to=2024-06-20"),
        new("one district by month, 6 years", "unitId=phong-tho&from=2019-01-01&to=2024-12-31&groupBy=month"),
        new("province kind × year", "unitId=lai-chau&from=2019-01-01&to=2024-12-31&groupBy=kind,year"),
        new("dimension breakdown (crime-bust category × outcome)", "unitId=lai-chau&from=2019-01-01&to=2024-12-31&kind=crime-bust&groupBy=category,outcome"),
    ];

    /// <summary>The posting system the generated history is recorded under (its stream ids are <see cref="ActivityIds.For"/> of it).</summary>
    public const string BackfillClient = "bench-backfill";

    /// <summary>From this size on, the projection catches up on a generation by a rebuild rather than by the daemon.</summary>
    public const long CatchUpByRebuildFrom = 1_000_000;

    const int Chunk = 10_000;
    const int Writers = 2;

    /// <summary>Runs every size; after each one, <paramref name="results"/> holds what is known so far and <paramref name="checkpoint"/> is called.</summary>
    public static async Task RunAsync(BenchServer server, BenchOptions options, string scratch, CpuMeter meter, Results results, Func<Task> checkpoint)
    {
        // --reuse-statistics: the database an earlier run left (stopped or crashed after generating) is taken as it is, its
        // activities counted, and only what is missing is generated (hours saved at 10M; the figures are asked afresh).
        await using var db = await server.CreateServiceStoreAsync("bench_stats", options.ReuseStatistics);
        var dataSource = db.DataSource;
        var units = BenchUnits.Grown();
        var reused = options.ReuseStatistics ? await BenchServer.ScalarAsync<long>(dataSource, $"select count(*) from {Api.Activities.ActivityView.TableName}") : 0;
        if (reused == 0) await BenchUnits.InsertAsync(db.Store, units);
        else Log.Line($"statistics: reusing an earlier run's database with {reused:N0} activities");
        Log.Line($"statistics: {units.Count} units in 4 provinces; sizes {string.Join(", ", options.StatisticsSizes.Select(Format.Size))}");
        var sizes = new List<SizeResult>();
        RebuildResult? rebuild = null;
        async Task Publish()
        {
            var bytes = await BenchServer.ScalarAsync<long>(dataSource, "select pg_database_size(current_database())");
            results.Statistics = new StatisticsResults(sizes.ToArray(), rebuild, bytes);
            await checkpoint();
        }

        var factory = new ActivityFactory(units);
        ServiceProcess? service = null;
        var current = reused;
        try
        {
            foreach (var size in options.StatisticsSizes.Order())
            {
                var missing = Math.Max(0, size - current);
                if (await NotEnoughDiskAsync(server, dataSource, current, missing) is { } reason)
                {
                    Log.Line($"statistics: skipping {Format.Size(size)}: {reason}");
                    sizes.Add(new SizeResult(size, double.NaN, [], 0, 0, reason));
                    await Publish();
                    break;
                }
                // The bulk path is safe only while nothing else writes and no daemon runs: stop the service first.
                if (service is not null)
                {
                    await service.DisposeAsync();
                    service = null;
                    meter.ServicePid = null;
                }
                Log.Line($"statistics: generating {missing:N0} activities ({Format.Size(current)} → {Format.Size(size)}) by Marten's bulk COPY, the service stopped");
                results.InProgress = $"generating {Format.Size(size)} activities";
                await checkpoint();
                var generate = Stopwatch.StartNew();
                var cpu = meter.Take();
                if (missing > 0) await GenerateAsync(db.Store, factory, current, missing);
                results.AddCpu($"bulk generation {Format.Size(current)} → {Format.Size(size)}", CpuSplit.Between(cpu, meter.Take()), missing, "activity");
                current = size;
                var generateSeconds = generate.Elapsed.TotalSeconds;

                var catchUp = Stopwatch.StartNew();
                cpu = meter.Take();
                var positionBefore = await PositionAsync(dataSource);
                service = await ServiceProcess.StartAsync(db.ConnectionString, $"statistics-{Format.Size(size)}", scratch, options.ServiceEnvironment);
                meter.ServicePid = service.Pid;
                if (size >= CatchUpByRebuildFrom && missing > 0)
                {
                    // The daemon applies a backfill at a few thousand events/s (an hour for 10M); the set-based rebuild
                    // does it at tens of thousands: what an administrator asks after a bulk backfill.
                    await WaitForHighWaterMarkAsync(dataSource);
                    Log.Line($"statistics: {Format.Size(size)}: the projection caught up by a rebuild (POST …/statistics/rebuild)");
                    var caughtUp = await RebuildAsync(service, dataSource);
                    Log.Line($"statistics: rebuilt {caughtUp.Events:N0} events in {caughtUp.Seconds:0.0} s");
                }
                var head = await WaitForProjectionAsync(dataSource, current);
                var applied = head - positionBefore;
                results.AddCpu($"statistics projection catching up ({applied:N0} events after the generation, service start included)", CpuSplit.Between(cpu, meter.Take()), applied, "event");
                Log.Line($"statistics: projection caught up {catchUp.Elapsed.TotalSeconds:0.0} s after the data was in ({generateSeconds:0.0} s to generate; {applied / catchUp.Elapsed.TotalSeconds:N0} events/s while catching up, service start included)");
                await Verification.RunAsync(service, $"after generating {Format.Size(size)} activities", results);

                var countMs = await Ceilings.CountMsAsync(dataSource);
                Log.Line($"statistics: select count(*) from mt_events ({Format.Size(size)}): {Format.Ms(countMs)}");
                var queries = new List<QueryResult>();
                var statements = new StatementProfile(dataSource);
                foreach (var query in Queries)
                {
                    await statements.ResetAsync();
                    var result = await TimeQueryAsync(service.Analyst, query, options.QueryRepetitions);
                    if (size == options.StatisticsSizes.Max())
                        results.StatementTables.Add(StatementProfile.Table($"\"{query.Name}\" at {Format.Size(size)} ({options.QueryRepetitions + 5} asks)",
                            await statements.ReadAsync(4), options.QueryRepetitions + 5, "query"));
                    Log.Line($"statistics {Format.Size(size)}: {query.Name}: p50 {Format.Ms(result.Latencies.P50)}, p99 {Format.Ms(result.Latencies.P99)} ({result.Activities:N0} activities)");
                    queries.Add(result);
                }
                sizes.Add(new SizeResult(size, countMs, queries, generateSeconds, catchUp.Elapsed.TotalSeconds,
                    When: size >= CatchUpByRebuildFrom ? "(caught up by a rebuild)" : null));
                await Publish();

                if (size == options.RebuildSize)
                {
                    results.InProgress = $"rebuilding the statistics of {Format.Size(size)} activities";
                    cpu = meter.Take();
                    rebuild = await RebuildAsync(service, dataSource);
                    results.AddCpu($"rebuild ({rebuild.Events:N0} events)", CpuSplit.Between(cpu, meter.Take()), rebuild.Events, "event");
                    await Verification.RunAsync(service, $"after the rebuild at {Format.Size(size)}", results);
                    // The rebuild writes the cells in key order (the live projection writes them as events come), so
                    // a unit's cells share pages: the same queries again.
                    var rebuilt = new List<QueryResult>();
                    foreach (var query in Queries)
                    {
                        var result = await TimeQueryAsync(service.Analyst, query, options.QueryRepetitions);
                        Log.Line($"statistics {Format.Size(size)} after the rebuild: {query.Name}: p50 {Format.Ms(result.Latencies.P50)}, p99 {Format.Ms(result.Latencies.P99)}");
                        rebuilt.Add(result);
                    }
                    sizes.Add(new SizeResult(size, countMs, rebuilt, generateSeconds, catchUp.Elapsed.TotalSeconds, When: SizeResult.AfterRebuild));
                    await Publish();
                }

                // Issues 17, 18 and 21's figures on this data (the reorganisation only at the largest size: it changes the tree).
                results.InProgress = $"the issues' figures at {Format.Size(size)}";
                foreach (var line in await ScaleFigures.RunAsync(service, size, size == options.StatisticsSizes.Max(), options.QueryRepetitions, results))
                {
                    Log.Line(line);
                    results.Notes.Add(line);
                }
                await Publish();
            }
        }
        finally
        {
            if (service is not null) await service.DisposeAsync();
            meter.ServicePid = null;
        }
    }

    /// <summary>
    /// Activities as the service would have stored them, written with Marten's bulk COPY. Each is one stream
    /// (<see cref="ActivityIds.For"/> of the client and externalId, stream type <c>activity_view</c>) with one
    /// <c>activity-recorded</c> event built by a Marten session (the mapped type name, the data in the store's
    /// camelCase JSON), its <c>client</c> header and its recorded time; and its <see cref="ActivityView"/> document,
    /// made by the service's own inline projection. NOT while the service runs (see the class comment).
    /// </summary>
    public static async Task GenerateAsync(IDocumentStore store, ActivityFactory factory, long first, long count, string client = BackfillClient)
    {
        var chunks = (int)((count + Chunk - 1) / Chunk);
        var next = -1;
        long done = 0;
        var watch = Stopwatch.StartNew();
        var reportAt = 5.0;
        var projection = new ActivityViewProjection();
        await Task.WhenAll(Enumerable.Range(0, Writers).Select(_ => Task.Run(async () =>
        {
            int chunk;
            while ((chunk = Interlocked.Increment(ref next)) < chunks)
            {
                var start = first + (long)chunk * Chunk;
                var n = (int)Math.Min(Chunk, first + count - start);
                var random = new Random((int)(start / Chunk) * 7_919 + 1);
                var streams = new StreamAction[n];
                var views = new ActivityView[n];
                // A session only to build the events as the service's sessions do; it never touches the database.
                await using (var session = store.LightweightSession())
                    for (var i = 0; i < n; i++)
                    {
                        var content = factory.NextContent(random, $"gen-{start + i}");
                        // Backfilled history: recorded on the day or up to two days after, during the working day in Vietnam;
                        // in UTC, as the service's clock gives it (TimeProvider.GetUtcNow) and as Marten's timestamp must be.
                        var recordedAt = new DateTimeOffset(content.OccurredOn.ToDateTime(new TimeOnly(random.Next(7, 22), random.Next(60))), TimeSpan.FromHours(7))
                            .AddDays(random.Next(3)).ToUniversalTime();
                        var id = ActivityIds.For(client, content.ExternalId);
                        var e = session.Events.BuildEvent(new ActivityRecorded(id, client, content, recordedAt));
                        e.SetHeader(ActivityEventTypes.ClientHeader, client);
                        e.Timestamp = recordedAt;
                        e.StreamId = id;
                        e.Version = 1;
                        var stream = StreamAction.Start(id, e);
                        stream.AggregateType = typeof(ActivityView);
                        streams[i] = stream;
                        views[i] = projection.Evolve(null, id, e)!;
                    }
                await store.BulkInsertEventsAsync(streams, Chunk);
                await store.BulkInsertAsync(views, Weasel.Core.BulkInsertMode.InsertsOnly, Chunk);
                var total = Interlocked.Add(ref done, n);
                var seconds = watch.Elapsed.TotalSeconds;
                if (seconds >= reportAt || total == count)
                    lock (watch)
                        if (seconds >= reportAt || total == count)
                        {
                            reportAt = seconds + 10;
                            var rate = total / seconds;
                            Log.Line($"  generated {total:N0}/{count:N0} ({rate:N0}/s, about {(count - total) / rate:0} s to go)");
                        }
            }
        })));
    }

    /// <summary>The statistics projection's position (its row in <c>mt_event_progression</c>).</summary>
    static Task<long> PositionAsync(NpgsqlDataSource dataSource) => BenchServer.ScalarAsync<long>(dataSource,
        $"select coalesce((select last_seq_id from mt_event_progression where name = '{StatisticsProjection.ShardName}'), 0)");

    /// <summary>Waits until the statistics projection's position reaches the last event (read from the database, cheaply); returns that position.</summary>
    static async Task<long> WaitForProjectionAsync(NpgsqlDataSource dataSource, long total)
    {
        var watch = Stopwatch.StartNew();
        var reportAt = 10.0;
        while (true)
        {
            await using var cmd = dataSource.CreateCommand($"""
                select coalesce((select last_seq_id from mt_event_progression where name = '{StatisticsProjection.ShardName}'), 0),
                       coalesce((select max(seq_id) from mt_events), 0)
                """);
            await using var reader = await cmd.ExecuteReaderAsync();
            await reader.ReadAsync();
            var (position, head) = (reader.GetInt64(0), reader.GetInt64(1));
            if (position >= head) return position;
            if (watch.Elapsed.TotalSeconds >= reportAt)
            {
                reportAt += 10;
                Log.Line($"  statistics projection: at event {position:N0} of {head:N0} ({total:N0} activities)");
            }
            if (watch.Elapsed > TimeSpan.FromHours(2)) throw new TimeoutException($"The statistics projection did not catch up within 2 hours (at {position} of {head}).");
            await Task.Delay(250);
        }
    }

    /// <summary>
    /// Waits until the daemon's high water mark has reached the last event: a rebuild fills up to that mark, so asked
    /// right after a start (the mark not yet moved over events written while the service was stopped) it would cover
    /// only part of them and leave the rest to the daemon. Returns how long that took.
    /// </summary>
    public static async Task<double> WaitForHighWaterMarkAsync(NpgsqlDataSource dataSource)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var behind = await BenchServer.ScalarAsync<bool>(dataSource, """
                select coalesce((select last_seq_id from mt_event_progression where name = 'HighWaterMark'), 0)
                     < coalesce((select max(seq_id) from mt_events), 0)
                """);
            if (!behind) return watch.Elapsed.TotalSeconds;
            if (watch.Elapsed > TimeSpan.FromMinutes(10)) throw new TimeoutException("The daemon's high water mark did not reach the last event within 10 minutes.");
            await Task.Delay(100);
        }
    }

    static async Task<QueryResult> TimeQueryAsync(HttpClient analyst, QueryDefinition query, int repetitions)
    {
        var url = "api/v1/statistics?" + query.Query;
        decimal activities = 0;
        for (var i = 0; i < 5; i++)
        {
            using var response = await analyst.GetAsync(url);
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"GET {url}: {(int)response.StatusCode} {body}");
            using var document = JsonDocument.Parse(body);
            activities = document.RootElement.GetProperty("totals").TryGetProperty("activities", out var a) ? a.GetDecimal() : 0;
        }
        var samples = new double[repetitions];
        for (var i = 0; i < repetitions; i++)
        {
            var started = Stopwatch.GetTimestamp();
            using var response = await analyst.GetAsync(url);
            await response.Content.ReadAsByteArrayAsync();
            samples[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (response.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"GET {url}: {(int)response.StatusCode}");
        }
        return new QueryResult(query, new Latencies(samples), activities);
    }

    /// <summary>
    /// POST …/statistics/rebuild, then ask GET /api/v1/admin/projections until the projection's
    /// <c>lastRebuildCompletedAt</c> changes (the service has swapped the rebuilt tables in and handed the position back to the daemon).
    /// </summary>
    public static async Task<RebuildResult> RebuildAsync(ServiceProcess service, NpgsqlDataSource dataSource)
    {
        var events = await BenchServer.ScalarAsync<long>(dataSource, "select count(*) from mt_events");
        var sequential = await Ceilings.SequentialReadRowsPerSecondAsync(dataSource);
        Log.Line($"rebuild: sequential read of mt_events: {sequential:N0} rows/s; rebuilding the statistics of {events:N0} events");
        var before = await CompletedAtAsync(dataSource);
        var watch = Stopwatch.StartNew();
        using (var response = await service.Admin.PostAsync("api/v1/admin/projections/statistics/rebuild", null))
            if (response.StatusCode != HttpStatusCode.Accepted)
                throw new InvalidOperationException($"POST rebuild: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        var reportAt = 10.0;
        // Polled in the database (projection_rebuilds.completed_at, what the endpoint reports as lastRebuildCompletedAt):
        // GET /api/v1/admin/projections counts the events after the projection's position (GetProjectionsEndpoint.StatusAsync),
        // about 1M rows per call right after a start, which every 100 ms took ~40% of a core from the rebuild it timed.
        // The endpoint is asked only every 10 s, for the progress line and the last error.
        while (true)
        {
            var completed = await CompletedAtAsync(dataSource);
            if (completed is not null && completed != before) break;
            if (watch.Elapsed.TotalSeconds >= reportAt)
            {
                reportAt += 10;
                var status = await ProjectionStatusAsync(service);
                Log.Line($"  rebuild: {(status.Rebuilding ? "running" : "not started yet")}{(status.LastError is null ? "" : $"; last error: {status.LastError}")}");
                if (watch.Elapsed > TimeSpan.FromHours(1)) throw new TimeoutException($"The rebuild did not complete within an hour; last error: {status.LastError ?? "none"}");
            }
            await Task.Delay(100);
        }
        var result = new RebuildResult(events, watch.Elapsed.TotalSeconds, sequential);
        Log.Line($"rebuild: {result.Seconds:0.0} s, {result.PerSecond:N0} events/s");
        return result;
    }

    static async Task<DateTime?> CompletedAtAsync(NpgsqlDataSource dataSource)
    {
        await using var cmd = dataSource.CreateCommand($"select completed_at from {StatisticsRebuild.RequestTable} where name = $1");
        cmd.Parameters.AddWithValue(StatisticsProjection.ProjectionName);
        return await cmd.ExecuteScalarAsync() as DateTime?;
    }

    static async Task<ProjectionStatus> ProjectionStatusAsync(ServiceProcess service)
    {
        using var response = await service.Admin.GetAsync("api/v1/admin/projections");
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"GET admin/projections: {(int)response.StatusCode} {body}");
        var status = JsonSerializer.Deserialize<ProjectionsResponse>(body, StoreJson.Options)
            ?? throw new InvalidOperationException($"GET admin/projections: no body");
        return status.Projections[0];
    }

    /// <summary>Null when the disk holds the next step with room to spare; otherwise why not.</summary>
    static async Task<string?> NotEnoughDiskAsync(BenchServer server, NpgsqlDataSource dataSource, long current, long missing)
    {
        if (server.Server.Directory is not { } directory || current == 0) return null;
        var bytes = await BenchServer.ScalarAsync<long>(dataSource, "select pg_database_size(current_database())");
        var needed = (long)(bytes / (double)current * missing * 1.3) + (8L << 30);
        var free = new DriveInfo(directory).AvailableFreeSpace;
        return free >= needed ? null : $"not enough disk: about {needed >> 30} GiB needed, {free >> 30} GiB free in {directory}";
    }
}

/// <summary>
/// Holds the bulk generation to what the service's own path writes: in one database, a row written by Marten
/// sessions (<see cref="StoreAppend"/>, as <c>ActivityRecorder</c> does) and a generated one are compared column by
/// column in <c>mt_events</c>, <c>mt_streams</c> and <c>mt_doc_activityview</c>: the same columns set or null, the
/// same event type name, .NET type, stream type, version, tenant and archive flags, the same header names and the
/// same top-level JSON properties. Ids, sequence numbers, times and the values themselves may differ. Any other
/// difference stops the benchmark.
/// </summary>
public static class GenerationCheck
{
    static readonly HashSet<string> MayDiffer = new(StringComparer.Ordinal)
    {
        "seq_id", "id", "stream_id", "timestamp", "created", "mt_last_modified", "mt_version", "correlation_id", "causation_id",
        "unit_id", "kind", "occurred_on", // duplicated read model fields: values of the activity
    };

    static readonly HashSet<string> CompareKeys = new(StringComparer.Ordinal) { "data", "headers" };

    public static async Task<string> CompareAsync(NpgsqlDataSource dataSource, string sessionClient, string bulkClient)
    {
        var queries = new (string Table, string Sql)[]
        {
            ("mt_events", "select to_jsonb(e) from mt_events e where e.headers->>'client' = $1 order by seq_id limit 1"),
            ("mt_streams", "select to_jsonb(s) from mt_streams s where s.id = (select stream_id from mt_events where headers->>'client' = $1 order by seq_id limit 1)"),
            ("mt_doc_activityview", "select to_jsonb(d) from mt_doc_activityview d where d.data->>'sourceSystem' = $1 limit 1"),
        };
        var differences = new List<string>();
        foreach (var (table, sql) in queries)
        {
            var session = await RowAsync(dataSource, sql, sessionClient);
            var bulk = await RowAsync(dataSource, sql, bulkClient);
            if (session is null || bulk is null)
            {
                differences.Add($"{table}: no row {(session is null ? $"written by the sessions ({sessionClient})" : $"generated ({bulkClient})")}");
                continue;
            }
            foreach (var column in session.Value.EnumerateObject().Select(p => p.Name).Union(bulk.Value.EnumerateObject().Select(p => p.Name)))
            {
                var hasA = session.Value.TryGetProperty(column, out var a);
                var hasB = bulk.Value.TryGetProperty(column, out var b);
                if (!hasA || !hasB) { differences.Add($"{table}.{column}: only in the {(hasA ? "session" : "generated")} row"); continue; }
                if (a.ValueKind != b.ValueKind) { differences.Add($"{table}.{column}: {a.ValueKind} from the session, {b.ValueKind} generated ({Short(a)} vs {Short(b)})"); continue; }
                if (CompareKeys.Contains(column) && a.ValueKind == JsonValueKind.Object)
                {
                    var ka = string.Join(",", a.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
                    var kb = string.Join(",", b.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
                    if (ka != kb) differences.Add($"{table}.{column}: properties [{ka}] from the session, [{kb}] generated");
                }
                else if (!MayDiffer.Contains(column) && !CompareKeys.Contains(column) && a.GetRawText() != b.GetRawText())
                    differences.Add($"{table}.{column}: {Short(a)} from the session, {Short(b)} generated");
            }
        }
        if (differences.Count > 0)
            throw new InvalidOperationException("GENERATION CHECK FAILED: the bulk generation does not write what Marten's sessions write:\n  " + string.Join("\n  ", differences));
        var message = "Generation check: a generated activity's rows in mt_events, mt_streams and mt_doc_activityview have the same columns set, event type name, .NET and stream types, versions, header names and JSON properties as one appended through a Marten session as the service does.";
        Log.Line(message);
        return message;
    }

    static string Short(JsonElement e) => e.GetRawText() is var t && t.Length > 80 ? t[..80] + "…" : e.GetRawText();

    static async Task<JsonElement?> RowAsync(NpgsqlDataSource dataSource, string sql, string client)
    {
        await using var cmd = dataSource.CreateCommand(sql);
        cmd.Parameters.AddWithValue(client);
        var text = await cmd.ExecuteScalarAsync() as string;
        return text is null ? null : JsonDocument.Parse(text).RootElement.Clone();
    }
}
