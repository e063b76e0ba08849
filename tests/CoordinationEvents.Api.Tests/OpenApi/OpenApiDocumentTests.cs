using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Tests.Infrastructure;

namespace CoordinationEvents.Api.Tests.OpenApi;

/// <summary>
/// The OpenAPI document as client teams get it (/swagger/v1/swagger.json), written to
/// <c>TestResults/openapi/swagger.json</c> for deploy/lint-openapi.sh (Redocly's linter, and a TypeScript client
/// generated from it and type-checked); the facts every operation must declare; and the conformance check
/// (<see cref="OpenApiConformance"/>) shown to catch what it is there to catch.
/// </summary>
public sealed class OpenApiDocumentTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    public static string OutputPath => Path.Combine(RepositoryRoot(), "TestResults", "openapi", "swagger.json");

    static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "CoordinationEvents.sln"))) return dir.FullName;
        throw new InvalidOperationException("CoordinationEvents.sln not found above " + AppContext.BaseDirectory);
    }

    async Task<JsonObject> DocumentAsync()
    {
        using var client = api.Client(null);
        return JsonNode.Parse(await client.GetStringAsync("/swagger/v1/swagger.json"))!.AsObject();
    }

    IEnumerable<(string Path, string Method, JsonObject Operation)> Operations(JsonObject document) =>
        document["paths"]!.AsObject().SelectMany(p => p.Value!.AsObject().Select(o => (p.Key, o.Key.ToUpperInvariant(), o.Value!.AsObject())));

    [Fact]
    public async Task The_document_is_written_for_the_linter()
    {
        using var client = api.Client(null);
        var json = await client.GetStringAsync("/swagger/v1/swagger.json");
        Directory.CreateDirectory(Path.GetDirectoryName(OutputPath)!);
        await File.WriteAllTextAsync(OutputPath, json);
        Assert.NotNull(JsonNode.Parse(json)?["paths"]);
    }

    [Fact]
    public async Task Every_operation_declares_its_errors_as_problem_documents()
    {
        var document = await DocumentAsync();
        foreach (var (path, method, operation) in Operations(document))
        {
            var responses = operation["responses"]!.AsObject();
            string Schema(string status) => responses[status]?["content"]?["application/problem+json"]?["schema"]?["$ref"]?.GetValue<string>() ?? "(none)";
            var name = $"{method} {path}";
            if (path.StartsWith("/api/v1/", StringComparison.Ordinal))
            {
                Assert.True(Schema("401").EndsWith("/ProblemDetails"), $"{name}: 401");
                Assert.True(Schema("403").EndsWith("/ProblemDetails"), $"{name}: 403");
            }
            if (path.Contains('{')) Assert.True(Schema("404").EndsWith("/ProblemDetails"), $"{name}: 404");
            var hasInput = operation.ContainsKey("requestBody") || operation["parameters"]?.AsArray().Any(p => p!["in"]!.GetValue<string>() == "query") == true;
            if (hasInput) Assert.True(Schema("400").EndsWith("/HttpValidationProblemDetails"), $"{name}: 400");
            if (operation.ContainsKey("requestBody"))
            {
                Assert.True(Schema("413").EndsWith("/ProblemDetails"), $"{name}: 413");
                Assert.True(Schema("415").EndsWith("/ProblemDetails"), $"{name}: 415");
            }
            foreach (var (status, response) in responses)
            {
                // Every error is a problem document, but readiness's 503, which answers the health body (status, database, projections).
                if (int.Parse(status) >= 400 && name != "GET /health/ready")
                    Assert.Equal(["application/problem+json"], response!["content"]!.AsObject().Select(c => c.Key));
                if (status == "201") Assert.NotNull(response!["headers"]?["Location"]);
            }
        }
    }

    [Fact]
    public async Task Headers_media_types_and_parameters_of_the_contract_are_declared()
    {
        var document = await DocumentAsync();
        JsonObject Op(string path, string method) => document["paths"]![path]![method]!.AsObject();
        JsonNode? Header(JsonObject operation, string status, string name) => operation["responses"]![status]!["headers"]?[name];
        const string activity = "/api/v1/activities/{activityId}";

        Assert.NotNull(Header(Op(activity, "get"), "200", "ETag"));
        foreach (var method in new[] { "put", "delete" })
        {
            Assert.NotNull(Header(Op(activity, method), "200", "ETag"));
            Assert.Contains(Op(activity, method)["parameters"]!.AsArray(), p => p!["name"]!.GetValue<string>() == "If-Match" && p["in"]!.GetValue<string>() == "header");
        }
        Assert.True(Op(activity, "put")["parameters"]!.AsArray().Single(p => p!["name"]!.GetValue<string>() == "If-Match")!["required"]!.GetValue<bool>());
        foreach (var status in new[] { "409", "412", "422", "428" }) Assert.NotNull(Op(activity, "put")["responses"]![status]);
        Assert.NotNull(Header(Op("/api/v1/imports", "post"), "202", "Location"));
        Assert.NotNull(Header(Op("/api/v1/admin/projections/{name}/rebuild", "post"), "202", "Location"));

        var import = Op("/api/v1/imports", "post")["requestBody"]!["content"]!["application/x-ndjson"]!;
        Assert.Equal("string", import["schema"]!["type"]!.GetValue<string>());
        foreach (var line in import["example"]!.GetValue<string>().Split('\n', StringSplitOptions.RemoveEmptyEntries))
            Assert.NotNull(JsonNode.Parse(line)!["kind"]);
        Assert.Equal("string", Op("/api/v1/statistics", "get")["responses"]!["200"]!["content"]!["text/csv"]!["schema"]!["type"]!.GetValue<string>());
        Assert.Equal("string", Op("/api/v1/reports/review", "get")["responses"]!["200"]!["content"]!["text/markdown"]!["schema"]!["type"]!.GetValue<string>());
        Assert.EndsWith("HealthStatus", Op("/health/live", "get")["responses"]!["200"]!["content"]!["application/json"]!["schema"]!["$ref"]!.GetValue<string>());
        foreach (var status in new[] { "200", "503" })
            Assert.EndsWith("ReadyResponse", Op("/health/ready", "get")["responses"]![status]!["content"]!["application/json"]!["schema"]!["$ref"]!.GetValue<string>());

        var statistics = Op("/api/v1/statistics", "get")["parameters"]!.AsArray().Select(p => p!["name"]!.GetValue<string>()).ToHashSet();
        Assert.Superset(new[] { "from", "to", "unitId", "kind", "groupBy" }.Concat(KindCatalog.DimensionNames).ToHashSet(), statistics);

        Assert.NotEmpty(document["servers"]!.AsArray());
        Assert.NotNull(document["info"]!["license"]!["name"]);
        Assert.All(document["tags"]!.AsArray(), t => Assert.False(string.IsNullOrWhiteSpace(t!["description"]?.GetValue<string>())));
    }

    /// <summary>Answers every request with the given response, as a service that drifted from its document would.</summary>
    sealed class Canned(Func<HttpResponseMessage> answer) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) => Task.FromResult(answer());
    }

    Task<HttpResponseMessage> ThroughConformance(HttpMethod method, string path, Func<HttpResponseMessage> answer) =>
        new HttpMessageInvoker(new OpenApiConformance(api) { InnerHandler = new Canned(answer) })
            .SendAsync(new HttpRequestMessage(method, "http://localhost" + path), CancellationToken.None);

    static HttpResponseMessage Json(HttpStatusCode status, string json, string mediaType = "application/json") =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, mediaType) };

    [Fact]
    public async Task The_conformance_check_refuses_an_undeclared_status_media_type_missing_header_or_body_off_schema()
    {
        const string unit = """{"unitId":"phong-tho","name":"Phong Thổ","type":"district","parentId":"lai-chau"}""";
        // What conforms passes.
        Assert.Equal(HttpStatusCode.OK, (await ThroughConformance(HttpMethod.Get, "/api/v1/units/phong-tho", () => Json(HttpStatusCode.OK, unit))).StatusCode);

        var teapot = await Assert.ThrowsAsync<OpenApiConformanceException>(() =>
            ThroughConformance(HttpMethod.Get, "/api/v1/units/phong-tho", () => Json((HttpStatusCode)418, """{"status":418}""", "application/problem+json")));
        Assert.Contains("status 418 is not declared", teapot.Message);

        var text = await Assert.ThrowsAsync<OpenApiConformanceException>(() =>
            ThroughConformance(HttpMethod.Get, "/api/v1/units/phong-tho", () => Json(HttpStatusCode.OK, "phong-tho", "text/plain")));
        Assert.Contains("media type text/plain is not declared", text.Message);

        var location = await Assert.ThrowsAsync<OpenApiConformanceException>(() =>
            ThroughConformance(HttpMethod.Post, "/api/v1/units", () => Json(HttpStatusCode.Created, unit)));
        Assert.Contains("header Location is missing", location.Message);

        var schema = await Assert.ThrowsAsync<OpenApiConformanceException>(() =>
            ThroughConformance(HttpMethod.Get, "/api/v1/activities/00000000-0000-0000-0000-000000000001", () => Json(HttpStatusCode.OK, """{"activityId":"00000000-0000-0000-0000-000000000001","version":"three"}""")));
        Assert.Contains("does not match the declared schema", schema.Message);
    }
}
