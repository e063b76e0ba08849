using System.Diagnostics;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Activities;
using Marten;

namespace CoordinationEvents.Benchmarks;

public sealed record AppendResult(int Writers, long Events, double Seconds, Latencies Latencies)
{
    public CpuSplit? Cpu { get; init; }

    public double PerSecond => Events / Seconds;
}

/// <summary>
/// Marten alone, no HTTP and no group commit: writers each opening one <see cref="IDocumentStore.LightweightSession"/>
/// per append in a loop, starting a new stream with one recorded activity (<c>StartStream</c>, the event built and
/// given its client header as <c>ActivityRecorder</c> does), then <c>SaveChangesAsync</c>: one transaction per
/// event. The store has the service's options (Quick append, the inline activity read model, the async statistics
/// projection registered but not run: no daemon here), in a database of its own.
/// </summary>
public static class StoreAppend
{
    public const string Client = "bench-store";

    public static async Task<AppendResult> RunAsync(IDocumentStore store, ActivityFactory factory, int writers, TimeSpan warmup, TimeSpan duration, CpuMeter meter)
    {
        await RunOnceAsync(store, factory, writers, warmup, "warm");
        var before = meter.Take();
        var result = await RunOnceAsync(store, factory, writers, duration, "run");
        return result with { Cpu = CpuSplit.Between(before, meter.Take()) };
    }

    static async Task<AppendResult> RunOnceAsync(IDocumentStore store, ActivityFactory factory, int writers, TimeSpan duration, string run)
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
                var content = factory.NextContent(random, $"store-{run}-{writer}-{seq}");
                var id = ActivityIds.For(Client, content.ExternalId);
                var started = Stopwatch.GetTimestamp();
                await using (var session = store.LightweightSession())
                {
                    var e = session.Events.BuildEvent(new ActivityRecorded(id, Client, content, DateTimeOffset.UtcNow));
                    e.SetHeader(ActivityEventTypes.ClientHeader, Client);
                    session.Events.StartStream<CoordinationEvents.Api.Activities.Activity>(id, e);
                    await session.SaveChangesAsync();
                }
                mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        })));
        var all = new Latencies(latencies.SelectMany(l => l));
        return new AppendResult(writers, all.Count, watch.Elapsed.TotalSeconds, all);
    }
}
