namespace CoordinationEvents.Api.Core;

/// <summary>
/// Gives memory back once a load is over (issue 21: the RSS returns near its idle level within a minute). The GC
/// collects only when something allocates, so after a burst (the widest statistics query, 50 feed readers) an idle
/// service keeps the burst's heap committed for as long as it stays idle: measured 50–100 MiB above idle a minute
/// later. Every <c>Memory:IdleCheckSeconds</c> (15) this looks at two numbers the runtime keeps: the bytes allocated
/// since the last look and the heap's committed bytes. When the service allocated less than 4 MiB since (it is idle)
/// and the heap holds more than <c>Memory:IdleSlackMiB</c> (32) above what it held after the last such collection, it
/// asks for one aggressive, compacting collection (<see cref="GCCollectionMode.Aggressive"/>: the GC then decommits
/// what it can). At most once per idle spell: nothing more is done until the service allocates again. A busy service
/// is never collected by this. <c>Memory:IdleCheckSeconds=0</c> turns it off.
/// </summary>
public sealed class IdleMemory(IConfiguration configuration, ILogger<IdleMemory> log) : BackgroundService
{
    const long IdleAllocationBytes = 4L << 20;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var seconds = configuration.GetValue("Memory:IdleCheckSeconds", 15);
        if (seconds <= 0) return;
        var slack = configuration.GetValue("Memory:IdleSlackMiB", 32) * (1L << 20);
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(seconds));
        var allocated = GC.GetTotalAllocatedBytes();
        var baseline = GC.GetGCMemoryInfo().TotalCommittedBytes;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var now = GC.GetTotalAllocatedBytes();
                var busy = now - allocated >= IdleAllocationBytes;
                allocated = now;
                var committed = GC.GetGCMemoryInfo().TotalCommittedBytes;
                if (busy || !ShouldCollect(committed, baseline, slack)) continue;
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                var after = GC.GetGCMemoryInfo().TotalCommittedBytes;
                log.LogDebug("Idle: the heap's committed memory went from {Before} to {After} MiB", committed >> 20, after >> 20);
                baseline = after;
                allocated = GC.GetTotalAllocatedBytes();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Whether an idle heap holds enough more than after the last collection to be worth collecting.</summary>
    public static bool ShouldCollect(long committed, long baseline, long slack) => committed > baseline + slack;
}
