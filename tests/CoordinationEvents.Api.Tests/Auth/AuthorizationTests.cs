using System.Net;
using System.Text.Json.Nodes;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;

namespace CoordinationEvents.Api.Tests.Auth;

public sealed class AuthorizationTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    static string Body(string externalId, string unitId = "don-ma-lu-thang")
    {
        var node = JsonNode.Parse(ActivityExamples.ByKind["patrol"])!.AsObject();
        node["externalId"] = externalId;
        node["unitId"] = unitId;
        return node.ToJsonString();
    }

    static int counter;

    /// <summary>Each call the matrix makes, with a fresh body where one is needed.</summary>
    static readonly (string Name, Func<HttpClient, Task<HttpResponseMessage>> Call)[] Calls =
    [
        ("record", c => c.PostJsonAsync("/api/v1/activities", Body($"auth-{Interlocked.Increment(ref counter)}"))),
        ("batch", c => c.PostJsonAsync("/api/v1/activities/batch", $"{{\"activities\":[{Body($"auth-{Interlocked.Increment(ref counter)}")}]}}")),
        ("list", c => c.GetAsync("/api/v1/activities")),
        ("statistics", c => c.GetAsync("/api/v1/statistics?from=2024-01-01&to=2024-12-31")),
        ("report", c => c.GetAsync("/api/v1/reports/review?from=2024-01-01&to=2024-12-31&unitId=phong-tho")),
        ("feed", c => c.GetAsync("/api/v1/feed")),
        ("units", c => c.GetAsync("/api/v1/units")),
        ("create unit", c => c.PostJsonAsync("/api/v1/units", $"{{\"unitId\":\"xa-auth-{Interlocked.Increment(ref counter)}\",\"name\":\"Xã thử\",\"type\":\"commune\",\"parentId\":\"phong-tho\"}}")),
        ("projections", c => c.GetAsync("/api/v1/admin/projections")),
        ("verify", c => c.GetAsync("/api/v1/admin/verify")),
    ];

    public static IEnumerable<object[]> Matrix()
    {
        // call, key, expected status
        var allowed = new Dictionary<string, string[]>
        {
            [ApiKeyOptions.DevReporterKey] = ["record", "batch", "units"],
            [ApiKeyOptions.DevAnalystKey] = ["list", "statistics", "report", "feed", "units"],
            [ApiKeyOptions.DevAdminKey] = Calls.Select(c => c.Name).ToArray(),
        };
        foreach (var (name, _) in Calls)
        {
            yield return [name, "", 401];
            yield return [name, "not-a-key", 401];
            foreach (var (key, calls) in allowed)
                yield return [name, key, calls.Contains(name) ? (name is "record" or "create unit" ? 201 : 200) : 403];
        }
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task Every_call_answers_401_without_a_known_key_and_403_outside_the_role(string call, string key, int expected)
    {
        using var client = api.Client(key == "" ? null : key);
        var response = await Calls.Single(c => c.Name == call).Call(client);
        if (expected >= 400) await response.AssertProblemAsync(expected);
        else Assert.True((int)response.StatusCode == expected, $"{call} with {key}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    [Fact]
    public async Task A_reporter_writes_and_reads_only_inside_its_scope()
    {
        using var scoped = api.Client(ApiFactory.ScopedReporterKey);
        using var reporter = api.Reporter;
        var before = await api.EventCountAsync();

        // Phong Thổ's subtree: its own post and communes.
        Assert.Equal(HttpStatusCode.Created, (await scoped.PostJsonAsync("/api/v1/activities", Body("scope-in", "si-lo-lau"))).StatusCode);
        // Mường Tè is another district.
        await (await scoped.PostJsonAsync("/api/v1/activities", Body("scope-out", "muong-te"))).AssertProblemAsync(403);
        var batch = await (await scoped.PostJsonAsync("/api/v1/activities/batch", $"{{\"activities\":[{Body("scope-b1", "phong-tho")},{Body("scope-b2", "lai-chau")}]}}")).JsonAsync();
        Assert.Equal(["created", "invalid"], batch.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("status").GetString()));
        Assert.Equal(before + 2, await api.EventCountAsync());

        var outside = (await (await reporter.PostJsonAsync("/api/v1/activities", Body("scope-other", "muong-te"))).JsonAsync()).GetProperty("activityId").GetGuid();
        await (await scoped.GetAsync($"/api/v1/activities/{outside}")).AssertProblemAsync(403);
        await (await scoped.PutJsonAsync($"/api/v1/activities/{outside}", Body("scope-other", "phong-tho"), "\"1\"")).AssertProblemAsync(403);
        await (await scoped.DeleteJsonAsync($"/api/v1/activities/{outside}", """{"reason":"không thuộc phạm vi"}""")).AssertProblemAsync(403);

        // Moving one of its own activities out of its scope is refused too.
        var inside = (await (await scoped.PostJsonAsync("/api/v1/activities", Body("scope-move", "don-ma-lu-thang"))).JsonAsync()).GetProperty("activityId").GetGuid();
        await (await scoped.PutJsonAsync($"/api/v1/activities/{inside}", Body("scope-move", "muong-te"), "\"1\"")).AssertProblemAsync(403);
        Assert.Equal(1, await api.ScalarAsync($"select (data->>'version')::int from mt_doc_activityview where id = '{inside}'"));
    }

    [Fact]
    public async Task Health_needs_no_key_and_readiness_checks_the_database()
    {
        using var anonymous = api.Client(null);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health/ready")).StatusCode);
    }

    [Fact]
    public async Task Swagger_lists_every_endpoint_the_key_scheme_and_an_example_per_kind()
    {
        using var anonymous = api.Client(null);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/swagger/index.html")).StatusCode);
        var doc = JsonNode.Parse(await anonymous.GetStringAsync("/swagger/v1/swagger.json"))!;
        var paths = doc["paths"]!.AsObject().Select(p => p.Key).ToArray();
        foreach (var path in new[]
        {
            "/api/v1/activities", "/api/v1/activities/batch", "/api/v1/activities/{activityId}", "/api/v1/activities/{activityId}/history",
            "/api/v1/units", "/api/v1/units/{unitId}", "/api/v1/statistics", "/api/v1/reports/review", "/api/v1/feed",
            "/api/v1/admin/projections", "/api/v1/admin/projections/{name}/rebuild", "/api/v1/admin/verify", "/health/live", "/health/ready",
        })
            Assert.Contains(path, paths);
        Assert.Equal("X-Api-Key", doc["components"]!["securitySchemes"]!["ApiKey"]!["name"]!.GetValue<string>());
        var examples = doc["paths"]!["/api/v1/activities"]!["post"]!["requestBody"]!["content"]!["application/json"]!["examples"]!.AsObject();
        Assert.Equal(KindCatalog.All.Select(k => k.Name).Order(), examples.Select(e => e.Key).Order());
        // The contract's failure answers are documented too: 409 for a reused externalId, 412/428/409 for corrections.
        string[] Responses(string path, string method) => doc["paths"]![path]![method]!["responses"]!.AsObject().Select(r => r.Key).ToArray();
        Assert.Contains("409", Responses("/api/v1/activities", "post"));
        Assert.Contains("400", Responses("/api/v1/activities", "post"));
        foreach (var code in new[] { "404", "409", "412", "428" }) Assert.Contains(code, Responses("/api/v1/activities/{activityId}", "put"));
        Assert.Contains("412", Responses("/api/v1/activities/{activityId}", "delete"));
        Assert.NotNull(doc["paths"]!["/api/v1/activities/{activityId}"]!["put"]!["requestBody"]);
    }
}

/// <summary>Outside Development the fixed keys do not exist.</summary>
public sealed class ProductionKeysTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    sealed class Production(string connectionString) : Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
        {
            builder.UseEnvironment("Production");
            builder.ConfigureAppConfiguration(c => c.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["ConnectionStrings:Events"] = connectionString,
                ["ApiKeys:0:Client"] = "prod-analyst",
                ["ApiKeys:0:Role"] = "analyst",
                ["ApiKeys:0:KeySha256"] = ApiKeyOptions.Hash("a-real-secret"),
                ["Logging:LogLevel:Default"] = "Warning",
            }));
        }
    }

    [Fact]
    public async Task The_development_keys_are_refused_and_configured_keys_work()
    {
        await using var production = new Production(api.ConnectionString);
        foreach (var key in new[] { ApiKeyOptions.DevReporterKey, ApiKeyOptions.DevAnalystKey, ApiKeyOptions.DevAdminKey })
        {
            using var client = production.CreateClient();
            client.DefaultRequestHeaders.Add("X-Api-Key", key);
            await (await client.GetAsync("/api/v1/units")).AssertProblemAsync(401);
        }
        using var analyst = production.CreateClient();
        analyst.DefaultRequestHeaders.Add("X-Api-Key", "a-real-secret");
        Assert.Equal(HttpStatusCode.OK, (await analyst.GetAsync("/api/v1/units")).StatusCode);
    }
}
