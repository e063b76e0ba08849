using System.Collections.Concurrent;
using System.Diagnostics;
using DotNet.Testcontainers.Configurations;
using Npgsql;
using Testcontainers.PostgreSql;

namespace CoordinationEvents.Testing;

/// <summary>
/// The PostgreSQL of the tests: one server per test process (<see cref="SharedAsync"/>) and a new database per test
/// class (<see cref="CreateDatabaseAsync"/>).
/// <para>
/// The server is the one of <c>COORDINATION_TEST_DB</c> when that holds a connection string (its user may
/// CREATE DATABASE; the databases made there are dropped at exit). If it cannot be reached the tests fail: nothing
/// falls back. Otherwise a Testcontainers.PostgreSql container from <c>COORDINATION_PG_IMAGE</c>, else the image
/// deploy/postgres-image/build.sh recorded in <c>.data/postgres-image</c>, else <c>postgres:15</c>; fsync,
/// full_page_writes and synchronous_commit off (Testcontainers' defaults), max_connections = 500.
/// </para>
/// <para>
/// Ryuk cannot be pulled here, so it is off and the container is removed by this process at exit, or, if the process
/// is killed first (VSTest gives a host 100 ms unless <c>VSTEST_TESTHOST_SHUTDOWN_TIMEOUT</c> says otherwise), by a
/// detached shell that waits for it to die. Its labels (<see cref="Label"/>.*) let deploy/run-tests.sh remove leftovers.
/// </para>
/// </summary>
public sealed class PostgresServer
{
    public const string ExternalServerVariable = "COORDINATION_TEST_DB";
    public const string Label = "org.coordination-events.test";

    // Beyond Testcontainers' own (fsync, full_page_writes, synchronous_commit off): the API tests open many pools at
    // once (25–40 connections per database, classes in parallel).
    static readonly string[] Settings =
        ["max_connections=500", "shared_buffers=128MB", "max_wal_size=1GB", "checkpoint_timeout=30min", "wal_level=minimal", "max_wal_senders=0", "jit=off"];

    static readonly Lazy<Task<PostgresServer>> Shared = new(() => StartAsync(Environment.GetEnvironmentVariable(ExternalServerVariable)));

    readonly PostgreSqlContainer? container;
    readonly ConcurrentQueue<string> created = new();
    int counter;

    PostgresServer(string adminConnectionString, PostgreSqlContainer? container)
    {
        AdminConnectionString = adminConnectionString;
        this.container = container;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Stop();
    }

    /// <summary>The server of every test in this process, started on first use.</summary>
    public static Task<PostgresServer> SharedAsync() => Shared.Value;

    /// <summary>A connection to the server's <c>postgres</c> database as a user who may CREATE DATABASE.</summary>
    public string AdminConnectionString { get; }

    /// <summary>The container's id; null for the server of <c>COORDINATION_TEST_DB</c>.</summary>
    public string? ContainerId => container?.Id;

