using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace CoordinationEvents.Api.Tests.Infrastructure;

/// <summary>
/// One instance of the service in-process, through the whole ASP.NET pipeline, in Development (the fixed keys),
/// on the database of <see cref="ConnectionString"/>; with the waits and checks the tests share.
/// </summary>
public class ServiceInstance(string connectionString = "") : WebApplicationFactory<Program>
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public string ConnectionString { get; protected set; } = connectionString;

    /// <summary>Configuration beyond the connection string and the log level.</summary>
    protected virtual IEnumerable<KeyValuePair<string, string?>> Settings => [];

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        builder.ConfigureAppConfiguration(config =>
        {
            var settings = new Dictionary<string, string?>
            {
                // The tests post as fast as they can with one key (the fuzz test, the concurrency tests): no rate limits,
                // unless a test sets its own (Security/RateLimitTests).
                ["RateLimits:Writes:PermitsPerSecond"] = "0",
                ["RateLimits:Reads:PermitsPerSecond"] = "0",
                ["RateLimits:Imports:PermitsPerSecond"] = "0",
            };
            foreach (var (key, value) in Settings) settings[key] = value;
            settings["ConnectionStrings:Events"] = ConnectionString;
            settings["Logging:LogLevel:Default"] = Environment.GetEnvironmentVariable("CE_TEST_LOG") ?? "Warning";
            config.AddInMemoryCollection(settings);
        });
    }

    /// <summary>A client whose every response is checked against the OpenAPI document (<see cref="OpenApiConformance"/>).</summary>
    public new HttpClient CreateClient() => CreateDefaultClient(new Microsoft.AspNetCore.Mvc.Testing.Handlers.RedirectHandler(), new OpenApiConformance(this));

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

    /// <summary>The activity events stored (the unit events of the seed and of reorganisations are not counted).</summary>
    public Task<long> EventCountAsync() => ScalarAsync("select count(*) from mt_events where type like 'activity-%'");

    /// <summary>Every event stored, the unit events too.</summary>
    public Task<long> AllEventCountAsync() => ScalarAsync("select count(*) from mt_events");

    /// <summary>The statistics projection's position: its row in the daemon's <c>mt_event_progression</c>.</summary>
    public Task<long> ProjectionPositionAsync() => ScalarAsync(
        $"select last_seq_id from mt_event_progression where name = '{CoordinationEvents.Api.Statistics.StatisticsProjection.ShardName}'");

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

    /// <summary>Waits until every async projection has applied every committed event, and no rebuild is pending.</summary>
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

    /// <summary>The organisation changes whose restatement was asked for so far (rows of <c>organisation_restates</c>).</summary>
    public Task<long> RestatesAsync() => ScalarAsync("select count(*) from organisation_restates");

    /// <summary>
    /// Waits until at least <paramref name="changes"/> organisation changes have asked for their restatement (their
    /// durable message is handled a moment after the change's answer) and every one is done, then for the projections.
    /// </summary>
    public async Task WaitForRestatesAsync(long changes, int seconds = 120)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (await RestatesAsync() < changes || await ScalarAsync("select count(*) from organisation_restates where done_at is null") > 0)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("The organisation's restatement did not finish.");
            await Task.Delay(25);
        }
        await WaitForProjectionsAsync(seconds);
    }

    /// <summary>Whether this instance's daemon runs the projections (HotCold: one of several does).</summary>
    public async Task<bool> RunsProjectionsAsync()
    {
        using var admin = Admin;
        return (await admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/projections")).GetProperty("runsProjectionsHere").GetBoolean();
    }

    /// <summary>
    /// Runs write rounds (<paramref name="round"/> 0, 1, …) while terminating, every 15 ms, each connection that
    /// holds an advisory lock in this database (the daemon's HotCold lock, Wolverine's leadership), as network
    /// blips would. A daemon between two locks holds none for a while, so a round may pass without a kill: rounds
    /// go on until one has (at most <paramref name="maxRounds"/>). Returns how many connections were terminated.
    /// </summary>
    public async Task<int> WhileKillingLockConnectionsAsync(Func<int, Task> round, int maxRounds = 20)
    {
        using var stop = new CancellationTokenSource();
        var kills = 0;
        var killer = Task.Run(async () =>
        {
            await using var connection = new NpgsqlConnection(ConnectionString);
            await connection.OpenAsync();
            while (!stop.IsCancellationRequested)
            {
                await using var cmd = new NpgsqlCommand("""
                    select count(pg_terminate_backend(pid)) from pg_locks
                    where locktype = 'advisory' and granted and database = (select oid from pg_database where datname = current_database())
                    """, connection);
                var killed = Convert.ToInt32(await cmd.ExecuteScalarAsync());
                Interlocked.Add(ref kills, killed);
                await Task.Delay(15);
            }
        });
        try
        {
            for (var r = 0; r < maxRounds; r++)
            {
                await round(r);
                if (Volatile.Read(ref kills) > 0) break;
            }
        }
        finally
        {
            await stop.CancelAsync();
            await killer;
        }
        return kills;
    }
}

/// <summary>
/// The service against a fresh database of the test run's PostgreSQL, with two more reporter keys (one scoped to
/// Phong Thổ). One per test class (IClassFixture), so classes never share data.
/// </summary>
public sealed class ApiFactory : ServiceInstance, IAsyncLifetime
{
    public const string ScopedReporterKey = "scoped-reporter-key";
    public const string ScopedReporterClient = "phong-tho-duty-log";
    public const string OtherReporterKey = "other-reporter-key";

    readonly IReadOnlyDictionary<string, string?> extra = new Dictionary<string, string?>();

    public ApiFactory() { }

    /// <summary>
    /// A host on an existing database (a second instance, or the same service after a restart), with extra settings;
    /// started by <see cref="InitializeAsync"/>.
    /// </summary>
    internal ApiFactory(string connectionString, IReadOnlyDictionary<string, string?>? settings = null)
    {
        ConnectionString = connectionString;
        extra = settings ?? extra;
    }

    public async Task InitializeAsync()
    {
        if (ConnectionString.Length == 0)
        {
            var server = await PostgresServer.SharedAsync();
            ConnectionString = await server.CreateDatabaseAsync("api", maxPoolSize: 40);
        }
        _ = Server; // start the host now: the schema is applied and the daemon starts
    }

    public new async Task DisposeAsync() => await base.DisposeAsync();

    protected override IEnumerable<KeyValuePair<string, string?>> Settings => new Dictionary<string, string?>
    {
        ["ApiKeys:0:Client"] = ScopedReporterClient,
        ["ApiKeys:0:Role"] = Roles.Reporter,
        ["ApiKeys:0:KeySha256"] = ApiKeyOptions.Hash(ScopedReporterKey),
        ["ApiKeys:0:Scope:0"] = "phong-tho",
        ["ApiKeys:1:Client"] = "other-reporter",
        ["ApiKeys:1:Role"] = Roles.Reporter,
        ["ApiKeys:1:KeySha256"] = ApiKeyOptions.Hash(OtherReporterKey),
    }.Concat(extra);
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
