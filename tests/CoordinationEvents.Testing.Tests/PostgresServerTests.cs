using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using CoordinationEvents.Testing;
using Npgsql;

namespace CoordinationEvents.Testing.Tests;

/// <summary>
/// The classes that start containers or count them run one after the other (one collection), so that a count
/// of this process's containers is not disturbed by another class's container.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ContainerCollection
{
    public const string Name = "containers";
}

/// <summary>The shared server of a test process: one container, a fresh database per caller.</summary>
[Collection(ContainerCollection.Name)]
public sealed class PostgresServerTests
{
    [Fact]
    public async Task Shared_server_answers_select_version_and_is_postgresql_15()
    {
        var server = await PostgresServer.SharedAsync();

        await using var connection = new NpgsqlConnection(server.AdminConnectionString);
        await connection.OpenAsync();
        var version = await Db.Scalar<string>(connection, "select version()");

        Assert.StartsWith("PostgreSQL ", version);
        if (!server.IsExternal)
        {
            Assert.Equal(15, connection.PostgreSqlVersion.Major);
        }
    }

    [Fact]
    public async Task Shared_server_is_one_instance_per_process()
    {
        var first = PostgresServer.SharedAsync();
        var second = PostgresServer.SharedAsync();

        Assert.Same(await first, await second);
    }

    [Fact]
    public async Task Two_created_databases_are_distinct_empty_and_isolated()
    {
        var server = await PostgresServer.SharedAsync();
        var first = await server.CreateDatabaseAsync("iso");
        var second = await server.CreateDatabaseAsync("iso");

        Assert.NotEqual(first, second);
        await using var a = new NpgsqlConnection(first);
        await using var b = new NpgsqlConnection(second);
        await a.OpenAsync();
        await b.OpenAsync();
        Assert.NotEqual(a.Database, b.Database);
        Assert.Equal(a.Database, await Db.Scalar<string>(a, "select current_database()"));
        Assert.Equal(b.Database, await Db.Scalar<string>(b, "select current_database()"));
        Assert.StartsWith("iso_", a.Database);
        Assert.Equal(0L, await Db.UserRelations(a));
        Assert.Equal(0L, await Db.UserRelations(b));

        await new NpgsqlCommand("create table only_in_first (id int primary key)", a).ExecuteNonQueryAsync();

        Assert.True(await Db.UserRelations(a) > 0);
        Assert.Equal(0L, await Db.UserRelations(b));
    }

