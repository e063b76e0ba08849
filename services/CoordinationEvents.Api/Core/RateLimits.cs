using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;

namespace CoordinationEvents.Api.Core;

/// <summary>One key's bucket: <see cref="PermitsPerSecond"/> requests a second on average, up to <see cref="Burst"/> at once.</summary>
public sealed class RateLimit
{
    /// <summary>Tokens added each second (fractions allowed: 0.5 is one every two seconds). 0 or less: no limit.</summary>
    public double PermitsPerSecond { get; set; }
    /// <summary>The bucket's size: how many requests a key may send at once after a quiet while.</summary>
    public int Burst { get; set; }
}

/// <summary>
/// <c>RateLimits</c> in configuration: a token bucket per API key and kind of request. The defaults let a posting
/// system post 100 requests a second for ever (a batch is one request, up to 1,000 activities), after a burst of 500;
/// a system that retries in a tight loop is held to that.
/// </summary>
public sealed class RateLimitOptions
{
    public const string Section = "RateLimits";

    /// <summary>POST, PUT, DELETE under /api/v1, except starting an import.</summary>
    public RateLimit Writes { get; set; } = new() { PermitsPerSecond = 100, Burst = 500 };
    /// <summary>GET and HEAD under /api/v1.</summary>
    public RateLimit Reads { get; set; } = new() { PermitsPerSecond = 100, Burst = 500 };
    /// <summary>POST /api/v1/imports: each one starts a whole file's import.</summary>
    public RateLimit Imports { get; set; } = new() { PermitsPerSecond = 1, Burst = 10 };
}

/// <summary>
/// Per-key rate limits with ASP.NET Core's rate limiter, as a global limiter that runs after authentication (it needs
/// the key) and before any endpoint reads a body: a refused request stores nothing. Past the limit: 429, a
/// <c>Retry-After</c> in seconds, and a problem document. Requests without a known key are not limited here (they
/// get 401 without touching the database's event store). Each instance counts on its own.
/// </summary>
public static class RateLimits
{
    public const string Writes = "writes", Reads = "reads", Imports = "imports";

    /// <summary>The claim that names the key a request came with (a configured key's client, or a stored key's id).</summary>
    public const string KeyClaim = "ce:key";

    public static IServiceCollection AddRateLimits(this IServiceCollection services, IConfiguration configuration)
    {
        // Bound when first asked for, not now: a test host's configuration is added after the services are.
        services.Configure<RateLimitOptions>(configuration.GetSection(RateLimitOptions.Section));
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<Microsoft.Extensions.Options.IOptions<RateLimitOptions>>((limiter, limits) =>
        {
            var options = limits.Value;
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http => Partition(http, options));
            limiter.OnRejected = (context, ct) => RejectAsync(context, ct);
        });
        return services;
    }

    /// <summary>The kind of <paramref name="request"/> for the limits, or null when it is not limited (not under /api/v1).</summary>
    public static string? KindOf(HttpRequest request)
    {
        if (!request.Path.StartsWithSegments("/api/v1", StringComparison.OrdinalIgnoreCase)) return null;
        if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method)) return Reads;
        return HttpMethods.IsPost(request.Method) && request.Path.StartsWithSegments("/api/v1/imports", StringComparison.OrdinalIgnoreCase)
            ? Imports : Writes;
    }

    static RateLimitPartition<string> Partition(HttpContext http, RateLimitOptions options)
    {
        var kind = KindOf(http.Request);
        var key = http.User.FindFirstValue(KeyClaim);
        var limit = kind switch { Writes => options.Writes, Reads => options.Reads, Imports => options.Imports, _ => null };
        if (kind is null || key is null || limit is null || limit.PermitsPerSecond <= 0)
            return RateLimitPartition.GetNoLimiter("");
        return RateLimitPartition.GetTokenBucketLimiter($"{kind}|{key}", _ => Bucket(limit));
    }

    /// <summary>
    /// The partitioned limiter refills its buckets from a 100 ms timer, one period's tokens at a time, so the period is
    /// a second (or longer for less than one permit a second) and the tokens are whole.
    /// </summary>
    public static TokenBucketRateLimiterOptions Bucket(RateLimit limit) => limit.PermitsPerSecond >= 1
        ? new()
        {
            TokenLimit = Math.Max(1, Math.Max(limit.Burst, (int)Math.Round(limit.PermitsPerSecond))),
            TokensPerPeriod = (int)Math.Round(limit.PermitsPerSecond),
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        }
        : new()
        {
            TokenLimit = Math.Max(1, limit.Burst),
            TokensPerPeriod = 1,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1 / limit.PermitsPerSecond),
            QueueLimit = 0,
            AutoReplenishment = true,
        };

    /// <summary>
    /// The one answer to a refused request, whichever limiter refused it: a 429 problem document with <c>Retry-After</c>
    /// (the token bucket's own wait, or the expensive reads' fixed one). A per-key bucket's lease says when to retry; the
    /// expensive reads' concurrency limiter does not.
    /// </summary>
    static async ValueTask RejectAsync(OnRejectedContext context, CancellationToken ct)
    {
        var http = context.HttpContext;
        var waits = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after);
        var perKey = waits || http.GetEndpoint()?.Metadata.GetMetadata<EnableRateLimitingAttribute>()?.PolicyName != ExpensiveReads.Policy;
        var seconds = waits ? Math.Max(1, (int)Math.Ceiling(after.TotalSeconds)) : ExpensiveReads.RetryAfterSeconds;
        http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        http.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = perKey
                ? new ProblemDetails
                {
                    Status = 429, Title = "Too many requests",
                    Detail = $"This API key has sent more {KindOf(http.Request)} than its limit allows; nothing of this request was done. Retry after {seconds} s.",
                }
                : new ProblemDetails
                {
                    Status = 429, Title = "Too many expensive reads at once",
                    Detail = $"Statistics, reports, the feed, verify and histories share a limit of concurrent requests, and it is reached: retry after {seconds} s, and ask fewer at a time.",
                },
        });
    }
}
