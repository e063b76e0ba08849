using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using CoordinationEvents.Api.Auth;
using CoordinationEvents.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace CoordinationEvents.Api.Tests.Infrastructure;

/// <summary>
/// The service in-process, through the whole ASP.NET pipeline, against a fresh database of the test run's
/// throwaway PostgreSQL. One per test class (IClassFixture), so classes never share data.
/// </summary>
public sealed class ApiFactory : WebApplicationFactory<Program>, IAsyncLifetime
{
    public const string ScopedReporterKey = "scoped-reporter-key";
    public const string ScopedReporterClient = "phong-tho-duty-log";
    public const string OtherReporterKey = "other-reporter-key";

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public string ConnectionString { get; private set; } = "";

    readonly IReadOnlyDictionary<string, string?> settings = new Dictionary<string, string?>();

    public ApiFactory() { }

    /// <summary>
    /// A host on an existing database (a second instance, or the same service after a restart), with extra settings;
    /// started by <see cref="InitializeAsync"/>.
    /// </summary>
    internal ApiFactory(string connectionString, IReadOnlyDictionary<string, string?>? settings = null)
    {
        ConnectionString = connectionString;
        this.settings = settings ?? this.settings;
    }

    public async Task InitializeAsync()
    {
        if (ConnectionString.Length == 0)
        {
            var server = await PostgresServer.SharedAsync();
            ConnectionString = await server.CreateDatabaseAsync("api", maxPoolSize: 40);
        }
        _ = Server; // start the host now: migrations run and the projection runner starts
    }

    public new async Task DisposeAsync() => await base.DisposeAsync();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        builder.ConfigureAppConfiguration(config => config.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Events"] = ConnectionString,
            ["ApiKeys:0:Client"] = ScopedReporterClient,
            ["ApiKeys:0:Role"] = Roles.Reporter,
            ["ApiKeys:0:KeySha256"] = ApiKeyOptions.Hash(ScopedReporterKey),
            ["ApiKeys:0:Scope:0"] = "phong-tho",
            ["ApiKeys:1:Client"] = "other-reporter",
            ["ApiKeys:1:Role"] = Roles.Reporter,
            ["ApiKeys:1:KeySha256"] = ApiKeyOptions.Hash(OtherReporterKey),
            ["Logging:LogLevel:Default"] = Environment.GetEnvironmentVariable("CE_TEST_LOG") ?? "Warning",
        }).AddInMemoryCollection(settings));
    }

    public HttpClient Client(string? key)
    {
        var client = CreateClient();
        if (key is not null) client.DefaultRequestHeaders.Add("X-Api-Key", key);
        return client;
    }

    public HttpClient Reporter => Client(ApiKeyOptions.DevReporterKey);
    public HttpClient Analyst => Client(ApiKeyOptions.DevAnalystKey);
    public HttpClient Admin => Client(ApiKeyOptions.DevAdminKey);

    public async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync());
    }

    public Task<long> EventCountAsync() => ScalarAsync("select count(*) from mt_events");

    /// <summary>
    /// Asks <c>GET /api/v1/admin/verify</c> (the statistics recomputed from the raw events) and asserts that it
    /// finds no difference; returns the report for further checks.
    /// </summary>
    public async Task<JsonElement> AssertStatisticsConsistentAsync()
    {
        using var admin = Admin;
        var report = await admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/verify");
        Assert.True(report.GetProperty("differenceCount").GetInt32() == 0, report.ToString());
        return report;
    }

    /// <summary>Waits until every async projection has applied every committed event.</summary>
    public async Task WaitForProjectionsAsync(int seconds = 120)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        using var admin = Admin;
        while (true)
        {
            var status = await admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/projections");
            var projections = status.GetProperty("projections").EnumerateArray().ToArray();
            if (projections.All(p => p.GetProperty("lag").GetInt64() == 0 && !p.GetProperty("rebuilding").GetBoolean()
                && p.GetProperty("rebuildRequestedAt").ValueKind == JsonValueKind.Null))
                return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Projections did not catch up: {status}");
            await Task.Delay(25);
        }
    }
}

public static class HttpExtensions
{
    public static StringContent JsonBody(string json) => new(json, Encoding.UTF8, "application/json");

    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string url, string json) => client.PostAsync(url, JsonBody(json));

    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response) =>
        JsonSerializer.Deserialize<JsonElement>(await response.Content.ReadAsStringAsync());

    public static async Task<HttpResponseMessage> PutJsonAsync(this HttpClient client, string url, string json, string? ifMatch)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, url) { Content = JsonBody(json) };
        if (ifMatch is not null) request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        return await client.SendAsync(request);
    }

    public static Task<HttpResponseMessage> DeleteJsonAsync(this HttpClient client, string url, string json) =>
        client.SendAsync(new HttpRequestMessage(HttpMethod.Delete, url) { Content = JsonBody(json) });

    /// <summary>Asserts a problem document with the status and, when given, an error naming the field.</summary>
    public static async Task<JsonElement> AssertProblemAsync(this HttpResponseMessage response, int status, string? field = null)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"Expected {status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonSerializer.Deserialize<JsonElement>(body);
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
        if (field is not null)
        {
            Assert.True(problem.TryGetProperty("errors", out var errors) && errors.TryGetProperty(field, out _),
                $"Expected an error naming '{field}': {body}");
        }
        return problem;
    }
}
