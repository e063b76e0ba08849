using System.Diagnostics;
using System.Net;
using System.Text.Json;
using CoordinationEvents.Api;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.EventStore;
using Npgsql;

namespace CoordinationEvents.Benchmarks;

public sealed record QueryDefinition(string Name, string Query);

public sealed record QueryResult(QueryDefinition Query, Latencies Latencies, decimal Activities);

public sealed record SizeResult(long Size, double CountMs, IReadOnlyList<QueryResult> Queries, double GenerateSeconds, double CatchUpSeconds, string? Skipped = null);

public sealed record RebuildResult(long Events, double Seconds, double SequentialReadRowsPerSecond)
{
    public double PerSecond => Events / Seconds;
}

public sealed record StatisticsResults(IReadOnlyList<SizeResult> Sizes, RebuildResult? Rebuild, long DatabaseBytes);

/// <summary>
/// Statistics at 100k, 1M and 10M activities: the data is made fast through the store's own bulk path
/// (<see cref="EventStore.EventStore.BulkStartStreamsAsync"/>, binary COPY, with the activity read model inline) over
/// about 400 units of the 4 provinces, the 13 kinds and 2019–2024; the service's statistics projection catches up
/// on its own; then each query is asked many times over HTTP. At the rebuild size the projection is rebuilt.
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

    const int Chunk = 10_000;
    const int Writers = 2;

    /// <summary>Runs every size; after each one, <paramref name="results"/> holds what is known so far and <paramref name="checkpoint"/> is called.</summary>
    public static async Task RunAsync(BenchServer server, BenchOptions options, string scratch, CpuMeter meter, Results results, Func<Task> checkpoint)
    {
        var connectionString = await server.CreateDatabaseAsync("bench_stats");
        await using var dataSource = ServiceSetup.CreateDataSource(connectionString);
        await SchemaMigrator.MigrateAsync(dataSource, BenchServer.ServiceMigrations);
        var units = BenchUnits.Grown();
        await BenchUnits.InsertAsync(dataSource, units);
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
        var registry = ActivityEventTypes.Register(new EventTypeRegistry());
        var store = new EventStore.EventStore(dataSource, registry, [new ActivityReadModel(registry)]);
        ServiceProcess? service = null;
        long current = 0;
        try
        {
            foreach (var size in options.StatisticsSizes.Order())
            {
                var missing = size - current;
                if (await NotEnoughDiskAsync(server, dataSource, current, missing) is { } reason)
                {
                    Log.Line($"statistics: skipping {Format.Size(size)}: {reason}");
                    sizes.Add(new SizeResult(size, double.NaN, [], 0, 0, reason));
                    await Publish();
                    break;
                }
                Log.Line($"statistics: generating {missing:N0} activities ({Format.Size(current)} → {Format.Size(size)}) by bulk COPY"
                    + (service is null ? "" : ", while the service's projection follows"));
                results.InProgress = $"generating {Format.Size(size)} activities";
                await checkpoint();
                var generate = Stopwatch.StartNew();
                var cpu = meter.Take();
                await GenerateAsync(store, factory, current, missing);
                results.AddCpu($"bulk generation {Format.Size(current)} → {Format.Size(size)}" + (service is null ? "" : " (projection following)"),
                    CpuSplit.Between(cpu, meter.Take()), missing, "activity");
                current = size;
                var generateSeconds = generate.Elapsed.TotalSeconds;

                var catchUp = Stopwatch.StartNew();
                cpu = meter.Take();
                if (service is null)
                {
                    service = await ServiceProcess.StartAsync(connectionString, "statistics", scratch);
                    meter.ServicePid = service.Pid;
                }
                var appliedBefore = await BenchServer.ScalarAsync<long>(dataSource, "select events_applied from projections where name = 'statistics'");
                await WaitForProjectionAsync(dataSource, current);
                var applied = await BenchServer.ScalarAsync<long>(dataSource, "select events_applied from projections where name = 'statistics'") - appliedBefore;
                results.AddCpu($"statistics projection catching up ({applied:N0} events after the generation)", CpuSplit.Between(cpu, meter.Take()), applied, "event");
                Log.Line($"statistics: projection caught up {catchUp.Elapsed.TotalSeconds:0.0} s after the data was in ({generateSeconds:0.0} s to generate; {applied / catchUp.Elapsed.TotalSeconds:N0} events/s while catching up)");

                var countMs = await Ceilings.CountMsAsync(dataSource);
                Log.Line($"statistics: select count(*) from events ({Format.Size(size)}): {Format.Ms(countMs)}");
                var queries = new List<QueryResult>();
                foreach (var query in Queries)
                {
                    var result = await TimeQueryAsync(service.Analyst, query, options.QueryRepetitions);
                    Log.Line($"statistics {Format.Size(size)}: {query.Name}: p50 {Format.Ms(result.Latencies.P50)}, p99 {Format.Ms(result.Latencies.P99)} ({result.Activities:N0} activities)");
                    queries.Add(result);
                }
                sizes.Add(new SizeResult(size, countMs, queries, generateSeconds, catchUp.Elapsed.TotalSeconds));
                await Publish();

                if (size == options.RebuildSize)
                {
                    results.InProgress = $"rebuilding the statistics of {Format.Size(size)} activities";
                    cpu = meter.Take();
                    rebuild = await RebuildAsync(service, dataSource);
                    results.AddCpu($"rebuild ({rebuild.Events:N0} events)", CpuSplit.Between(cpu, meter.Take()), rebuild.Events, "event");
                    await Publish();
                }
            }
        }
        finally
        {
            if (service is not null) await service.DisposeAsync();
            meter.ServicePid = null;
        }
    }

    static async Task GenerateAsync(EventStore.EventStore store, ActivityFactory factory, long first, long count)
    {
        var chunks = (int)((count + Chunk - 1) / Chunk);
        var next = -1;
        long done = 0;
        var watch = Stopwatch.StartNew();
        var reportAt = 5.0;
        await Task.WhenAll(Enumerable.Range(0, Writers).Select(_ => Task.Run(async () =>
        {
            int chunk;
            while ((chunk = Interlocked.Increment(ref next)) < chunks)
            {
                var start = first + (long)chunk * Chunk;
                var n = (int)Math.Min(Chunk, first + count - start);
                var random = new Random((int)(start / Chunk) * 7_919 + 1);
                var appends = new StreamAppend[n];
                for (var i = 0; i < n; i++)
                {
                    var content = factory.NextContent(random, $"gen-{start + i}");
                    // Backfilled history: recorded on the day or up to two days after, during the working day in Vietnam.
                    var recordedAt = new DateTimeOffset(content.OccurredOn.ToDateTime(new TimeOnly(random.Next(7, 22), random.Next(60))), TimeSpan.FromHours(7))
                        .AddDays(random.Next(3));
                    var id = Guid.CreateVersion7(recordedAt);
                    appends[i] = new StreamAppend(id, ActivityEventTypes.StreamType, 0,
                        [new ActivityRecorded(id, "bench-backfill", content, recordedAt)], new EventMetadata("bench-backfill", null, recordedAt));
                }
                await store.BulkStartStreamsAsync(appends);
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

    /// <summary>Waits until the statistics projection has applied every event (read from the database, cheaply).</summary>
    static async Task WaitForProjectionAsync(NpgsqlDataSource dataSource, long total)
    {
        var watch = Stopwatch.StartNew();
        var reportAt = 10.0;
        while (true)
        {
            await using var cmd = dataSource.CreateCommand("""
                select not exists (select 1 from events e where (e.transaction_id, e.position) > (p.last_transaction_id, p.last_position)),
                       p.events_applied, p.last_error
                from projections p where p.name = 'statistics'
                """);
            await using var reader = await cmd.ExecuteReaderAsync();
            if (await reader.ReadAsync())
            {
                if (reader.GetBoolean(0)) return;
                if (watch.Elapsed.TotalSeconds >= reportAt)
                {
                    reportAt += 10;
                    Log.Line($"  statistics projection: {reader.GetInt64(1):N0}/{total:N0} events applied{(reader.IsDBNull(2) ? "" : $"; last error: {reader.GetString(2)}")}");
                }
            }
            await Task.Delay(250);
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

    /// <summary>POST …/statistics/rebuild, then wait until the rebuilt tables are swapped in.</summary>
    static async Task<RebuildResult> RebuildAsync(ServiceProcess service, NpgsqlDataSource dataSource)
    {
        var events = await BenchServer.ScalarAsync<long>(dataSource, "select count(*) from events");
        var sequential = await Ceilings.SequentialReadRowsPerSecondAsync(dataSource);
        Log.Line($"rebuild: sequential read of the events table: {sequential:N0} rows/s; rebuilding the statistics of {events:N0} events");
        var requestedAfter = await BenchServer.ScalarAsync<DateTime>(dataSource, "select now()");
        var watch = Stopwatch.StartNew();
        using (var response = await service.Admin.PostAsync("api/v1/admin/projections/statistics/rebuild", null))
            if (response.StatusCode != HttpStatusCode.Accepted)
                throw new InvalidOperationException($"POST rebuild: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        var reportAt = 10.0;
        while (true)
        {
            await using var cmd = dataSource.CreateCommand("""
                select coalesce(last_rebuild_completed_at > $1, false), coalesce(rebuild_events_applied, 0), last_error
                from projections where name = 'statistics'
                """);
            cmd.Parameters.AddWithValue(requestedAfter);
            await using var reader = await cmd.ExecuteReaderAsync();
            await reader.ReadAsync();
            if (reader.GetBoolean(0)) break;
            if (watch.Elapsed.TotalSeconds >= reportAt)
            {
                reportAt += 10;
                Log.Line($"  rebuild: {reader.GetInt64(1):N0}/{events:N0} events replayed{(reader.IsDBNull(2) ? "" : $"; last error: {reader.GetString(2)}")}");
            }
            await Task.Delay(100);
        }
        var result = new RebuildResult(events, watch.Elapsed.TotalSeconds, sequential);
        Log.Line($"rebuild: {result.Seconds:0.0} s, {result.PerSecond:N0} events/s");
        return result;
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
