using System.Diagnostics;
using CoordinationEvents.Testing;
using Npgsql;

namespace CoordinationEvents.EventStore.Tests.Infrastructure;

public sealed class PostgresServerTests
{
    [Fact]
    public async Task Shared_server_answers_select_version()
    {
        var server = await PostgresServer.SharedAsync();

        await using var connection = new NpgsqlConnection(server.AdminConnectionString);
        await connection.OpenAsync();
        var version = (string?)await new NpgsqlCommand("select version()", connection).ExecuteScalarAsync();

        Assert.NotNull(version);
        Assert.StartsWith("PostgreSQL ", version);
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
        Assert.Equal(a.Database, await Scalar<string>(a, "select current_database()"));
        Assert.Equal(b.Database, await Scalar<string>(b, "select current_database()"));
        Assert.StartsWith("iso_", a.Database);
        Assert.Equal(0L, await UserRelations(a));
        Assert.Equal(0L, await UserRelations(b));

        await new NpgsqlCommand("create table only_in_first (id int primary key)", a).ExecuteNonQueryAsync();

        Assert.True(await UserRelations(a) > 0);
        Assert.Equal(0L, await UserRelations(b));
    }

    [Fact]
    public async Task Created_database_is_utf8_and_keeps_vietnamese_text()
    {
        var server = await PostgresServer.SharedAsync();
        await using var connection = new NpgsqlConnection(await server.CreateDatabaseAsync());
        await connection.OpenAsync();

        Assert.Equal("UTF8", await Scalar<string>(connection, "select pg_encoding_to_char(encoding) from pg_database where datname = current_database()"));
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
    public async Task Local_server_runs_with_throwaway_settings_in_its_own_directory()
    {
        var server = await PostgresServer.SharedAsync();
        if (server.IsExternal)
        {
            Assert.Null(server.Directory);
            return; // COORDINATION_TEST_DB: the server's settings are not ours to check
        }

        Assert.NotNull(server.Directory);
        Assert.True(Directory.Exists(Path.Combine(server.Directory!, "data")));
        Assert.Equal($"ce-pg-{Environment.ProcessId}", string.Join('-', Path.GetFileName(server.Directory!).Split('-')[..3]));
        await using var connection = new NpgsqlConnection(server.AdminConnectionString);
        await connection.OpenAsync();
        Assert.Equal("off", await Scalar<string>(connection, "show fsync"));
        Assert.Equal("off", await Scalar<string>(connection, "show synchronous_commit"));
        Assert.Equal("off", await Scalar<string>(connection, "show full_page_writes"));
        Assert.Equal("300", await Scalar<string>(connection, "show max_connections"));
        Assert.Equal("128MB", await Scalar<string>(connection, "show shared_buffers"));
        Assert.Equal("127.0.0.1", await Scalar<string>(connection, "show listen_addresses"));
        Assert.Equal(server.Directory, await Scalar<string>(connection, "show unix_socket_directories"));
    }

    [Fact]
    public async Task Durable_server_is_a_server_of_its_own_with_production_durability_and_stops()
    {
        var server = await PostgresServer.StartAsync(PostgresDurability.Durable);
        var connectionString = "";
        try
        {
            Assert.NotSame(await PostgresServer.SharedAsync(), server);
            Assert.False(server.IsExternal);
            connectionString = await server.CreateDatabaseAsync("durable");
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            Assert.Equal("on", await Scalar<string>(connection, "show fsync"));
            Assert.Equal("on", await Scalar<string>(connection, "show synchronous_commit"));
            Assert.Equal("on", await Scalar<string>(connection, "show full_page_writes"));
            Assert.Equal("127.0.0.1", await Scalar<string>(connection, "show listen_addresses"));
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

    private static int DeadPid()
    {
        using var process = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        process.WaitForExit();
        return process.Id;
    }

    private static async Task<long> UserRelations(NpgsqlConnection connection) =>
        await Scalar<long>(connection, """
            select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%'
            """);

    private static async Task<T> Scalar<T>(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
