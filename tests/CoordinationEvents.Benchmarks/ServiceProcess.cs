using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using CoordinationEvents.Api.Core;

namespace CoordinationEvents.Benchmarks;

/// <summary>
/// The real service as a child process (<c>dotnet CoordinationEvents.Api.dll</c>, built in the same configuration
/// as this program), on Kestrel at 127.0.0.1 on a free port, in the Development environment so that its
/// development API keys exist. Its output goes to a log file beside the benchmark's other scratch files.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    readonly Process process;
    readonly StreamWriter log;
    readonly SocketsHttpHandler handler;

    ServiceProcess(Process process, StreamWriter log, Uri baseAddress, string logPath)
    {
        this.process = process;
        this.log = log;
        BaseAddress = baseAddress;
        LogPath = logPath;
        handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 1024,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
            UseCookies = false,
        };
        Reporter = Client(ApiKeyOptions.DevReporterKey);
        Analyst = Client(ApiKeyOptions.DevAnalystKey);
        // verify folds every event in the service: at 10M that takes far longer than a request should.
        Admin = Client(ApiKeyOptions.DevAdminKey, TimeSpan.FromHours(2));
    }

    public Uri BaseAddress { get; }
    public string LogPath { get; }
    public int Pid => process.Id;
    public HttpClient Reporter { get; }
    public HttpClient Analyst { get; }
    public HttpClient Admin { get; }

    HttpClient Client(string key, TimeSpan? timeout = null)
    {
        var client = new HttpClient(handler, disposeHandler: false) { BaseAddress = BaseAddress, Timeout = timeout ?? TimeSpan.FromMinutes(5) };
        client.DefaultRequestHeaders.Add("X-Api-Key", key);
        return client;
    }

    /// <summary>The repository this program was built from (where CoordinationEvents.sln is).</summary>
    public static string RepositoryRoot()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "CoordinationEvents.sln"))) root = root.Parent;
        return root?.FullName ?? throw new InvalidOperationException($"Cannot find the repository (CoordinationEvents.sln) above {AppContext.BaseDirectory}.");
    }

    /// <summary>The service's build output: services/CoordinationEvents.Api/bin/&lt;configuration&gt;/&lt;tfm&gt;/.</summary>
    public static string ApiAssembly()
    {
        // This program runs from tests/CoordinationEvents.Benchmarks/bin/<configuration>/<tfm>/: the service was
        // built beside it in the same configuration.
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var tfm = here.Name;
        var configuration = here.Parent!.Name;
        var dll = Path.Combine(RepositoryRoot(), "services", "CoordinationEvents.Api", "bin", configuration, tfm, "CoordinationEvents.Api.dll");
        return File.Exists(dll) ? dll : throw new InvalidOperationException($"The service is not built: {dll} is missing (dotnet build -c {configuration}).");
    }

    /// <summary>The idiomatic peer's build output (Peer/, a project of its own), built by <see cref="BuildPeerAsync"/> in this program's configuration.</summary>
    public static string PeerAssembly()
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        return Path.Combine(RepositoryRoot(), "tests", "CoordinationEvents.Benchmarks", "Peer", "bin", here.Parent!.Name, here.Name, "CoordinationEvents.Benchmarks.Peer.dll");
    }

    /// <summary><c>dotnet build</c> of the peer (not in CoordinationEvents.sln), before anything is measured.</summary>
    public static async Task BuildPeerAsync(string scratchDirectory)
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var project = Path.Combine(RepositoryRoot(), "tests", "CoordinationEvents.Benchmarks", "Peer", "CoordinationEvents.Benchmarks.Peer.csproj");
        var startInfo = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "build", project, "-c", here.Parent!.Name, "-nologo", "-v", "quiet" }) startInfo.ArgumentList.Add(a);
        using var build = Process.Start(startInfo)!;
        var output = build.StandardOutput.ReadToEndAsync();
        var errors = build.StandardError.ReadToEndAsync();
        await build.WaitForExitAsync();
        await File.WriteAllTextAsync(Path.Combine(scratchDirectory, "peer-build.log"), await output + await errors);
        if (build.ExitCode != 0) throw new InvalidOperationException($"dotnet build of the peer failed (exit {build.ExitCode}):\n{await output}{await errors}");
    }

    public static Task<ServiceProcess> StartAsync(string connectionString, string name, string scratchDirectory, IReadOnlyDictionary<string, string>? environment = null) =>
        StartAsync(ApiAssembly(), connectionString, name, scratchDirectory, environment);

    public static async Task<ServiceProcess> StartAsync(string dll, string connectionString, string name, string scratchDirectory, IReadOnlyDictionary<string, string>? environment)
    {
        var port = FreePort();
        var startInfo = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add(dll);
        startInfo.Environment["ConnectionStrings__Events"] = connectionString;
        startInfo.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        startInfo.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        startInfo.Environment["DOTNET_ENVIRONMENT"] = "Development";
        startInfo.Environment["Logging__LogLevel__Default"] = "Warning";
        startInfo.Environment["Logging__LogLevel__CoordinationEvents.Api.Statistics"] = "Information";
        // 32 clients post as fast as they can with one key: the service's rate limits (RateLimits) would measure themselves.
        // Set on the bench's environment, they win (e.g. RateLimits__Writes__PermitsPerSecond=100 to bench with them on).
        foreach (var kind in new[] { "Writes", "Reads", "Imports" })
            startInfo.Environment[$"RateLimits__{kind}__PermitsPerSecond"] = Environment.GetEnvironmentVariable($"RateLimits__{kind}__PermitsPerSecond") ?? "0";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) startInfo.Environment[key] = value;

        var logPath = Path.Combine(scratchDirectory, $"service-{name}.log");
        var log = new StreamWriter(logPath) { AutoFlush = true };
        var process = new Process { StartInfo = startInfo };
        void Write(string? line)
        {
            if (line is null) return;
            lock (log)
                try { log.WriteLine(line); }
                catch (ObjectDisposedException) { } // a last line after the service was stopped
        }
        process.OutputDataReceived += (_, e) => Write(e.Data);
        process.ErrorDataReceived += (_, e) => Write(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var service = new ServiceProcess(process, log, new Uri($"http://127.0.0.1:{port}/"), logPath);
        lock (Running) Running.Add(service);

        var deadline = DateTime.UtcNow.AddSeconds(90);
        using var probe = new HttpClient { BaseAddress = service.BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        while (true)
        {
            if (process.HasExited)
                throw new InvalidOperationException($"The service exited at start-up (exit {process.ExitCode}); see {logPath}:\n{Tail(logPath)}");
            try
            {
                using var response = await probe.GetAsync("health/ready");
                if (response.StatusCode == HttpStatusCode.OK) return service;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { }
            if (DateTime.UtcNow > deadline)
            {
                await service.DisposeAsync();
                throw new InvalidOperationException($"The service did not become ready within 90 s; see {logPath}:\n{Tail(logPath)}");
            }
            await Task.Delay(200);
        }
    }

    /// <summary>Services still running, stopped when this program exits however it exits.</summary>
    static readonly List<ServiceProcess> Running = [];

    static readonly PosixSignalRegistration[] Signals;

    static ServiceProcess()
    {
        static void KillAll()
        {
            lock (Running)
                foreach (var service in Running.ToArray()) service.Kill();
        }
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
        AppDomain.CurrentDomain.UnhandledException += (_, _) => KillAll();
        // Ctrl-C or kill: stop the services first, then let the signal end this program as it would have.
        Signals = [PosixSignalRegistration.Create(PosixSignal.SIGINT, _ => KillAll()), PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => KillAll())];
    }

    public long? PeakRssBytes => Machine.PeakRssBytes(process.Id);

    void Kill()
    {
        try
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException) { }
    }

    public async ValueTask DisposeAsync()
    {
        lock (Running) Running.Remove(this);
        Reporter.Dispose();
        Analyst.Dispose();
        Admin.Dispose();
        handler.Dispose();
        Kill();
        await process.WaitForExitAsync(); // reaped: its CPU time counts as ours
        lock (log) log.Dispose();
        process.Dispose();
    }

    static string Tail(string path) => File.Exists(path) ? string.Join('\n', File.ReadLines(path).TakeLast(30)) : "";

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>One answer of GET /api/v1/admin/verify, and when it was asked.</summary>
public sealed record VerifyResult(string When, long EventsChecked, int ActiveActivities, int CellsCompared, int StocksCompared, int DifferenceCount, string Position, double Seconds);

