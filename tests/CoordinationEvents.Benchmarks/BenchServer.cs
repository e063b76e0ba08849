using CoordinationEvents.Api;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Statistics;
using CoordinationEvents.Api.Units;
using CoordinationEvents.EventStore;
using CoordinationEvents.Testing;
using Npgsql;

namespace CoordinationEvents.Benchmarks;

/// <summary>
/// The PostgreSQL server every figure and every ceiling is measured on: a throwaway one with production
/// durability (fsync on), or the server of <c>COORDINATION_BENCH_DB</c>.
/// </summary>
public sealed class BenchServer
{
    public const string ExternalVariable = "COORDINATION_BENCH_DB";

    BenchServer(PostgresServer server) => Server = server;

    public PostgresServer Server { get; }

    public string Version { get; private set; } = "";

    public string Settings { get; private set; } = "";

    /// <summary>The postmaster's pid when the server is ours (for CPU accounting).</summary>
    public int? PostmasterPid { get; private set; }

    public static async Task<BenchServer> StartAsync()
    {
        var external = Environment.GetEnvironmentVariable(ExternalVariable);
        var server = string.IsNullOrWhiteSpace(external)
            ? await PostgresServer.StartAsync(PostgresDurability.Durable)
            : PostgresServer.Connect(external, ExternalVariable);
        var bench = new BenchServer(server);
        await using var connection = new NpgsqlConnection(server.AdminConnectionString);
        await connection.OpenAsync();
        bench.Version = $"PostgreSQL {await ScalarAsync<string>(connection, "show server_version")}";
        var settings = new List<string>();
        foreach (var name in new[] { "fsync", "synchronous_commit", "full_page_writes", "shared_buffers", "max_wal_size" })
            settings.Add($"{name}={await ScalarAsync<string>(connection, $"show {name}")}");
        bench.Settings = string.Join(", ", settings);
        if (server.Directory is { } directory && File.Exists(Path.Combine(directory, "data", "postmaster.pid"))
            && int.TryParse(File.ReadLines(Path.Combine(directory, "data", "postmaster.pid")).First().Trim(), out var pid))
            bench.PostmasterPid = pid;
        return bench;
    }

    public string Where => Server.IsExternal ? $"the server of {ExternalVariable}" : $"a throwaway server in {Server.Directory}";

    public Task<string> CreateDatabaseAsync(string prefix) => Server.CreateDatabaseAsync(prefix, maxPoolSize: 64);

    /// <summary>The service's own tables, as the service creates them at start-up.</summary>
    public static IReadOnlyList<Migration> ServiceMigrations =>
        [.. EventStoreSchema.Migrations, UnitDirectory.Schema, ActivityReadModel.Schema, StatisticsProjection.Schema];

    /// <summary>A database with the service's schema, and a data source with the service's pool settings.</summary>
    public async Task<NpgsqlDataSource> CreateServiceDatabaseAsync(string prefix)
    {
        var dataSource = ServiceSetup.CreateDataSource(await CreateDatabaseAsync(prefix));
        await SchemaMigrator.MigrateAsync(dataSource, ServiceMigrations);
        return dataSource;
    }

    public static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        return (T)(await cmd.ExecuteScalarAsync())!;
    }

    public static async Task<T> ScalarAsync<T>(NpgsqlDataSource dataSource, string sql)
    {
        await using var cmd = dataSource.CreateCommand(sql);
        cmd.CommandTimeout = 0;
        return (T)(await cmd.ExecuteScalarAsync())!;
    }

    public static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using var cmd = dataSource.CreateCommand(sql);
        cmd.CommandTimeout = 0;
        await cmd.ExecuteNonQueryAsync();
    }
}
