using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Npgsql;

namespace CoordinationEvents.Testing;

/// <summary>
/// A throwaway PostgreSQL server for tests: one container per test process (<see cref="SharedAsync"/>, started
/// with Testcontainers.PostgreSql from the image <c>COORDINATION_PG_IMAGE</c>, the one recorded by
/// deploy/postgres-image/build.sh, or <c>postgres:15</c>), tuned for speed rather than durability, and removed
/// when the process exits. Each test class asks it for a brand-new database (<see cref="CreateDatabaseAsync(string)"/>).
/// See <see cref="PostgresContainer"/> for the image, the labels and how the container is removed without Ryuk.
/// <para>
/// When the environment variable <c>COORDINATION_TEST_DB</c> holds a connection string, that server is used
/// instead (its user must be allowed to CREATE DATABASE); if it cannot be reached the tests fail: there is no
/// silent fall-back to anything else. The databases created there are dropped when the process exits.
/// </para>
/// <para>
/// VSTest kills a test host 100 ms after its run unless <c>VSTEST_TESTHOST_SHUTDOWN_TIMEOUT</c> (ms) says
/// otherwise; deploy/run-tests.sh sets it so that the exit handler can finish. A container or local cluster is
/// removed even when the host is killed, by a detached watcher.
/// </para>
/// <para>
/// Benchmarks want the opposite trade-off: <see cref="StartAsync(PostgresDurability)"/> with
/// <see cref="PostgresDurability.Durable"/> starts a server of their own from the machine's PostgreSQL binaries
/// (initdb, no Docker) with fsync, synchronous commit and full page writes on, as a production server runs;
/// <see cref="Connect(string, string)"/> uses an existing one.
/// </para>
/// </summary>
public sealed class PostgresServer
{
    /// <summary>Connection string of an existing server to use instead of starting one.</summary>
    public const string ExternalServerVariable = "COORDINATION_TEST_DB";

    /// <summary>The <c>Maximum Pool Size</c> of the connection strings that <see cref="CreateDatabaseAsync(string)"/> returns.</summary>
    public const int DefaultMaxPoolSize = 25;

    /// <summary>Where the throwaway clusters live: /tmp/ce-pg-&lt;pid&gt;-&lt;random&gt;.</summary>
    internal const string TempRoot = "/tmp";
    internal const string DirectoryPrefix = "ce-pg-";

