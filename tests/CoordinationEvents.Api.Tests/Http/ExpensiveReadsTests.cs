using System.Net;
using System.Threading.RateLimiting;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CoordinationEvents.Api.Tests.Http;

/// <summary>
/// The expensive reads share one concurrency limit (issue 21): past it, and past its short queue, they get a 429
/// problem document with Retry-After at once; other endpoints are not held back. The test holds the limiter's
/// permits and fills its queue itself, so nothing depends on timing.
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
                (analyst, "/api/v1/statistics?from=2024-01-01&to=2024-12-31"),
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
}
