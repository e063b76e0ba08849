using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;

namespace CoordinationEvents.Api.Core;

/// <summary>
/// One careless client never slows the others (issue 21): the expensive reads (statistics, the review report, the
/// feed, verify, an activity's history) run under a concurrency limit, so however many of them arrive at once, the
/// cores and the connection pool keep room for writes, which are not limited here. A read past the limit waits in a
/// short queue (oldest first); past the queue it gets a 429 problem document with <c>Retry-After</c>.
/// <para>Two lanes. An endpoint may say that a request is light (<see cref="ReadWeightAttribute"/>: a statistics
/// query over a few periods and groups, as a dashboard asks); light requests share a lane of their own, so that eight
/// of the widest queries ahead of it never make a small one wait. Every other expensive read shares the heavy lane.
/// Settings: <c>ExpensiveReads:PermitLimit</c> and <c>QueueLimit</c> (the heavy lane, default 2 and 8: one per core
/// on the 2-core machine it was measured on), <c>ExpensiveReads:LightPermitLimit</c> and <c>LightQueueLimit</c>
/// (default 8 and 16).</para>
/// <para>Registered as the named rate-limiter policy <see cref="Policy"/> (AddRateLimiter; the one rejection handler, <c>RateLimits</c>'s, words its 429 for this policy) and
/// applied by <c>[EnableRateLimiting(ExpensiveReads.Policy)]</c> on each endpoint.</para>
/// </summary>
public sealed class ExpensiveReads(IConfiguration configuration)
{
    public const string Policy = "expensive-reads";
    public const int RetryAfterSeconds = 1;

    /// <summary>The heavy lane, which every expensive read shares unless its endpoint calls it light (tests may hold its permits).</summary>
    public ConcurrencyLimiter Limiter { get; } = Lane(configuration, "PermitLimit", 2, "QueueLimit", 8);

    /// <summary>The light lane (tests may hold its permits).</summary>
    public ConcurrencyLimiter LightLimiter { get; } = Lane(configuration, "LightPermitLimit", 8, "LightQueueLimit", 16);

    static ConcurrencyLimiter Lane(IConfiguration configuration, string permits, int defaultPermits, string queue, int defaultQueue) => new(new ConcurrencyLimiterOptions
    {
        PermitLimit = Math.Max(1, configuration.GetValue($"ExpensiveReads:{permits}", defaultPermits)),
        QueueLimit = Math.Max(0, configuration.GetValue($"ExpensiveReads:{queue}", defaultQueue)),
        QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
    });

    /// <summary>
    /// The lanes as the rate-limiting middleware's partitions: never idle and never disposed by it. The middleware
    /// disposes a partition's limiter once it has been idle for a while (about 10 s) and asks the factory again; the
    /// shared limiter itself would then be disposed, and every later expensive read a 500.
    /// </summary>
    public RateLimiter Partition => partition ??= new Undisposable(Limiter);

    public RateLimiter LightPartition => lightPartition ??= new Undisposable(LightLimiter);

    RateLimiter? partition, lightPartition;

    sealed class Undisposable(RateLimiter inner) : RateLimiter
    {
        public override TimeSpan? IdleDuration => null;
        public override RateLimiterStatistics? GetStatistics() => inner.GetStatistics();
        protected override RateLimitLease AttemptAcquireCore(int permitCount) => inner.AttemptAcquire(permitCount);
        protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken) =>
            inner.AcquireAsync(permitCount, cancellationToken);
        protected override void Dispose(bool disposing) { }
        protected override ValueTask DisposeAsyncCore() => ValueTask.CompletedTask;
    }
}

/// <summary>
/// On an expensive read's endpoint: says from the request alone (before it runs) whether it is light, and so goes in
/// the light lane of <see cref="ExpensiveReads"/>. A request it cannot judge is heavy.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public abstract class ReadWeightAttribute : Attribute
{
    public abstract bool IsLight(HttpRequest request);
}

public static class ExpensiveReadsSetup
{
    public static IServiceCollection AddExpensiveReads(this IServiceCollection services)
    {
        services.AddSingleton<ExpensiveReads>();
        services.AddRateLimiter(options =>
        {
            options.AddPolicy(ExpensiveReads.Policy, http =>
            {
                var reads = http.RequestServices.GetRequiredService<ExpensiveReads>();
                return http.GetEndpoint()?.Metadata.GetMetadata<ReadWeightAttribute>()?.IsLight(http.Request) == true
                    ? RateLimitPartition.Get(ExpensiveReads.Policy + "-light", _ => reads.LightPartition)
                    : RateLimitPartition.Get(ExpensiveReads.Policy, _ => reads.Partition);
            });
        });
        return services;
    }
}