    private static readonly Lazy<Task<PostgresServer>> Shared =
        new(() => Task.Run(Start), LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly LocalCluster? cluster;
    private readonly PostgresContainer? container;
    private readonly ConcurrentQueue<string> createdDatabases = new();
    private int databaseCounter;

    private PostgresServer(string adminConnectionString, LocalCluster? cluster, PostgresContainer? container = null)
    {
        AdminConnectionString = adminConnectionString;
        this.cluster = cluster;
        this.container = container;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Dispose();
    }

    /// <summary>The server shared by every test in this process, started on first use.</summary>
    public static Task<PostgresServer> SharedAsync() => Shared.Value;

    /// <summary>
    /// Starts a server of the caller's own from the local binaries (never the shared one, never
    /// <c>COORDINATION_TEST_DB</c>), with the given settings. It is removed when the process exits, or by
    /// <see cref="Stop"/>.
    /// </summary>
    public static Task<PostgresServer> StartAsync(PostgresDurability durability) => Task.Run(() => StartLocal(durability));

    /// <summary>
    /// Uses the existing server of <paramref name="connectionString"/> (its user must be allowed to CREATE
    /// DATABASE); <paramref name="source"/> names where the string came from, for error messages.
    /// </summary>
    public static PostgresServer Connect(string connectionString, string source) => ConnectExternal(connectionString, source);

    /// <summary>
    /// Starts a test container of the caller's own (never the shared one, never <c>COORDINATION_TEST_DB</c>),
    /// as <see cref="SharedAsync"/> would. It is removed when the process exits, or by <see cref="Stop"/>.
    /// </summary>
    public static Task<PostgresServer> StartContainerAsync() => StartContainer();

    /// <summary>
    /// Stops a server started by this process and removes it (its container, or its directory); for an external
    /// one, drops the databases created.
    /// </summary>
    public void Stop() => Dispose();

    /// <summary>A superuser (or CREATE DATABASE-capable) connection to the server's <c>postgres</c> database.</summary>
    public string AdminConnectionString { get; }

    /// <summary>True when the server comes from <c>COORDINATION_TEST_DB</c> (or <see cref="Connect"/>) rather than from this process.</summary>
    public bool IsExternal => cluster is null && container is null;

    /// <summary>The local cluster's directory (<see cref="StartAsync(PostgresDurability)"/>); null for a container or an external server.</summary>
    public string? Directory => cluster?.Root;

    /// <summary>The test container's id (<see cref="SharedAsync"/>, <see cref="StartContainerAsync"/>); null otherwise.</summary>
    public string? ContainerId => container?.Id;

    /// <summary>The test container's image; null when the server is not a container.</summary>
    public string? Image => container?.Image;

    /// <summary>
    /// Creates a brand-new empty database with a unique name (starting with <paramref name="prefix"/>) and returns
    /// its connection string, with <c>Maximum Pool Size</c> = <see cref="DefaultMaxPoolSize"/>.
    /// </summary>
    public Task<string> CreateDatabaseAsync(string prefix = "t") => CreateDatabaseAsync(prefix, DefaultMaxPoolSize);

    /// <summary>As <see cref="CreateDatabaseAsync(string)"/>, with the given <c>Maximum Pool Size</c>.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix, int maxPoolSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPoolSize, 1);
        var name = UniqueDatabaseName(prefix, Interlocked.Increment(ref databaseCounter));

        // template0 is always pristine and never has connections, so concurrent creations cannot collide on it
        // (template1 can: "source database is being accessed by other users").
        await using (var connection = new NpgsqlConnection(AdminConnectionString))
        {
            await connection.OpenAsync();
            // FILE_COPY (PostgreSQL 15+) is about twice as fast as the default WAL_LOG here: its checkpoints cost
            // little without fsync.
            var strategy = connection.PostgreSqlVersion.Major >= 15 ? " STRATEGY = FILE_COPY" : "";
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'{strategy}", connection);
            await command.ExecuteNonQueryAsync();
        }
        createdDatabases.Enqueue(name);

        var builder = new NpgsqlConnectionStringBuilder(AdminConnectionString)
        {
            Database = name,
            MaxPoolSize = maxPoolSize,
            // Many test classes each leave a pool behind: give idle connections back quickly so that they do not
            // add up to max_connections.
            ConnectionIdleLifetime = 10,
            ConnectionPruningInterval = 5,
            IncludeErrorDetail = true,
            // The container's server wants a password. Without this, NpgsqlDataSource.ConnectionString and
            // NpgsqlConnection.ConnectionString drop it, and a test that derives a second data source from them
            // (a second instance, a standby runner) fails to log in. The password is a throwaway one.
            PersistSecurityInfo = true,
        };
        if (builder.MinPoolSize > maxPoolSize)
        {
            builder.MinPoolSize = 0;
        }
        return builder.ConnectionString;
    }

    internal static string UniqueDatabaseName(string prefix, int counter)
    {
        var cleaned = new StringBuilder();
        foreach (var c in (prefix ?? "").ToLowerInvariant())
        {
            cleaned.Append(c is >= 'a' and <= 'z' or >= '0' and <= '9' or '_' ? c : '_');
        }
        if (cleaned.Length == 0 || !char.IsAsciiLetterLower(cleaned[0]))
        {
            cleaned.Insert(0, 't');
        }
        if (cleaned.Length > 30)
        {
            cleaned.Length = 30;
        }
        // The random part keeps names unique across processes sharing one external server.
        return $"{cleaned}_{counter}_{Guid.NewGuid().ToString("N")[..12]}";
    }

    private static Task<PostgresServer> Start() => StartShared(Environment.GetEnvironmentVariable(ExternalServerVariable));

    /// <summary>What <see cref="SharedAsync"/> does, given the value of <c>COORDINATION_TEST_DB</c>.</summary>
    internal static Task<PostgresServer> StartShared(string? external) =>
        string.IsNullOrWhiteSpace(external) ? StartContainer() : Task.FromResult(ConnectExternal(external, ExternalServerVariable));

    private static async Task<PostgresServer> StartContainer()
    {
        var container = await PostgresContainer.StartAsync();
        try
        {
            var admin = new NpgsqlConnectionStringBuilder(container.ConnectionString)
            {
                MaxPoolSize = 10,
                IncludeErrorDetail = true,
            }.ConnectionString;
            WaitUntilReady(admin, e =>
                $"The test PostgreSQL container {container.Id[..12]} ({container.Image}) started but does not answer at {container.ConnectionString}: {e.Message}");
            return new PostgresServer(admin, cluster: null, container);
        }
        catch
        {
            container.Dispose();
            throw;
        }
    }

