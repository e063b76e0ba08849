using System.Diagnostics;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.EventStore;
using Npgsql;

namespace CoordinationEvents.Benchmarks;

public sealed record AppendResult(int Writers, long Events, double Seconds, Latencies Latencies)
{
    public CpuSplit? Cpu { get; init; }

    public double PerSecond => Events / Seconds;
}

/// <summary>
/// The event store library alone, no HTTP: writers each calling <see cref="EventStore.EventStore.AppendAsync"/> in
/// a loop, a new stream with one recorded activity each time, with the service's inline read model and pool
/// settings, in a database of its own with the service's schema.
/// </summary>
public static class StoreAppend
{
    public static async Task<AppendResult> RunAsync(NpgsqlDataSource dataSource, ActivityFactory factory, int writers, TimeSpan warmup, TimeSpan duration, CpuMeter meter)
    {
        var registry = ActivityEventTypes.Register(new EventTypeRegistry());
        var store = new EventStore.EventStore(dataSource, registry, [new ActivityReadModel(registry)]);
        await RunOnceAsync(store, factory, writers, warmup, "warm");
        var before = meter.Take();
        var result = await RunOnceAsync(store, factory, writers, duration, "run");
        return result with { Cpu = CpuSplit.Between(before, meter.Take()) };
    }

    static async Task<AppendResult> RunOnceAsync(EventStore.EventStore store, ActivityFactory factory, int writers, TimeSpan duration, string run)
    {
        var stopAt = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var latencies = new List<double>[writers];
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, writers).Select(writer => Task.Run(async () =>
        {
            var random = new Random(writer);
            var mine = latencies[writer] = new List<double>(8_192);
            for (var seq = 0; Stopwatch.GetTimestamp() < stopAt; seq++)
            {
                var now = DateTimeOffset.UtcNow;
                var id = Guid.CreateVersion7(now);
                var content = factory.NextContent(random, $"store-{run}-{writer}-{seq}");
                var append = new StreamAppend(id, ActivityEventTypes.StreamType, 0,
                    [new ActivityRecorded(id, "bench-store", content, now)], new EventMetadata("bench-store", null, now));
                var started = Stopwatch.GetTimestamp();
                await store.AppendAsync(append);
                mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        })));
        var all = new Latencies(latencies.SelectMany(l => l));
        return new AppendResult(writers, all.Count, watch.Elapsed.TotalSeconds, all);
    }
}