/// <summary>
/// GET /api/v1/admin/verify: the service recomputes the statistics from the raw events and compares them with
/// its projection at the projection's position. Zero differences, or the benchmark stops here.
/// </summary>
public static class Verification
{
    public static async Task<VerifyResult> RunAsync(ServiceProcess service, string when, Results results)
    {
        var watch = Stopwatch.StartNew();
        using var response = await service.Admin.GetAsync("api/v1/admin/verify");
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.OK)
            throw new InvalidOperationException($"verify {when}: GET /api/v1/admin/verify answered {(int)response.StatusCode}: {body}");
        var report = System.Text.Json.JsonSerializer.Deserialize<CoordinationEvents.Api.Admin.ConsistencyReport>(body, CoordinationEvents.Api.Core.StoreJson.Options)
            ?? throw new InvalidOperationException($"verify {when}: no report");
        var result = new VerifyResult(when, report.EventsChecked, report.ActiveActivities, report.CellsCompared, report.StocksCompared, report.DifferenceCount,
            report.Position, watch.Elapsed.TotalSeconds);
        lock (results.Verifications) results.Verifications.Add(result);
        Log.Line($"verify {when}: {report.DifferenceCount} differences ({report.EventsChecked:N0} events up to position {report.Position}, {report.CellsCompared:N0} cells, {report.StocksCompared:N0} stocks compared; {result.Seconds:0.0} s)");
        if (report.DifferenceCount != 0)
            throw new InvalidOperationException($"VERIFY FAILED {when}: {report.DifferenceCount} differences between the statistics projection and the events. First ones:\n"
                + string.Join("\n", report.Differences.Take(10).Select(d => $"  {d.Table} {d.Key}: expected [{string.Join(",", d.Expected ?? [])}], actual [{string.Join(",", d.Actual ?? [])}]")));
        return result;
    }
}