    private static PostgresServer ConnectExternal(string connectionString, string source)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException e)
        {
            throw new InvalidOperationException($"{source} is not a valid Npgsql connection string: {e.Message}", e);
        }
        var shown = new NpgsqlConnectionStringBuilder(builder.ConnectionString) { Password = null };
        try
        {
            using var connection = new NpgsqlConnection(builder.ConnectionString);
            connection.Open();
            using var command = new NpgsqlCommand("select 1", connection);
            command.ExecuteScalar();
        }
        catch (Exception e) when (e is NpgsqlException or SocketException or TimeoutException or InvalidOperationException)
        {
            throw new InvalidOperationException(
                $"{source} is set ({shown.ConnectionString}) but that server cannot be used: {e.Message}. " +
                $"Fix it, or unset {source} to start a throwaway server (a container for tests, the local binaries for benchmarks).", e);
        }
        return new PostgresServer(builder.ConnectionString, cluster: null);
    }

    private static PostgresServer StartLocal(PostgresDurability durability)
    {
        var binaries = PostgresBinaries.FindOrThrow();
        RemoveStaleDirectories(TempRoot, binaries);
        var cluster = LocalCluster.Create(binaries, durability);
        try
        {
            cluster.Start();
            var admin = new NpgsqlConnectionStringBuilder
            {
                Host = "127.0.0.1",
                Port = cluster.Port,
                Username = PostgresProcess.ServiceUser,
                Database = "postgres",
                MaxPoolSize = 10,
                IncludeErrorDetail = true,
            }.ConnectionString;
            WaitUntilReady(admin, e =>
                $"The throwaway PostgreSQL in {cluster.Root} started but does not answer on port {cluster.Port}: {e.Message}\n{cluster.LogTail()}");
            return new PostgresServer(admin, cluster);
        }
        catch
        {
            cluster.Destroy();
            throw;
        }
    }

    private static void WaitUntilReady(string connectionString, Func<Exception, string> describeFailure)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                using var connection = new NpgsqlConnection(connectionString);
                connection.Open();
                using var command = new NpgsqlCommand("select 1", connection);
                command.ExecuteScalar();
                NpgsqlConnection.ClearPool(connection);
                return;
            }
            catch (Exception e) when ((e is NpgsqlException or SocketException) && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(100);
            }
            catch (Exception e) when (e is NpgsqlException or SocketException)
            {
                throw new InvalidOperationException(describeFailure(e), e);
            }
        }
    }

    private void Dispose()
    {
        if (container is not null)
        {
            NpgsqlConnection.ClearAllPools();
            container.Dispose();
            return;
        }
        if (cluster is not null)
        {
            NpgsqlConnection.ClearAllPools();
            cluster.Destroy();
            return;
        }
        DropCreatedDatabases();
    }

    private void DropCreatedDatabases()
    {
        // Best effort: leave the external server as we found it.
        if (createdDatabases.IsEmpty)
        {
            return;
        }
        try
        {
            NpgsqlConnection.ClearAllPools();
            var builder = new NpgsqlConnectionStringBuilder(AdminConnectionString) { Timeout = 5, CommandTimeout = 10, Pooling = false };
            using var connection = new NpgsqlConnection(builder.ConnectionString);
            connection.Open();
            while (createdDatabases.TryDequeue(out var name))
            {
                using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
                command.ExecuteNonQuery();
            }
        }
        catch (Exception e) when (e is NpgsqlException or SocketException or TimeoutException or InvalidOperationException)
        {
            Console.Error.WriteLine($"PostgresServer: could not drop the test databases on {ExternalServerVariable}'s server: {e.Message}");
        }
    }

    /// <summary>
    /// Removes the /tmp/ce-pg-&lt;pid&gt;-* directories of test processes that no longer exist, stopping their
    /// postmaster first if it still runs. Returns how many were removed.
    /// </summary>
    internal static int RemoveStaleDirectories(string parent, PostgresBinaries? binaries)
    {
        if (!System.IO.Directory.Exists(parent))
        {
            return 0;
        }
        var removed = 0;
        foreach (var directory in System.IO.Directory.EnumerateDirectories(parent, DirectoryPrefix + "*"))
        {
            var owner = OwnerPid(Path.GetFileName(directory));
            if (owner is null || owner == Environment.ProcessId || PostgresProcess.ProcessExists(owner.Value))
            {
                continue;
            }
            try
            {
                new LocalCluster(directory, binaries).Destroy();
                if (!System.IO.Directory.Exists(directory))
                {
                    removed++;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                // Another process may be removing it at the same time; it is only litter.
            }
        }
        return removed;
    }

    /// <summary>The pid in a directory name of the form ce-pg-&lt;pid&gt;-&lt;random&gt;, or null.</summary>
    internal static int? OwnerPid(string directoryName)
    {
        if (!directoryName.StartsWith(DirectoryPrefix, StringComparison.Ordinal))
        {
            return null;
        }
        var rest = directoryName[DirectoryPrefix.Length..];
        var dash = rest.IndexOf('-');
        return dash > 0 && int.TryParse(rest[..dash], out var pid) && pid > 0 ? pid : null;
    }

    /// <summary>A cluster in a directory of its own: Root/data, the log in Root/postgres.log, the socket in Root.</summary>
    internal sealed class LocalCluster(string root, PostgresBinaries? binaries)
    {
        private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(120);
        private int destroyed;

        public string Root { get; } = root;

        public string DataDirectory => Path.Combine(Root, "data");

        public string LogFile => Path.Combine(Root, "postgres.log");

        public int Port { get; private set; }

        public static LocalCluster Create(PostgresBinaries binaries, PostgresDurability durability = PostgresDurability.Fast)
        {
            var root = Path.Combine(TempRoot, $"{DirectoryPrefix}{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..10]}");
            System.IO.Directory.CreateDirectory(root);
            var cluster = new LocalCluster(root, binaries);
            try
            {
                if (PostgresProcess.IsRoot)
                {
                    // initdb and postgres refuse to run as root: the cluster belongs to the postgres user.
                    var chown = PostgresProcess.RunAsSelf("chown", [PostgresProcess.ServiceUser, root], "/", ToolTimeout);
                    if (!chown.Succeeded)
                    {
                        throw new InvalidOperationException(
                            $"Running as root, but could not give {root} to the '{PostgresProcess.ServiceUser}' user " +
                            $"(the PostgreSQL packages create it): {chown.Output}");
                    }
                }
                cluster.StartReaper();
                cluster.InitDb(binaries, durability);
            }
            catch
            {
                cluster.Destroy();
                throw;
            }
            return cluster;
        }

        private void InitDb(PostgresBinaries tools, PostgresDurability durability)
        {
            string[] common = ["-D", DataDirectory, "-U", PostgresProcess.ServiceUser, "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions"];
            var result = PostgresProcess.Run(tools.InitDb, [.. common, "--locale=C.UTF-8"], Root, ToolTimeout);
            if (!result.Succeeded && result.Output.Contains("locale", StringComparison.OrdinalIgnoreCase))
            {
                // No C.UTF-8 on this system: the C locale with UTF-8 encoding.
                if (System.IO.Directory.Exists(DataDirectory))
                {
                    System.IO.Directory.Delete(DataDirectory, recursive: true);
                }
                result = PostgresProcess.Run(tools.InitDb, [.. common, "--no-locale"], Root, ToolTimeout);
            }
            if (!result.Succeeded)
            {
                throw new InvalidOperationException($"initdb failed (exit {result.ExitCode}) in {DataDirectory}:\n{result.Output}");
            }

            // Loopback only, the socket beside the data. For tests a fast server without durability; for
            // benchmarks every commit reaches the disk, as on a production server.
            File.AppendAllText(Path.Combine(DataDirectory, "postgresql.conf"), durability == PostgresDurability.Fast
                ? $"""

                    # CoordinationEvents.Testing: throwaway server for tests
                    listen_addresses = '127.0.0.1'
                    unix_socket_directories = '{Root}'
                    fsync = off
                    synchronous_commit = off
                    full_page_writes = off
                    max_connections = 300
                    shared_buffers = 128MB
                    max_wal_size = 1GB
                    """
                : $"""

                    # CoordinationEvents.Testing: throwaway server with production durability (benchmarks)
                    listen_addresses = '127.0.0.1'
                    unix_socket_directories = '{Root}'
                    fsync = on
                    synchronous_commit = on
                    full_page_writes = on
                    max_connections = 300
                    shared_buffers = 512MB
                    max_wal_size = 4GB
                    shared_preload_libraries = 'pg_stat_statements'
                    pg_stat_statements.track = all
                    """);
        }

        public void Start()
        {
            var tools = binaries ?? throw new InvalidOperationException("No PostgreSQL binaries to start the cluster with.");
            var attempts = new StringBuilder();
            for (var attempt = 1; attempt <= 5; attempt++)
            {
                Port = FreePort();
                var result = PostgresProcess.Run(
                    tools.PgCtl,
                    ["start", "-D", DataDirectory, "-l", LogFile, "-w", "-t", "60", "-o", $"-p {Port}"],
                    Root,
                    ToolTimeout);
                if (result.Succeeded)
                {
                    return;
                }
                var log = LogTail();
                attempts.AppendLine($"attempt {attempt} on port {Port}: exit {result.ExitCode}\n{result.Output}{log}");
                // Another process may have taken the port between FreePort() and the bind: try another one.
                if (!log.Contains("could not bind", StringComparison.OrdinalIgnoreCase)
                    && !log.Contains("could not create any TCP/IP sockets", StringComparison.OrdinalIgnoreCase))
                {
                    break;
                }
                StopServer();
            }
            throw new InvalidOperationException($"Could not start the throwaway PostgreSQL in {Root}:\n{attempts}");
        }

        /// <summary>
        /// Starts a detached watcher (Testcontainers calls theirs Ryuk) that stops the server and deletes the directory
        /// once this process is gone. The ProcessExit handler does the same, but a test host is often killed before
        /// its handlers finish (VSTest gives it about 100 ms), and a killed process runs none.
        /// </summary>
        public void StartReaper()
        {
            var tools = binaries ?? throw new InvalidOperationException("No PostgreSQL binaries to stop the cluster with.");
            // The outer shell returns at once; the watcher is its orphan, outside this process's tree, so that a
            // kill of the test host's whole tree does not take it along.
            const string script = """
                exec </dev/null >/dev/null 2>&1
                (
                  while kill -0 "$1" 2>/dev/null; do sleep 1; done
                  if [ -f "$3/postmaster.pid" ]; then
                    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$2" stop -D "$3" -m immediate -w -t 20
                    else "$2" stop -D "$3" -m immediate -w -t 20; fi
                  fi
                  rm -rf "$4"
                ) &
                """;
            var result = PostgresProcess.RunAsSelf(
                "/bin/sh",
                ["-c", script, "ce-pg-reaper", Environment.ProcessId.ToString(), tools.PgCtl, DataDirectory, Root],
                "/",
                ToolTimeout);
            if (!result.Succeeded)
            {
                throw new InvalidOperationException($"Could not start the watcher that removes {Root} after this process: {result.Output}");
            }
        }

        public string LogTail(int lines = 30)
        {
            try
            {
                return File.Exists(LogFile)
                    ? "--- postgres.log ---\n" + string.Join('\n', File.ReadLines(LogFile).TakeLast(lines)) + "\n"
                    : "";
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return "";
            }
        }

        /// <summary>Stops the server (immediate mode) if it runs and deletes the directory. Safe to call twice.</summary>
        public void Destroy()
        {
            if (Interlocked.Exchange(ref destroyed, 1) == 1)
            {
                return;
            }
            StopServer();
            DeleteDirectory();
        }

        private void StopServer()
        {
            var postmaster = PostmasterPid();
            if (postmaster is null || !PostgresProcess.ProcessExists(postmaster.Value))
            {
                return;
            }
            var command = PostgresProcess.CommandName(postmaster.Value);
            if (command is not null && !command.StartsWith("postgres", StringComparison.Ordinal) && !command.StartsWith("postmaster", StringComparison.Ordinal))
            {
                return; // the pid was reused by something else: the server is long gone
            }
            if (binaries is not null)
            {
                var stop = PostgresProcess.Run(binaries.PgCtl, ["stop", "-D", DataDirectory, "-m", "immediate", "-w", "-t", "20"], Root, TimeSpan.FromSeconds(30));
                if (stop.Succeeded || !PostgresProcess.ProcessExists(postmaster.Value))
                {
                    return;
                }
            }
            try
            {
                using var process = System.Diagnostics.Process.GetProcessById(postmaster.Value);
                process.Kill();
                process.WaitForExit(10_000);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // already gone, or not ours to kill
            }
        }

        private int? PostmasterPid()
        {
            try
            {
                var file = Path.Combine(DataDirectory, "postmaster.pid");
                if (!File.Exists(file))
                {
                    return null;
                }
                var first = File.ReadLines(file).FirstOrDefault();
                return int.TryParse(first?.Trim(), out var pid) ? pid : null;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return null;
            }
        }

        private void DeleteDirectory()
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    if (System.IO.Directory.Exists(Root))
                    {
                        System.IO.Directory.Delete(Root, recursive: true);
                    }
                    return;
                }
                catch (Exception e) when ((e is IOException or UnauthorizedAccessException) && attempt < 5)
                {
                    // server processes may still be writing while they exit
                    Thread.Sleep(200);
                }
            }
        }

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
    }
}

/// <summary>How a throwaway server trades safety for speed.</summary>
public enum PostgresDurability
{
    /// <summary>Fsync, synchronous commit and full page writes off (as the test container). A crash loses the data.</summary>
    Fast,

    /// <summary>For benchmarks: fsync, synchronous commit and full page writes on, as a production server runs.</summary>
    Durable,
}