    /// <summary>A new empty database named after <paramref name="prefix"/>; its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix = "t", int maxPoolSize = 25)
    {
        // The random part keeps names unique across processes sharing the server of COORDINATION_TEST_DB.
        var cleaned = new string(prefix.ToLowerInvariant().Where(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c)).Take(30).ToArray());
        var name = $"t_{cleaned}_{Interlocked.Increment(ref counter)}_{Guid.NewGuid().ToString("N")[..12]}";
        await using (var connection = new NpgsqlConnection(AdminConnectionString))
        {
            await connection.OpenAsync();
            // template0 never has connections (template1 may: "being accessed by other users"); FILE_COPY is about
            // twice as fast as the default WAL_LOG without fsync.
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' STRATEGY = FILE_COPY", connection);
            await command.ExecuteNonQueryAsync();
        }
        created.Enqueue(name);
        return new NpgsqlConnectionStringBuilder(AdminConnectionString)
        {
            Database = name,
            MaxPoolSize = maxPoolSize,
            // Many classes each leave a pool behind: idle connections go back quickly, below max_connections.
            ConnectionIdleLifetime = 10,
            ConnectionPruningInterval = 5,
            IncludeErrorDetail = true,
            // Keeps the password in NpgsqlDataSource.ConnectionString, for tests that derive a second data source.
            PersistSecurityInfo = true,
        }.ConnectionString;
    }

    internal static async Task<PostgresServer> StartAsync(string? external, int? watchedPid = null)
    {
        if (!string.IsNullOrWhiteSpace(external))
        {
            var shown = "not a valid connection string";
            try
            {
                shown = new NpgsqlConnectionStringBuilder(external) { Password = null }.ConnectionString;
                await ProbeAsync(external, TimeSpan.Zero);
                return new PostgresServer(external, container: null);
            }
            catch (Exception e) when (e is NpgsqlException or ArgumentException or TimeoutException or InvalidOperationException)
            {
                throw new InvalidOperationException(
                    $"{ExternalServerVariable} is set ({shown}) but that server cannot be used: {e.Message}. Fix it, or unset it to use a container.", e);
            }
        }

        Environment.SetEnvironmentVariable("TESTCONTAINERS_RYUK_DISABLED", "true");
        // Testcontainers' client asks for API 1.44 unless told; Debian 12's engine speaks 1.41.
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DOCKER_API_VERSION"))
            && Version.TryParse(Run("docker", "version", "--format", "{{.Server.APIVersion}}")?.Trim(), out var api))
            Environment.SetEnvironmentVariable("DOCKER_API_VERSION", api.ToString());
        TestcontainersSettings.ResourceReaperEnabled = false;

        var image = Image();
        var builder = new PostgreSqlBuilder(image)
            .WithUsername("postgres").WithPassword("postgres").WithDatabase("postgres")
            .WithLabel(Label, "true")
            .WithLabel(Label + ".pid", (watchedPid ?? Environment.ProcessId).ToString())
            .WithLabel(Label + ".host", Environment.MachineName)
            .WithLabel(Label + ".run", Environment.GetEnvironmentVariable("COORDINATION_TEST_RUN") ?? "")
            // Docker's default /dev/shm (64 MB) is too small for parallel hash joins under 500 connections.
            .WithCreateParameterModifier(p => (p.HostConfig ??= new()).ShmSize = 256L << 20);
        foreach (var setting in Settings) builder = builder.WithCommand("-c", setting);
        var container = builder.Build();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            await container.StartAsync(timeout.Token);
            // Removes the container once the process is gone, even killed: the shell is an orphan outside its tree.
            Run("/bin/sh", "-c", """exec </dev/null >/dev/null 2>&1; (while kill -0 "$1"; do sleep 1; done; docker rm -f -v "$2") &""",
                "ce-pg-watcher", (watchedPid ?? Environment.ProcessId).ToString(), container.Id);
            var admin = new NpgsqlConnectionStringBuilder(container.GetConnectionString()) { MaxPoolSize = 10, IncludeErrorDetail = true }.ConnectionString;
            await ProbeAsync(admin, TimeSpan.FromSeconds(30));
            return new PostgresServer(admin, container);
        }
        catch (Exception e)
        {
            await container.DisposeAsync();
            throw new InvalidOperationException(
                $"Could not start the test PostgreSQL container from image '{image}': {e.GetType().Name}: {e.Message}\n" +
                "It needs a Docker engine (deploy/install-docker.sh) and the image (deploy/postgres-image/build.sh; `make test` runs both), " +
                $"or set {ExternalServerVariable} to the connection string of a server whose user may CREATE DATABASE.", e);
        }
    }

    /// <summary>Removes the container, or drops the databases made on the server of <c>COORDINATION_TEST_DB</c>.</summary>
    internal void Stop()
    {
        NpgsqlConnection.ClearAllPools();
        try
        {
            if (container is not null)
            {
                container.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(20));
                return;
            }
            using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(AdminConnectionString) { Pooling = false, Timeout = 5 }.ConnectionString);
            connection.Open();
            while (created.TryDequeue(out var name))
                using (var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection)) drop.ExecuteNonQuery();
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"PostgresServer: clean-up failed: {e.Message}");
        }
    }

    /// <summary>Opens a connection and runs <c>select 1</c>, retrying for <paramref name="patience"/>.</summary>
    static async Task ProbeAsync(string connectionString, TimeSpan patience)
    {
        var deadline = DateTime.UtcNow + patience;
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand("select 1", connection);
                await command.ExecuteScalarAsync();
                return;
            }
            catch (NpgsqlException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary><c>COORDINATION_PG_IMAGE</c>, else the first line of the nearest <c>.data/postgres-image</c> above the tests, else <c>postgres:15</c>.</summary>
    static string Image()
    {
        if (Environment.GetEnvironmentVariable("COORDINATION_PG_IMAGE") is { } variable && !string.IsNullOrWhiteSpace(variable)) return variable.Trim();
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var record = Path.Combine(directory.FullName, ".data", "postgres-image");
            if (File.Exists(record) && File.ReadLines(record).FirstOrDefault(line => line.Trim().Length > 0) is { } image) return image.Trim();
        }
        return "postgres:15";
    }

    /// <summary>Runs a program and returns its output, or null when it cannot be run or fails.</summary>
    static string? Run(string program, params string[] arguments)
    {
        try
        {
            var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in arguments) start.ArgumentList.Add(argument);
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            return process.WaitForExit(30_000) && process.ExitCode == 0 ? output.Result : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
