using DotNet.Testcontainers.Configurations;
using Testcontainers.PostgreSql;

namespace CoordinationEvents.Testing;

/// <summary>
/// The throwaway PostgreSQL container of a test process (Testcontainers.PostgreSql), fast rather than durable.
/// <para>
/// The image is <c>COORDINATION_PG_IMAGE</c> when set, otherwise the one deploy/postgres-image/build.sh recorded
/// in <c>&lt;repo&gt;/.data/postgres-image</c>, otherwise <c>postgres:15</c>. The image must be in the local engine
/// or pullable (Testcontainers pulls only a missing image).
/// </para>
/// <para>
/// Ryuk, Testcontainers' own reaper, is off (<c>TESTCONTAINERS_RYUK_DISABLED=true</c>: its image cannot be pulled
/// here), so this class removes its container itself: <see cref="Dispose"/> (from the process-exit handler), and
/// a detached watcher that runs <c>docker rm -f</c> once the test process is gone, for a host that is killed
/// before its handlers run. Every container carries the labels <see cref="Label"/>, <see cref="PidLabel"/>,
/// <see cref="HostLabel"/> and, when deploy/run-tests.sh sets <c>COORDINATION_TEST_RUN</c>, <see cref="RunLabel"/>,
/// by which run-tests.sh removes whatever is left after a run.
/// </para>
/// </summary>
internal sealed class PostgresContainer
{
    public const string ImageVariable = "COORDINATION_PG_IMAGE";
    public const string DefaultImage = "postgres:15";
    public const string ImageRecord = ".data/postgres-image";
    public const string RunVariable = "COORDINATION_TEST_RUN";

    public const string Label = "org.coordination-events.test";
    public const string PidLabel = "org.coordination-events.test.pid";
    public const string HostLabel = "org.coordination-events.test.host";
    public const string RunLabel = "org.coordination-events.test.run";

    public const string User = "postgres";
    public const string Password = "postgres";

    /// <summary>
    /// The server settings of a test container, passed as <c>-c key=value</c> after Testcontainers' own
    /// (fsync, full_page_writes and synchronous_commit off). The API tests open many pools at once (25–40
    /// connections per database, many classes in parallel): hence max_connections.
    /// </summary>
    public static readonly IReadOnlyList<KeyValuePair<string, string>> Settings =
    [
        new("max_connections", "500"),
        new("shared_buffers", "128MB"),
        new("max_wal_size", "1GB"),
        new("checkpoint_timeout", "30min"),
        new("wal_level", "minimal"),
        new("max_wal_senders", "0"),
        new("jit", "off"),
    ];

    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(30);

    private readonly PostgreSqlContainer container;
    private int disposed;

    private PostgresContainer(PostgreSqlContainer container, string image, string imageSource)
    {
        this.container = container;
        Image = image;
        ImageSource = imageSource;
    }

    public string Id => container.Id;

    public string Image { get; }

    /// <summary>Where <see cref="Image"/> came from (the variable, the record file, or the default).</summary>
    public string ImageSource { get; }

    /// <summary>Superuser connection to the <c>postgres</c> database, on the host's mapped port.</summary>
    public string ConnectionString => container.GetConnectionString();

