using System.Net;
using System.Threading.RateLimiting;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CoordinationEvents.Api.Tests.Http;

/// <summary>
/// The expensive reads share a concurrency limit (issue 21): past it, and past its short queue, they get a 429
/// problem document with Retry-After at once; other endpoints are not held back, and a light statistics query has a
/// lane of its own. The tests hold the limiters' permits and fill their queues themselves, so nothing depends on timing.
/// </summary>
public sealed class ExpensiveReadsTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task Past_the_limit_expensive_reads_get_a_429_with_Retry_After_and_other_requests_pass()
    {
        using var analyst = api.Analyst;
        using var admin = api.Admin;
        var limiter = api.Services.GetRequiredService<ExpensiveReads>().Limiter;
        var held = new List<RateLimitLease>();
        while (limiter.AttemptAcquire() is { IsAcquired: true } lease) held.Add(lease);
        var queued = Enumerable.Range(0, 64).Select(_ => limiter.AcquireAsync().AsTask()).ToList();
        try
        {
            foreach (var (client, path) in new[]
            {
                (analyst, "/api/v1/statistics?from=2000-01-01&to=2024-12-31&groupBy=month"),
                (analyst, "/api/v1/statistics?from=2024-01-01&to=2024-12-31&asOf=2024-12-31"),
                (analyst, "/api/v1/feed"),
                (analyst, "/api/v1/reports/review?unitId=lai-chau&from=2024-01-01&to=2024-12-31"),
                (analyst, $"/api/v1/activities/{Guid.NewGuid()}/history"),
                (admin, "/api/v1/admin/verify"),
            })
            {
                var response = await client.GetAsync(path);
                await response.AssertProblemAsync(429);
                Assert.NotNull(response.Headers.RetryAfter);
            }
            // Not an expensive read: answered while they are held back.
            Assert.Equal(HttpStatusCode.OK, (await analyst.GetAsync("/api/v1/units")).StatusCode);
        }
        finally
        {
            foreach (var lease in held) lease.Dispose();
            foreach (var wait in queued) (await wait).Dispose();
        }
        Assert.Equal(HttpStatusCode.OK, (await analyst.GetAsync("/api/v1/feed")).StatusCode);
    }

    [Fact]
    public async Task A_light_statistics_query_has_its_own_lane_and_its_own_429()
    {
        using var analyst = api.Analyst;
        var reads = api.Services.GetRequiredService<ExpensiveReads>();
        const string light = "/api/v1/statistics?unitId=phong-tho&from=2019-01-01&to=2024-12-31&groupBy=kind,year";
        var (heavy, heavyQueue) = await HoldAsync(reads.Limiter);
        try
        {
            // The heavy lane full: the wide query is refused, the light one answered.
            await (await analyst.GetAsync("/api/v1/statistics?from=1900-01-01&to=2099-12-31&unitId=phong-tho&groupBy=unit,month")).AssertProblemAsync(429);
            Assert.Equal(HttpStatusCode.OK, (await analyst.GetAsync(light)).StatusCode);
            var (held, queued) = await HoldAsync(reads.LightLimiter);
            try
            {
                var refused = await analyst.GetAsync(light);
                await refused.AssertProblemAsync(429);
                Assert.NotNull(refused.Headers.RetryAfter);
            }
            finally { await ReleaseAsync(held, queued); }
        }
        finally { await ReleaseAsync(heavy, heavyQueue); }
        Assert.Equal(HttpStatusCode.OK, (await analyst.GetAsync(light)).StatusCode);
    }

    static Task<(List<RateLimitLease> Held, List<Task<RateLimitLease>> Queued)> HoldAsync(RateLimiter limiter)
    {
        var held = new List<RateLimitLease>();
        while (limiter.AttemptAcquire() is { IsAcquired: true } lease) held.Add(lease);
        var queued = Enumerable.Range(0, 64).Select(_ => limiter.AcquireAsync().AsTask()).ToList();
        return Task.FromResult((held, queued));
    }

    static async Task ReleaseAsync(List<RateLimitLease> held, List<Task<RateLimitLease>> queued)
    {
        foreach (var lease in held) lease.Dispose();
        foreach (var wait in queued) (await wait).Dispose();
    }
}
