using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using CoordinationEvents.Api.Core;

namespace CoordinationEvents.Api.Tests.Infrastructure;

/// <summary>
/// The service as a process of its own (<c>dotnet CoordinationEvents.Api.dll</c>, the build the tests were built
/// with), in Development (the fixed keys, the seeded units), on a free port of 127.0.0.1 and the given database: for
/// the tests that must kill it abruptly (<see cref="Kill"/>: SIGKILL to its whole tree, no shutdown hook runs), which
/// an in-process host cannot do. Its standard output and error are kept (<see cref="Output"/>) for the test's report.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    readonly Process process;
    readonly ConcurrentQueue<string> lines = new();
    readonly Stopwatch clock = Stopwatch.StartNew();

    ServiceProcess(string name, Process process, Uri address)
    {
        Name = name;
        this.process = process;
        Address = address;
    }

    public string Name { get; }

    /// <summary>Where it listens: <c>http://127.0.0.1:port/</c>.</summary>
    public Uri Address { get; }

    public int Id => process.Id;

    public bool HasExited => process.HasExited;

    /// <summary>What it wrote, each line stamped with the seconds since it started.</summary>
    public string Output => $"--- {Name} (pid {process.Id}, {Address}) ---\n" + string.Join('\n', lines);

    /// <summary>The service's assembly, built with the tests (same configuration), found from the repository's root.</summary>
    public static string ApiAssembly()
    {
        var baseDirectory = new DirectoryInfo(AppContext.BaseDirectory);
        // .../tests/CoordinationEvents.Api.Tests/bin/<Configuration>/<tfm>/
        var (framework, configuration) = (baseDirectory.Name, baseDirectory.Parent!.Name);
        for (var directory = baseDirectory; directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "CoordinationEvents.sln")))
            {
                var dll = Path.Combine(directory.FullName, "services", "CoordinationEvents.Api", "bin", configuration, framework, "CoordinationEvents.Api.dll");
                return File.Exists(dll) ? dll : throw new FileNotFoundException($"The service is not built at {dll}: build the solution first.");
            }
        throw new DirectoryNotFoundException($"No CoordinationEvents.sln above {AppContext.BaseDirectory}.");
    }

    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Starts the service on <paramref name="connectionString"/> and waits until <c>/health/ready</c> answers 200.</summary>
    public static async Task<ServiceProcess> StartAsync(string name, string connectionString, IReadOnlyDictionary<string, string>? settings = null,
        TimeSpan? patience = null)
    {
        var address = new Uri($"http://127.0.0.1:{FreePort()}/");
        var dll = ApiAssembly();
        // The dotnet host that runs the tests (the CLI passes it on), else the one on the PATH.
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        start.ArgumentList.Add(dll);
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["DOTNET_ENVIRONMENT"] = "Development",
            ["ASPNETCORE_URLS"] = address.ToString().TrimEnd('/'),
            ["ConnectionStrings__Events"] = connectionString,
            // As in ServiceInstance: the tests post as fast as they can with one key.
            ["RateLimits__Writes__PermitsPerSecond"] = "0",
            ["RateLimits__Reads__PermitsPerSecond"] = "0",
            ["RateLimits__Imports__PermitsPerSecond"] = "0",
            ["Logging__LogLevel__Default"] = Environment.GetEnvironmentVariable("CE_TEST_LOG") ?? "Information",
            ["Logging__Console__FormatterName"] = "simple",
            ["Logging__Console__FormatterOptions__SingleLine"] = "true",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) environment[key] = value;
        foreach (var (key, value) in environment) start.Environment[key] = value;

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var service = new ServiceProcess(name, process, address);
        process.OutputDataReceived += (_, e) => service.Add(e.Data);
        process.ErrorDataReceived += (_, e) => service.Add(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await service.WaitReadyAsync(patience ?? TimeSpan.FromSeconds(120));
        }
        catch
        {
            await service.DisposeAsync();
            throw;
        }
        return service;
    }

    void Add(string? line)
    {
        if (line is null) return;
        // Schema migrations are logged as one line of many kilobytes.
        if (line.Length > 600) line = line[..600] + $" … ({line.Length} characters)";
        // The last lines matter most; a chatty run is cut from the front.
        lines.Enqueue($"{clock.Elapsed.TotalSeconds,7:0.000} {line}");
        while (lines.Count > 4000) lines.TryDequeue(out _);
    }

    /// <summary>Notes a line of the test's own in the output (what the test did to the process, and when).</summary>
    public void Note(string line) => Add("[test] " + line);

    async Task WaitReadyAsync(TimeSpan patience)
    {
        using var http = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + patience;
        while (true)
        {
            if (process.HasExited) throw new InvalidOperationException($"{Name} exited with {process.ExitCode} before it was ready.\n{Output}");
            try
            {
                if ((await http.GetAsync("health/ready")).StatusCode == HttpStatusCode.OK) return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{Name} was not ready within {patience.TotalSeconds:0} s.\n{Output}");
            await Task.Delay(50);
        }
    }

    /// <summary>A client whose every response is checked against the OpenAPI document, with the key given (absolute or relative URIs).</summary>
    public HttpClient Client(string? key)
    {
        var client = new HttpClient(new OpenApiConformance(Address)) { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(100) };
        if (key is not null) client.DefaultRequestHeaders.Add("X-Api-Key", key);
        return client;
    }

    public HttpClient Reporter => Client(ApiKeyOptions.DevReporterKey);
    public HttpClient Analyst => Client(ApiKeyOptions.DevAnalystKey);
    public HttpClient Admin => Client(ApiKeyOptions.DevAdminKey);

    /// <summary>SIGKILL to the process and its children: it dies at once, mid-request, mid-transaction, with no shutdown.</summary>
    public void Kill()
    {
        Note("SIGKILL");
        process.Kill(entireProcessTree: true);
        process.WaitForExit(10_000);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
        }
        process.Dispose();
    }
}