    [Fact]
    public async Task Created_database_is_utf8_and_keeps_vietnamese_text()
    {
        var server = await PostgresServer.SharedAsync();
        await using var connection = new NpgsqlConnection(await server.CreateDatabaseAsync());
        await connection.OpenAsync();

        Assert.Equal("UTF8", await Db.Scalar<string>(connection, "select pg_encoding_to_char(encoding) from pg_database where datname = current_database()"));
        await using var command = new NpgsqlCommand("select $1::text || ' ' || length($1::text)", connection)
        {
            Parameters = { new NpgsqlParameter { Value = "Tuần tra song phương mốc 79" } },
        };
        Assert.Equal("Tuần tra song phương mốc 79 27", (string?)await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Connection_string_names_Maximum_Pool_Size_and_honours_it()
    {
        var server = await PostgresServer.SharedAsync();
        var connectionString = await server.CreateDatabaseAsync("pool", maxPoolSize: 3);

        Assert.Contains("Maximum Pool Size=3", connectionString, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Max Pool Size", connectionString, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(3, new NpgsqlConnectionStringBuilder(connectionString).MaxPoolSize);

        // A fourth connection must wait for one of the three to come back.
        var tight = new NpgsqlConnectionStringBuilder(connectionString) { Timeout = 1 }.ConnectionString;
        var held = new List<NpgsqlConnection>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var connection = new NpgsqlConnection(tight);
                await connection.OpenAsync();
                held.Add(connection);
            }
            await using var fourth = new NpgsqlConnection(tight);
            await Assert.ThrowsAnyAsync<NpgsqlException>(() => fourth.OpenAsync());
        }
        finally
        {
            foreach (var connection in held)
            {
                await connection.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_data_source_derived_from_a_data_source_can_log_in()
    {
        // Tests make a second instance from NpgsqlDataSource.ConnectionString: the password must survive it.
        var server = await PostgresServer.SharedAsync();
        await using var first = NpgsqlDataSource.Create(await server.CreateDatabaseAsync("derived"));
        await using var second = NpgsqlDataSource.Create(first.ConnectionString);

        await using var command = second.CreateCommand("select current_database()");
        Assert.Equal(new NpgsqlConnectionStringBuilder(first.ConnectionString).Database, (string?)await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Concurrent_creations_give_distinct_databases()
    {
        var server = await PostgresServer.SharedAsync();

        var names = await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
            new NpgsqlConnectionStringBuilder(await server.CreateDatabaseAsync("many")).Database));

        Assert.Equal(8, names.Distinct().Count());
        await using var connection = new NpgsqlConnection(server.AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select count(*) from pg_database where datname = any($1)", connection)
        {
            Parameters = { new NpgsqlParameter { Value = names } },
        };
        Assert.Equal(8L, (long)(await command.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task Shared_container_runs_with_fast_settings_and_is_labelled_for_this_process()
    {
        var server = await PostgresServer.SharedAsync();
        if (server.IsExternal)
        {
            Assert.Null(server.ContainerId);
            return; // COORDINATION_TEST_DB: the server's settings are not ours to check
        }

        Assert.NotNull(server.ContainerId);
        Assert.Null(server.Directory);
        Assert.Equal(PostgresContainer.ResolveImage().Image, server.Image);
        await using var connection = new NpgsqlConnection(server.AdminConnectionString);
        await connection.OpenAsync();
        Assert.Equal("off", await Db.Scalar<string>(connection, "show fsync"));
        Assert.Equal("off", await Db.Scalar<string>(connection, "show synchronous_commit"));
        Assert.Equal("off", await Db.Scalar<string>(connection, "show full_page_writes"));
        Assert.Equal("500", await Db.Scalar<string>(connection, "show max_connections"));
        Assert.Equal("128MB", await Db.Scalar<string>(connection, "show shared_buffers"));

        var labels = Docker.Run("inspect", "--format",
            $"{{{{index .Config.Labels \"{PostgresContainer.Label}\"}}}} {{{{index .Config.Labels \"{PostgresContainer.PidLabel}\"}}}}",
            server.ContainerId!);
        Assert.Equal($"true {Environment.ProcessId}", labels.Trim());
    }

    [Fact]
    public async Task A_container_of_ones_own_is_another_server_and_is_removed_by_Stop()
    {
        var shared = await PostgresServer.SharedAsync();
        var own = await PostgresServer.StartContainerAsync();
        string id;
        try
        {
            Assert.NotSame(shared, own);
            Assert.False(own.IsExternal);
            id = own.ContainerId!;
            Assert.NotEqual(shared.ContainerId, id);
            Assert.True(Docker.Exists(id));
            await using var connection = new NpgsqlConnection(await own.CreateDatabaseAsync("own"));
            await connection.OpenAsync();
            Assert.Equal(0L, await Db.UserRelations(connection));
        }
        finally
        {
            own.Stop();
        }

        Assert.False(Docker.Exists(id));
    }

    [Fact]
    public async Task Watcher_removes_the_container_once_its_process_is_killed()
    {
        // What happens when VSTest kills a test host before its exit handlers run: the container's watcher
        // notices that the process is gone and removes it. Here the watched process is a `sleep` of our own.
        using var sleeper = Process.Start(new ProcessStartInfo("sleep", "120") { UseShellExecute = false })!;
        var container = await PostgresContainer.StartAsync(watchPid: sleeper.Id.ToString());
        try
        {
            Assert.True(Docker.Exists(container.Id));

            sleeper.Kill();
            await sleeper.WaitForExitAsync();

            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (Docker.Exists(container.Id) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(250);
            }
            Assert.False(Docker.Exists(container.Id), $"container {container.Id} still exists 30 s after its process was killed");
        }
        finally
        {
            container.Dispose();
        }
    }

    [Fact]
    public void Image_comes_from_the_variable_then_the_record_file_then_the_default()
    {
        var root = Directory.CreateTempSubdirectory("ce-image-record-").FullName;
        try
        {
            var nested = Directory.CreateDirectory(Path.Combine(root, "tests", "bin", "Debug")).FullName;
            Assert.Equal(("postgres:15", "the default"), PostgresContainer.ResolveImage("", [nested]));

            Directory.CreateDirectory(Path.Combine(root, ".data"));
            var record = Path.Combine(root, ".data", "postgres-image");
            File.WriteAllText(record, "\ncoordination-events/postgres:15-local\n");
            Assert.Equal(("coordination-events/postgres:15-local", record), PostgresContainer.ResolveImage("", [nested]));

            Assert.Equal(("postgres:15.8", "COORDINATION_PG_IMAGE"), PostgresContainer.ResolveImage(" postgres:15.8 ", [nested]));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Theory]
    [InlineData("t", "t_")]
    [InlineData("Api-Tests!", "api_tests__")]
    [InlineData("9lives", "t9lives_")]
    [InlineData("", "t_")]
    public void Database_names_are_safe_identifiers(string prefix, string expectedStart)
    {
        var name = PostgresServer.UniqueDatabaseName(prefix, 7);

        Assert.StartsWith(expectedStart, name);
        Assert.Matches("^[a-z][a-z0-9_]*$", name);
        Assert.InRange(name.Length, 1, 63);
        Assert.NotEqual(name, PostgresServer.UniqueDatabaseName(prefix, 7));
    }
}

/// <summary>COORDINATION_TEST_DB: an existing server is used as given, and an unusable one fails loudly.</summary>
[Collection(ContainerCollection.Name)]
public sealed class ExternalServerTests
{
    [Fact]
    public async Task A_reachable_server_is_used_instead_of_a_container_and_its_databases_are_dropped_by_Stop()
    {
        var shared = await PostgresServer.SharedAsync();

        var external = await PostgresServer.StartShared(shared.AdminConnectionString);
        string database;
        try
        {
            Assert.True(external.IsExternal);
            Assert.Null(external.ContainerId);
            Assert.Null(external.Directory);
            Assert.NotSame(shared, external);
            database = new NpgsqlConnectionStringBuilder(await external.CreateDatabaseAsync("ext")).Database!;
            Assert.True(await DatabaseExists(shared, database));
        }
        finally
        {
            external.Stop();
        }

        Assert.False(await DatabaseExists(shared, database));
    }

    [Fact]
    public async Task An_unreachable_server_fails_loudly_and_starts_nothing_else()
    {
        var containersBefore = Docker.OwnContainers();
        var unreachable = $"Host=127.0.0.1;Port={ClosedPort()};Username=postgres;Password=x;Timeout=2";

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => PostgresServer.StartShared(unreachable));

        Assert.Contains(PostgresServer.ExternalServerVariable, error.Message);
        Assert.Contains("cannot be used", error.Message);
        Assert.DoesNotContain("Password=x", error.Message);
        Assert.Equal(containersBefore, Docker.OwnContainers());
    }

    [Fact]
    public async Task A_malformed_connection_string_fails_loudly()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => PostgresServer.StartShared("Hots=nowhere;;="));

        Assert.Contains(PostgresServer.ExternalServerVariable, error.Message);
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port; // closed again once disposed
    }

    private static async Task<bool> DatabaseExists(PostgresServer server, string name)
    {
        await using var connection = new NpgsqlConnection(server.AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select count(*) from pg_database where datname = $1", connection)
        {
            Parameters = { new NpgsqlParameter { Value = name } },
        };
        return (long)(await command.ExecuteScalarAsync())! == 1;
    }
}

/// <summary>The benchmarks' server: a local cluster from the machine's binaries, durable, no Docker.</summary>
public sealed class LocalClusterTests
{
    [Fact]
    public async Task Durable_server_is_a_server_of_its_own_with_production_durability_and_stops()
    {
        var server = await PostgresServer.StartAsync(PostgresDurability.Durable);
        var connectionString = "";
        try
        {
            Assert.NotSame(await PostgresServer.SharedAsync(), server);
            Assert.False(server.IsExternal);
            Assert.Null(server.ContainerId);
            Assert.NotNull(server.Directory);
            connectionString = await server.CreateDatabaseAsync("durable");
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            Assert.Equal("on", await Db.Scalar<string>(connection, "show fsync"));
            Assert.Equal("on", await Db.Scalar<string>(connection, "show synchronous_commit"));
            Assert.Equal("on", await Db.Scalar<string>(connection, "show full_page_writes"));
            Assert.Equal("127.0.0.1", await Db.Scalar<string>(connection, "show listen_addresses"));
        }
        finally
        {
            if (connectionString.Length > 0) NpgsqlConnection.ClearPool(new NpgsqlConnection(connectionString));
            server.Stop();
        }
        Assert.False(Directory.Exists(server.Directory));
    }

    [Fact]
    public void Stale_directories_of_dead_processes_are_removed_and_live_ones_kept()
    {
        var parent = Directory.CreateTempSubdirectory("ce-pg-stale-test-").FullName;
        try
        {
            var deadPid = DeadPid();
            var stale = Directory.CreateDirectory(Path.Combine(parent, $"ce-pg-{deadPid}-abc123")).FullName;
            File.WriteAllText(Path.Combine(stale, "postgres.log"), "old");
            var live = Directory.CreateDirectory(Path.Combine(parent, $"ce-pg-{Environment.ProcessId}-def456")).FullName;
            var unrelated = Directory.CreateDirectory(Path.Combine(parent, "ce-pg-notapid")).FullName;

            var removed = PostgresServer.RemoveStaleDirectories(parent, binaries: null);

            Assert.Equal(1, removed);
            Assert.False(Directory.Exists(stale));
            Assert.True(Directory.Exists(live));
            Assert.True(Directory.Exists(unrelated));
        }
        finally
        {
            Directory.Delete(parent, recursive: true);
        }
    }

    private static int DeadPid()
    {
        using var process = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        process.WaitForExit();
        return process.Id;
    }
}

/// <summary>Two classes, each with the database of its fixture: each starts empty and sees only its own table.</summary>
public sealed class ClassDatabase : IAsyncLifetime
{
    public string ConnectionString { get; private set; } = "";

    public async Task InitializeAsync() => ConnectionString = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("cls");

    public Task DisposeAsync() => Task.CompletedTask;
}

public sealed class FirstClassWithADatabase(ClassDatabase database) : IClassFixture<ClassDatabase>
{
    [Fact]
    public Task Starts_empty_and_is_its_own() => Db.AssertFreshAndClaim(database.ConnectionString, "first_class");
}

public sealed class SecondClassWithADatabase(ClassDatabase database) : IClassFixture<ClassDatabase>
{
    [Fact]
    public Task Starts_empty_and_is_its_own() => Db.AssertFreshAndClaim(database.ConnectionString, "second_class");
}

internal static class Db
{
    public static async Task AssertFreshAndClaim(string connectionString, string table)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        Assert.Equal(0L, await UserRelations(connection));
        await new NpgsqlCommand($"create table {table} (id int)", connection).ExecuteNonQueryAsync();
        Assert.Equal(1L, await UserRelations(connection));
    }

    public static async Task<long> UserRelations(NpgsqlConnection connection) =>
        await Scalar<long>(connection, """
            select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%'
            """);

    public static async Task<T> Scalar<T>(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}

/// <summary>The docker CLI, to look at containers from outside Testcontainers.</summary>
internal static class Docker
{
    public static string Run(params string[] arguments)
    {
        var docker = PostgresContainer.DockerCli() ?? throw new InvalidOperationException("docker CLI not found on PATH");
        var result = PostgresProcess.RunAsSelf(docker, arguments, "/", TimeSpan.FromSeconds(30));
        if (!result.Succeeded)
        {
            throw new InvalidOperationException($"docker {string.Join(' ', arguments)} failed (exit {result.ExitCode}): {result.Output}");
        }
        return result.Output;
    }

    public static bool Exists(string id)
    {
        var docker = PostgresContainer.DockerCli() ?? throw new InvalidOperationException("docker CLI not found on PATH");
        return PostgresProcess.RunAsSelf(docker, ["container", "inspect", id], "/", TimeSpan.FromSeconds(30)).Succeeded;
    }

    /// <summary>The ids of the containers labelled with this process's pid.</summary>
    public static string[] OwnContainers() =>
        Run("ps", "-aq", "--no-trunc", "--filter", $"label={PostgresContainer.PidLabel}={Environment.ProcessId}")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Order()
            .ToArray();
}
