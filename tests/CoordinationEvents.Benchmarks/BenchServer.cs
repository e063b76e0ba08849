using CoordinationEvents.Api.Core;
using CoordinationEvents.Api;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Statistics;
using CoordinationEvents.Testing;
using Marten;
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

    /// <summary>
    /// A database with the service's schema, made by Marten from the service's own <see cref="ServiceSetup.EventStoreOptions"/>
    /// (the same event type names, JSON, metadata, inline read model and tables), and the service's pool settings.
    /// The store runs no daemon: only the service process ever runs the async projection.
    /// </summary>
    public async Task<ServiceStore> CreateServiceStoreAsync(string prefix)
    {
        var connectionString = await CreateDatabaseAsync(prefix);
        var dataSource = ServiceSetup.CreateDataSource(connectionString);
        var options = ServiceSetup.EventStoreOptions(new StatisticsProjection(dataSource));
        options.Connection(dataSource);
        // Marten prints "The async daemon is disabled … will not be executed" to stdout for this store (by design: the
        // service runs the daemon, not this program); stdout is for the table, so send it to stderr with the progress.
        var stdout = Console.Out;
        Console.SetOut(Console.Error);
        DocumentStore store;
        try
        {
            store = new DocumentStore(options);
            await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        }
        finally
        {
            Console.SetOut(stdout);
        }
        return new ServiceStore(connectionString, dataSource, store);
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

/// <summary>A service database: its connection string, a data source with the service's pool settings, and a Marten store like the service's.</summary>
public sealed record ServiceStore(string ConnectionString, NpgsqlDataSource DataSource, DocumentStore Store) : IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        Store.Dispose();
        await DataSource.DisposeAsync();
    }
}
