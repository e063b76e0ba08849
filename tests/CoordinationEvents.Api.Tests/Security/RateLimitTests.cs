using System.Net;
using System.Text.Json.Nodes;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Tests.Infrastructure;
using CoordinationEvents.Testing;

namespace CoordinationEvents.Api.Tests.Security;

/// <summary>
/// Per-key rate limits with small limits (a burst of 5 writes, then 1 a second): a key past its limit gets 429 with
/// Retry-After and a problem document while another key is served; every refused write is absent from the store
/// and every accepted one is there.
/// </summary>
public sealed class RateLimitTests : IAsyncLifetime
{
    const int Burst = 5;
    ApiFactory api = null!;

    public async Task InitializeAsync()
    {
        var server = await PostgresServer.SharedAsync();
        api = new ApiFactory(await server.CreateDatabaseAsync("ratelimit", maxPoolSize: 20), new Dictionary<string, string?>
        {
            ["RateLimits:Writes:PermitsPerSecond"] = "1",
            ["RateLimits:Writes:Burst"] = Burst.ToString(),
            ["RateLimits:Reads:PermitsPerSecond"] = "1",
            ["RateLimits:Reads:Burst"] = "3",
            ["RateLimits:Imports:PermitsPerSecond"] = "0",
        });
        await api.InitializeAsync();
    }

    public async Task DisposeAsync() => await api.DisposeAsync();

    static string Activity(string externalId)
    {
        var node = JsonNode.Parse(ActivityExamples.ByKind["patrol"])!;
        node["externalId"] = externalId;
        return node.ToJsonString();
    }

    [Fact]
    public async Task A_key_past_its_limit_gets_429_with_Retry_After_while_another_key_is_served_and_nothing_refused_is_stored()
    {
        using var busy = api.Reporter;
        using var other = api.Client(ApiFactory.OtherReporterKey);
        var accepted = new List<(string ExternalId, Guid ActivityId)>();
        var refused = new List<string>();
        var retryAfter = TimeSpan.Zero;

        // Classifies each answer: a slow machine may see a token come back between two posts, so no single post's
        // answer is predicted; the counts and the store are checked.
        async Task PostAsync(HttpClient client, string externalId, bool batch = false)
        {
            using var response = batch
                ? await client.PostJsonAsync("/api/v1/activities/batch", $$"""{"activities":[{{Activity(externalId)}}]}""")
                : await client.PostJsonAsync("/api/v1/activities", Activity(externalId));
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                var problem = await response.AssertProblemAsync(429);
                Assert.Contains("limit", problem.GetProperty("detail").GetString());
                Assert.True(response.Headers.RetryAfter?.Delta is { TotalSeconds: >= 1 }, $"Retry-After: {response.Headers.RetryAfter}");
                retryAfter = response.Headers.RetryAfter!.Delta!.Value;
                refused.Add(externalId);
                return;
            }
            var body = await response.JsonAsync();
            Assert.True(response.IsSuccessStatusCode, body.ToString());
            accepted.Add((externalId, batch ? body.GetProperty("results")[0].GetProperty("activityId").GetGuid() : body.GetProperty("activityId").GetGuid()));
        }

        for (var i = 0; i < 4 * Burst; i++) await PostAsync(busy, $"rate-limit-busy-{i}");
        Assert.True(refused.Count >= Burst, $"{refused.Count} refused of {4 * Burst}");
        Assert.True(accepted.Count >= Burst, $"{accepted.Count} accepted of {4 * Burst}");

        // Another key is served meanwhile: its own bucket.
        var before = accepted.Count;
        await PostAsync(other, "rate-limit-other-0");
        Assert.Equal(before + 1, accepted.Count);
        // Batches are writes too; the busy key's reads have a bucket of their own.
        for (var i = 0; i < Burst; i++) await PostAsync(busy, $"rate-limit-batch-{i}", batch: true);
        Assert.Contains(refused, r => r.StartsWith("rate-limit-batch-", StringComparison.Ordinal));
        using (var read = await busy.GetAsync($"/api/v1/activities/{accepted[0].ActivityId}"))
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);

        foreach (var (externalId, activityId) in accepted)
        {
            Assert.Equal(1, await api.ScalarAsync($"select count(*) from mt_streams where id = '{activityId}'"));
            Assert.Equal(1, await api.ScalarAsync($"select count(*) from mt_events where data::text like '%\"{externalId}\"%'"));
        }
        foreach (var externalId in refused)
            Assert.Equal(0, await api.ScalarAsync($"select count(*) from mt_events where data::text like '%\"{externalId}\"%'"));
        Assert.Equal(accepted.Count, await api.EventCountAsync());

        // After Retry-After, the key is served again.
        await Task.Delay(retryAfter + TimeSpan.FromMilliseconds(200));
        using var again = await busy.PostJsonAsync("/api/v1/activities", Activity("rate-limit-busy-later"));
        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
    }

    [Fact]
    public async Task Reads_past_their_limit_get_429_too()
    {
        using var analyst = api.Analyst;
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 8; i++)
        {
            using var response = await analyst.GetAsync("/api/v1/catalog");
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests) await response.AssertProblemAsync(429);
        }
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
        Assert.Equal(HttpStatusCode.OK, statuses[0]);
    }

    [Fact]
    public async Task The_OpenAPI_document_gives_every_api_operation_a_429_with_Retry_After()
    {
        using var client = api.Client(null);
        var document = JsonNode.Parse(await client.GetStringAsync("/swagger/v1/swagger.json"))!;
        var operations = document["paths"]!.AsObject().Where(p => p.Key.StartsWith("/api/v1/", StringComparison.Ordinal))
            .SelectMany(p => p.Value!.AsObject().Select(o => (Path: p.Key, Method: o.Key, Operation: o.Value!))).ToArray();
        Assert.NotEmpty(operations);
        foreach (var (path, method, operation) in operations)
        {
            var tooMany = operation["responses"]?["429"];
            Assert.True(tooMany is not null, $"{method} {path} has no 429");
            Assert.NotNull(tooMany!["headers"]?["Retry-After"]);
            Assert.NotNull(tooMany["content"]?["application/problem+json"]);
        }
    }
}
