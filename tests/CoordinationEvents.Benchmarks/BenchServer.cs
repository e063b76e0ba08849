using System.Collections.Concurrent;
using System.Diagnostics;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Statistics;
using Marten;
using Npgsql;

namespace CoordinationEvents.Benchmarks;

/// <summary>
/// The PostgreSQL server every figure and every ceiling is measured on: the benchmarks' own durable cluster
/// (deploy/bench-postgres.sh: fsync on, pg_stat_statements loaded; stopped at the end if this run started it), or
/// the server of <c>COORDINATION_BENCH_DB</c>. The databases of a run are dropped at its end, and on the own
/// cluster those of an earlier run that did not end at its start.
/// </summary>
public sealed class BenchServer
{
    public const string ExternalVariable = "COORDINATION_BENCH_DB";

    BenchServer(BenchPostgres server) => Server = server;

    public BenchPostgres Server { get; }

    public string Version { get; private set; } = "";

    public string Settings { get; private set; } = "";

    /// <summary>The postmaster's pid when the server is ours (for CPU accounting).</summary>
    public int? PostmasterPid { get; private set; }

    /// <param name="keep">A prefix of databases left by an earlier run to keep rather than drop (<c>--reuse-statistics</c>).</param>
    public static async Task<BenchServer> StartAsync(string? keep = null)
    {
        var external = Environment.GetEnvironmentVariable(ExternalVariable);
        var ours = string.IsNullOrWhiteSpace(external);
        var wasRunning = ours && Script("status") is not null;
        var connectionString = ours
            ? Script("start") ?? throw new InvalidOperationException("deploy/bench-postgres.sh start failed (its messages are above).")
            : external!;
        var admin = new NpgsqlConnectionStringBuilder(connectionString) { Database = "postgres", MaxPoolSize = 10, IncludeErrorDetail = true, PersistSecurityInfo = true };
        await using var connection = new NpgsqlConnection(admin.ConnectionString);
        try
        {
            await connection.OpenAsync();
        }
        catch (NpgsqlException e)
        {
            throw new InvalidOperationException($"{(ours ? "deploy/bench-postgres.sh's server" : ExternalVariable)} cannot be used: {e.Message}", e);
        }
        string? directory = null;
        if (ours)
        {
            directory = await ScalarAsync<string>(connection, "show data_directory");
            foreach (var stale in await ListAsync(connection, "select datname from pg_database where datname like 'b\\_%'"))
                if (keep is null || !stale.StartsWith($"b_{keep}_", StringComparison.Ordinal))
                    await ExecuteAsync(connection, $"drop database \"{stale}\" with (force)");
        }
        var bench = new BenchServer(new BenchPostgres(admin.ConnectionString, directory, ours && !wasRunning));
        bench.Version = $"PostgreSQL {await ScalarAsync<string>(connection, "show server_version")}";
        var settings = new List<string>();
        foreach (var name in new[] { "fsync", "synchronous_commit", "full_page_writes", "shared_buffers", "max_wal_size" })
            settings.Add($"{name}={await ScalarAsync<string>(connection, $"show {name}")}");
        bench.Settings = string.Join(", ", settings);
        if (directory is not null && int.TryParse(File.ReadLines(Path.Combine(directory, "postmaster.pid")).First().Trim(), out var pid))
            bench.PostmasterPid = pid;
        return bench;
    }

    public string Where => Server.IsExternal ? $"the server of {ExternalVariable}" : $"the benchmarks' own cluster in {Server.Directory}";

    public Task<string> CreateDatabaseAsync(string prefix) => Server.CreateDatabaseAsync(prefix);

    /// <summary>
    /// A database with the service's schema, made by Marten from the service's own <see cref="ServiceSetup.EventStoreOptions"/>
    /// (the same event type names, JSON, metadata, inline read model and tables), and the service's pool settings.
    /// The store runs no daemon: only the service process ever runs the async projection.
    /// </summary>
    public async Task<ServiceStore> CreateServiceStoreAsync(string prefix, bool reuse = false)
    {
        var connectionString = (reuse ? await Server.ExistingDatabaseAsync(prefix) : null) ?? await CreateDatabaseAsync(prefix);
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

    /// <summary>Runs deploy/bench-postgres.sh; its stdout when it succeeds, else null (its stderr goes to ours).</summary>
    static string? Script(string command)
    {
        var script = Path.Combine(ServiceProcess.RepositoryRoot(), "deploy", "bench-postgres.sh");
        using var process = Process.Start(new ProcessStartInfo(script, command) { RedirectStandardOutput = true })!;
        var output = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        return process.ExitCode == 0 ? output : null;
    }

    static async Task<List<string>> ListAsync(NpgsqlConnection connection, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, connection);
        await using var reader = await cmd.ExecuteReaderAsync();
        var values = new List<string>();
        while (await reader.ReadAsync()) values.Add(reader.GetString(0));
        return values;
    }

    static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        await cmd.ExecuteNonQueryAsync();
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

/// <summary>The bench's server: where its data is (null for <c>COORDINATION_BENCH_DB</c>), and its databases.</summary>
public sealed class BenchPostgres(string adminConnectionString, string? directory, bool stopAtEnd)
{
    readonly ConcurrentQueue<string> created = new();

    public string AdminConnectionString { get; } = adminConnectionString;

    public string? Directory { get; } = directory;

    public bool IsExternal => Directory is null;

    /// <summary>A new database b_&lt;prefix&gt;_&lt;random&gt;: its connection string, with a pool of 64.</summary>
    /// <summary>The connection string of a database an earlier run left with this prefix (kept, not dropped at the end), or null.</summary>
    public async Task<string?> ExistingDatabaseAsync(string prefix)
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select datname from pg_database where datname like $1 order by datname limit 1", connection);
        command.Parameters.AddWithValue($"b\\_{prefix.ToLowerInvariant().Replace('-', '_')}\\_%");
        return await command.ExecuteScalarAsync() is string name ? ConnectionStringOf(name) : null;
    }

    public async Task<string> CreateDatabaseAsync(string prefix)
    {
        var name = $"b_{prefix.ToLowerInvariant().Replace('-', '_')}_{Guid.NewGuid().ToString("N")[..12]}";
        await using (var connection = new NpgsqlConnection(AdminConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"create database \"{name}\" template template0 encoding 'UTF8' strategy = file_copy", connection);
            await command.ExecuteNonQueryAsync();
        }
        created.Enqueue(name);
        return ConnectionStringOf(name);
    }

    string ConnectionStringOf(string database) => new NpgsqlConnectionStringBuilder(AdminConnectionString)
    {
        Database = database, MaxPoolSize = 64, ConnectionIdleLifetime = 10, ConnectionPruningInterval = 5,
    }.ConnectionString;

    /// <summary>Drops the run's databases, and stops the own cluster if this run started it.</summary>
    public void Stop()
    {
        NpgsqlConnection.ClearAllPools();
        using (var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(AdminConnectionString) { Pooling = false }.ConnectionString))
        {
            connection.Open();
            while (created.TryDequeue(out var name))
                using (var drop = new NpgsqlCommand($"drop database if exists \"{name}\" with (force)", connection)) drop.ExecuteNonQuery();
        }
        if (stopAtEnd)
            Process.Start(Path.Combine(ServiceProcess.RepositoryRoot(), "deploy", "bench-postgres.sh"), "stop").WaitForExit();
    }
}
