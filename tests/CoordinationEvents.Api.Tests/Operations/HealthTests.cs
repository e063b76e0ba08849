using System.Net;
using System.Text.Json;
using CoordinationEvents.Api.Tests.Infrastructure;
using CoordinationEvents.Testing;
using Npgsql;

namespace CoordinationEvents.Api.Tests.Operations;

/// <summary>
/// <c>/health/ready</c>: Degraded on the instance that runs the projections when the statistics projection lags past
/// <c>Health:MaxProjectionLagSeconds</c> (never on an instance that stands by), Healthy again once it catches up, and
/// Unhealthy (503) without the database. <c>/health/live</c> stays up.
/// </summary>
public sealed class HealthTests
{
    static async Task<JsonElement> ReadyAsync(HttpClient client, HttpStatusCode expected)
    {
        var response = await client.GetAsync("/health/ready");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"expected {expected}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonSerializer.Deserialize<JsonElement>(body);
    }

    static async Task<JsonElement> ReadyUntilAsync(HttpClient client, string status, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var body = await ReadyAsync(client, HttpStatusCode.OK);
            if (body.GetProperty("status").GetString() == status) return body;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"/health/ready never said {status}: {body}");
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task Ready_is_degraded_past_the_lag_threshold_only_where_the_projections_run_and_healthy_once_caught_up()
    {
        var server = await PostgresServer.SharedAsync();
        var connectionString = await server.CreateDatabaseAsync("health", maxPoolSize: 40);
        var settings = new Dictionary<string, string?> { ["Health:MaxProjectionLagSeconds"] = "1.5" };
        await using var first = new ApiFactory(connectionString, settings);
        await first.InitializeAsync();
        await using var second = new ApiFactory(connectionString, settings);
        await second.InitializeAsync();
        using var reporter = first.Reporter;
        Assert.Equal(HttpStatusCode.Created, (await reporter.PostJsonAsync("/api/v1/activities", HeldAppend.Body("health-0"))).StatusCode);
        await first.WaitForProjectionsAsync();

        // Which instance runs the projections (HotCold: one of the two, once its daemon has the lock).
        var deadline = DateTime.UtcNow.AddSeconds(30);
        bool firstRuns, secondRuns;
        while (!((firstRuns = await first.RunsProjectionsAsync()) ^ (secondRuns = await second.RunsProjectionsAsync())))
        {
            Assert.True(DateTime.UtcNow < deadline, "neither (or both) instances run the projections");
            await Task.Delay(200);
        }
        var (runner, standby) = firstRuns ? (first, second) : (first: second, second: first);
        using var runnerClient = runner.Client(null);
        using var standbyClient = standby.Client(null);

        var healthy = await ReadyAsync(runnerClient, HttpStatusCode.OK);
        Assert.Equal("Healthy", healthy.GetProperty("status").GetString());
        Assert.True(healthy.GetProperty("projections").GetProperty("runsHere").GetBoolean());

        await using (var held = await HeldAppend.StartAsync(first.Services, connectionString, "health-held"))
        {
            Assert.Equal(HttpStatusCode.Created, (await reporter.PostJsonAsync("/api/v1/activities", HeldAppend.Body("health-1"))).StatusCode);
            var degraded = await ReadyUntilAsync(runnerClient, "Degraded");
            var projections = degraded.GetProperty("projections");
            Assert.Equal("Degraded", projections.GetProperty("status").GetString());
            Assert.Equal(1, projections.GetProperty("lagEvents").GetInt64());
            Assert.True(projections.GetProperty("lagSeconds").GetDouble() > 1.5, degraded.ToString());
            Assert.Equal("Healthy", degraded.GetProperty("database").GetString());

            // The instance that stands by does not judge a lag it cannot fix.
            var other = await ReadyAsync(standbyClient, HttpStatusCode.OK);
            Assert.Equal("Healthy", other.GetProperty("status").GetString());
            Assert.False(other.GetProperty("projections").GetProperty("runsHere").GetBoolean());
        }
        // Rolled back: the stale threshold lets the daemon pass the gap, and the projection catches up.
        await ReadyUntilAsync(runnerClient, "Healthy");
    }

    [Fact]
    public async Task Ready_is_unhealthy_503_without_the_database_and_live_stays_up()
    {
        var server = await PostgresServer.SharedAsync();
        var connectionString = await server.CreateDatabaseAsync("health_db", maxPoolSize: 40);
        await using var api = new ApiFactory(connectionString);
        await api.InitializeAsync();
        using var client = api.Client(null);
        Assert.Equal("Healthy", (await ReadyAsync(client, HttpStatusCode.OK)).GetProperty("status").GetString());

        var database = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        var admin = new NpgsqlConnectionStringBuilder(connectionString) { Database = "postgres", Pooling = false }.ConnectionString;
        async Task ExecAsync(string sql)
        {
            await using var connection = new NpgsqlConnection(admin);
            await connection.OpenAsync();
            await using var cmd = new NpgsqlCommand(sql, connection);
            await cmd.ExecuteNonQueryAsync();
        }
        await ExecAsync($"alter database \"{database}\" allow_connections false");
        try
        {
            await ExecAsync($"select pg_terminate_backend(pid) from pg_stat_activity where datname = '{database}' and pid <> pg_backend_pid()");
            var unhealthy = await ReadyAsync(client, HttpStatusCode.ServiceUnavailable);
            Assert.Equal("Unhealthy", unhealthy.GetProperty("status").GetString());
            Assert.Equal("Unhealthy", unhealthy.GetProperty("database").GetString());
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        }
        finally
        {
            await ExecAsync($"alter database \"{database}\" allow_connections true");
        }
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await client.GetAsync("/health/ready")).StatusCode != HttpStatusCode.OK)
        {
            Assert.True(DateTime.UtcNow < deadline, "/health/ready did not come back with the database");
            await Task.Delay(200);
        }
    }
}
