using System.Diagnostics;
using Npgsql;

namespace CoordinationEvents.Testing.Tests;

/// <summary>What the API and browser tests rely on and would not show directly: the container's settings and labels,
/// its removal without Ryuk, and <c>COORDINATION_TEST_DB</c>.</summary>
public sealed class PostgresServerTests
{
    [Fact]
    public async Task A_container_runs_fast_with_500_connections_gives_fresh_databases_and_is_removed_once_its_process_is_killed()
    {
        // As when VSTest kills a test host before its exit handler runs; here the watched process is a `sleep`.
        using var sleeper = Process.Start(new ProcessStartInfo("sleep", "300"))!;
        var server = await PostgresServer.StartAsync(external: null, watchedPid: sleeper.Id);
        var id = server.ContainerId!;

        await using (var admin = new NpgsqlConnection(server.AdminConnectionString))
        {
            await admin.OpenAsync();
            foreach (var (setting, value) in new[] { ("fsync", "off"), ("full_page_writes", "off"), ("synchronous_commit", "off"), ("max_connections", "500") })
                Assert.Equal(value, await Scalar<string>(admin, $"show {setting}"));
        }
        Assert.Equal($"true {sleeper.Id} {Environment.MachineName}", Docker("inspect", "--format",
            $$$"""{{index .Config.Labels "{{{PostgresServer.Label}}}"}} {{index .Config.Labels "{{{PostgresServer.Label}}}.pid"}} {{index .Config.Labels "{{{PostgresServer.Label}}}.host"}}""", id));

        var first = await server.CreateDatabaseAsync("Some-Class", maxPoolSize: 40);
        var second = await server.CreateDatabaseAsync("Some-Class");
        Assert.Equal(40, new NpgsqlConnectionStringBuilder(first).MaxPoolSize);
        await using (var dataSource = NpgsqlDataSource.Create(first))
        await using (var derived = NpgsqlDataSource.Create(dataSource.ConnectionString)) // a second instance on the same database logs in
        await using (var connection = await derived.OpenConnectionAsync())
        {
            Assert.Equal(0L, await Scalar<long>(connection, "select count(*) from pg_class where relnamespace = 'public'::regnamespace"));
            await using var create = new NpgsqlCommand("create table probe (text text); insert into probe values ('Phong Thổ')", connection);
            await create.ExecuteNonQueryAsync();
            Assert.Equal("Phong Thổ", await Scalar<string>(connection, "select text from probe"));
        }
        await using (var other = new NpgsqlConnection(second))
        {
            await other.OpenAsync();
            Assert.Equal(0L, await Scalar<long>(other, "select count(*) from pg_class where relnamespace = 'public'::regnamespace"));
        }

        sleeper.Kill();
        await sleeper.WaitForExitAsync();
        for (var deadline = DateTime.UtcNow.AddSeconds(30); Docker("ps", "-aq", "--no-trunc", "--filter", $"id={id}") != "" && DateTime.UtcNow < deadline;)
            await Task.Delay(250);
        Assert.Equal("", Docker("ps", "-aq", "--no-trunc", "--filter", $"id={id}"));
    }

    [Fact]
    public async Task The_server_of_COORDINATION_TEST_DB_is_used_instead_of_a_container_and_its_databases_are_dropped()
    {
        var external = await PostgresServer.StartAsync((await PostgresServer.SharedAsync()).AdminConnectionString);
        Assert.Null(external.ContainerId);
        var name = new NpgsqlConnectionStringBuilder(await external.CreateDatabaseAsync("external")).Database;

        await using var admin = new NpgsqlConnection(external.AdminConnectionString);
        await admin.OpenAsync();
        Assert.Equal(1L, await Scalar<long>(admin, $"select count(*) from pg_database where datname = '{name}'"));
        external.Stop();
        Assert.Equal(0L, await Scalar<long>(admin, $"select count(*) from pg_database where datname = '{name}'"));
    }

    [Theory]
    [InlineData("Host=127.0.0.1;Port=1;Username=postgres;Password=secret;Timeout=2")]
    [InlineData("Host=127.0.0.1;Nonsense=1;Password=secret")]
    public async Task An_unreachable_or_malformed_COORDINATION_TEST_DB_fails_loudly(string connectionString)
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => PostgresServer.StartAsync(connectionString));
        Assert.Contains("COORDINATION_TEST_DB is set", error.Message);
        Assert.DoesNotContain("secret", error.Message);
    }

    static async Task<T> Scalar<T>(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    static string Docker(params string[] arguments)
    {
        var start = new ProcessStartInfo("docker") { RedirectStandardOutput = true };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var docker = Process.Start(start)!;
        var output = docker.StandardOutput.ReadToEnd();
        docker.WaitForExit();
        return output.Trim();
    }
}