    /// <summary>Starts a container, labelled for this process, with its watcher.</summary>
    public static async Task<PostgresContainer> StartAsync(string? watchPid = null)
    {
        ConfigureDockerEnvironment();
        var (image, source) = ResolveImage();
        var builder = new PostgreSqlBuilder(image)
            .WithUsername(User)
            .WithPassword(Password)
            .WithDatabase("postgres")
            .WithLabel(Label, "true")
            .WithLabel(PidLabel, Environment.ProcessId.ToString())
            .WithLabel(HostLabel, Environment.MachineName)
            // Docker's default /dev/shm is 64 MB: too small for parallel hash joins under 500 connections.
            .WithCreateParameterModifier(parameters =>
            {
                parameters.HostConfig ??= new Docker.DotNet.Models.HostConfig();
                parameters.HostConfig.ShmSize = 256L * 1024 * 1024;
            });
        foreach (var (key, value) in Settings)
        {
            builder = builder.WithCommand("-c", $"{key}={value}");
        }
        var run = Environment.GetEnvironmentVariable(RunVariable);
        if (!string.IsNullOrWhiteSpace(run))
        {
            builder = builder.WithLabel(RunLabel, run);
        }

        var created = builder.Build();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            await created.StartAsync(timeout.Token);
        }
        catch (Exception e)
        {
            try
            {
                await created.DisposeAsync();
            }
            catch (Exception)
            {
                // the original failure matters more
            }
            throw new InvalidOperationException(
                $"Could not start the test PostgreSQL container from image '{image}' ({source}): {e.GetType().Name}: {e.Message}\n" +
                "Needs a Docker engine (deploy/install-docker.sh) and the image in it (deploy/postgres-image/build.sh; " +
                "`make test` runs both), or set COORDINATION_TEST_DB to the connection string of an existing server " +
                "whose user may CREATE DATABASE.", e);
        }
        var result = new PostgresContainer(created, image, source);
        result.StartWatcher(watchPid ?? Environment.ProcessId.ToString());
        return result;
    }

    /// <summary>Stops and removes the container (Testcontainers' dispose). Safe to call twice.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return;
        }
        try
        {
            if (!container.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(20)))
            {
                ForceRemove(Id);
            }
        }
        catch (Exception e) when (e is AggregateException or InvalidOperationException)
        {
            Console.Error.WriteLine($"PostgresServer: could not remove the test container {Id}: {e.Message}");
            ForceRemove(Id);
        }
    }

    /// <summary>
    /// The image to start and where the name came from: <c>COORDINATION_PG_IMAGE</c>, else the first line of
    /// <c>.data/postgres-image</c> in the nearest directory above the test binaries (or the working directory)
    /// that has one, else <c>postgres:15</c>.
    /// </summary>
    internal static (string Image, string Source) ResolveImage(string? variable = null, IEnumerable<string>? startDirectories = null)
    {
        variable ??= Environment.GetEnvironmentVariable(ImageVariable);
        if (!string.IsNullOrWhiteSpace(variable))
        {
            return (variable.Trim(), ImageVariable);
        }
        foreach (var start in startDirectories ?? [AppContext.BaseDirectory, Environment.CurrentDirectory])
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                var record = Path.Combine(directory.FullName, ImageRecord);
                if (!File.Exists(record))
                {
                    continue;
                }
                var image = File.ReadLines(record).Select(line => line.Trim()).FirstOrDefault(line => line.Length > 0);
                if (image is not null)
                {
                    return (image, record);
                }
            }
        }
        return (DefaultImage, "the default");
    }

    /// <summary>
    /// Ryuk off, and the engine's API version for Docker.DotNet when not set (Debian 12's engine speaks 1.41;
    /// the client would ask for 1.44). Both only when the caller has not set them.
    /// </summary>
    internal static void ConfigureDockerEnvironment()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("TESTCONTAINERS_RYUK_DISABLED")))
        {
            Environment.SetEnvironmentVariable("TESTCONTAINERS_RYUK_DISABLED", "true");
        }
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DOCKER_API_VERSION")) && DockerCli() is { } docker)
        {
            var version = PostgresProcess.RunAsSelf(docker, ["version", "--format", "{{.Server.APIVersion}}"], "/", ToolTimeout);
            var api = version.Output.Trim();
            if (version.Succeeded && System.Version.TryParse(api, out _))
            {
                Environment.SetEnvironmentVariable("DOCKER_API_VERSION", api);
            }
        }
        // Last: TestcontainersSettings reads the environment when first touched.
        TestcontainersSettings.ResourceReaperEnabled = false;
    }

    /// <summary>The docker command-line client, or null when it is not on PATH.</summary>
    internal static string? DockerCli()
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, "docker");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    /// <summary>
    /// Starts a detached shell that removes the container once process <paramref name="pid"/> is gone (what Ryuk
    /// would do). It is an orphan outside this process's tree, so a kill of the test host's tree spares it. Best
    /// effort: without the docker CLI there is no watcher, and the exit handler and run-tests.sh remain.
    /// </summary>
    internal void StartWatcher(string pid)
    {
        if (DockerCli() is not { } docker)
        {
            return;
        }
        const string script = """
            exec </dev/null >/dev/null 2>&1
            (
              while kill -0 "$1" 2>/dev/null; do sleep 1; done
              "$2" rm -f -v "$3"
            ) &
            """;
        var result = PostgresProcess.RunAsSelf("/bin/sh", ["-c", script, "ce-pg-container-watcher", pid, docker, Id], "/", ToolTimeout);
        if (!result.Succeeded)
        {
            Console.Error.WriteLine($"PostgresServer: could not start the watcher of container {Id}: {result.Output}");
        }
    }

    private static void ForceRemove(string id)
    {
        if (DockerCli() is { } docker)
        {
            PostgresProcess.RunAsSelf(docker, ["rm", "-f", "-v", id], "/", ToolTimeout);
        }
    }
}
