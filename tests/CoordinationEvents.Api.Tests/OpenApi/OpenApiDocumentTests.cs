using System.Text.Json.Nodes;
using CoordinationEvents.Api.Tests.Infrastructure;

namespace CoordinationEvents.Api.Tests.OpenApi;

/// <summary>
/// The OpenAPI document as client teams get it (/swagger/v1/swagger.json), written to
/// <c>TestResults/openapi/swagger.json</c> for deploy/lint-openapi.sh (Redocly's linter, and a TypeScript client
/// generated from it and type-checked), with the facts every /api/v1 operation must declare.
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

    [Fact]
    public async Task The_document_is_written_for_the_linter()
    {
        using var client = api.Client(null);
        var json = await client.GetStringAsync("/swagger/v1/swagger.json");
        Directory.CreateDirectory(Path.GetDirectoryName(OutputPath)!);
        await File.WriteAllTextAsync(OutputPath, json);
        Assert.NotNull(JsonNode.Parse(json)?["paths"]);
    }
}
