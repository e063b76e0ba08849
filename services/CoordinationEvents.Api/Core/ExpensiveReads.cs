using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;

namespace CoordinationEvents.Api.Core;

/// <summary>
/// One careless client never slows the others (issue 21): the expensive reads (statistics, the review report, the
/// feed, verify, an activity's history) share a concurrency limit, so however many of them arrive at once, the cores
/// and the connection pool keep room for writes, which are not limited here. An expensive read past the limit waits
/// in a short queue (oldest first); past the queue it gets a 429 problem document with <c>Retry-After</c>.
/// <para>Registered as the named rate-limiter policy <see cref="Policy"/> (AddRateLimiter; the one rejection handler, <c>RateLimits</c>'s, words its 429 for this policy) and
/// applied by <c>[EnableRateLimiting(ExpensiveReads.Policy)]</c> on each endpoint. Settings: <c>ExpensiveReads:PermitLimit</c>
/// (default 4) and <c>ExpensiveReads:QueueLimit</c> (default 8).</para>
/// </summary>
public sealed class ExpensiveReads(IConfiguration configuration)
{
    public const string Policy = "expensive-reads";
    public const int RetryAfterSeconds = 1;

    /// <summary>The one limiter all expensive reads share (tests may hold its permits).</summary>
    public ConcurrencyLimiter Limiter { get; } = new(new ConcurrencyLimiterOptions
    {
        PermitLimit = Math.Max(1, configuration.GetValue("ExpensiveReads:PermitLimit", 4)),
        QueueLimit = Math.Max(0, configuration.GetValue("ExpensiveReads:QueueLimit", 8)),
        QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
    });

    /// <summary>
    /// The limiter as the rate-limiting middleware's partition: never idle and never disposed by it. The middleware
    /// disposes a partition's limiter once it has been idle for a while (about 10 s) and asks the factory again; the
    /// shared <see cref="Limiter"/> itself would then be disposed, and every later expensive read a 500.
    /// </summary>
    public RateLimiter Partition => partition ??= new Undisposable(Limiter);

    RateLimiter? partition;

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

public static class ExpensiveReadsSetup
{
    public static IServiceCollection AddExpensiveReads(this IServiceCollection services)
    {
        services.AddSingleton<ExpensiveReads>();
        services.AddRateLimiter(options =>
        {
            options.AddPolicy(ExpensiveReads.Policy, http =>
            {
                var limiter = http.RequestServices.GetRequiredService<ExpensiveReads>().Partition;
                return RateLimitPartition.Get(ExpensiveReads.Policy, _ => limiter);
            });
        });
        return services;
    }
}
