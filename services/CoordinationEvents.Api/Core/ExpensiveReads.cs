using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;

namespace CoordinationEvents.Api.Core;

/// <summary>
/// One careless client never slows the others (issue 21): the expensive reads (statistics, the review report, the
/// feed, verify, an activity's history) share a concurrency limit, so however many of them arrive at once, the cores
/// and the connection pool keep room for writes, which are not limited here. An expensive read past the limit waits
/// in a short queue (oldest first); past the queue it gets a 429 problem document with <c>Retry-After</c>.
/// <para>Registered as the named rate-limiter policy <see cref="Policy"/> (AddRateLimiter, its own Configure; the
/// rejection handler answers only for this policy and passes any other rejection to the handler set before it) and
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
                var limiter = http.RequestServices.GetRequiredService<ExpensiveReads>().Limiter;
                return RateLimitPartition.Get(ExpensiveReads.Policy, _ => limiter);
            });
            var previous = options.OnRejected;
            options.OnRejected = async (context, ct) =>
            {
                var http = context.HttpContext;
                if (http.GetEndpoint()?.Metadata.GetMetadata<EnableRateLimitingAttribute>()?.PolicyName != ExpensiveReads.Policy)
                {
                    if (previous is not null) await previous(context, ct);
                    return;
                }
                http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                http.Response.Headers.RetryAfter = ExpensiveReads.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = http,
                    ProblemDetails = new ProblemDetails
                    {
                        Status = StatusCodes.Status429TooManyRequests,
                        Title = "Too many expensive reads at once",
                        Detail = $"Statistics, reports, the feed, verify and histories share a limit of concurrent requests, and it is reached: retry after {ExpensiveReads.RetryAfterSeconds} s, and ask fewer at a time.",
                    },
                });
            };
        });
        return services;
    }
}
