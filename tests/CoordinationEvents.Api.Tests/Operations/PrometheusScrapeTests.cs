using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Tests.Infrastructure;
using CoordinationEvents.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace CoordinationEvents.Api.Tests.Operations;

/// <summary>
/// Alone in the process (no other test class runs meanwhile), so that the process-wide meters count only what this
/// test does and every figure can be asserted exactly.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialOperationsCollection
{
    public const string Name = "operations, alone";
}

/// <summary>
/// A real scrape: Debian's <c>prometheus</c> (deploy/install-prometheus.sh), started as a plain process with its own
/// configuration, data directory and loopback address, scrapes the service on a real Kestrel port every second, and
/// answers PromQL through its HTTP API: the HTTP request count, Marten's appends, Npgsql, our activities counter and
/// the projection lag.
/// </summary>
[Collection(SerialOperationsCollection.Name)]
public sealed class PrometheusScrapeTests(ITestOutputHelper output)
{
    public static readonly string PrometheusPath = Environment.GetEnvironmentVariable("CE_PROMETHEUS") is { Length: > 0 } p ? p : "/usr/bin/prometheus";
    const string PosterKey = "prometheus-poster-key";
    const string PosterClient = "prometheus-poster";

    sealed class KestrelService(string connectionString, IReadOnlyDictionary<string, string?> settings) : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseEnvironment("Development");
            builder.ConfigureAppConfiguration((_, config) => Microsoft.Extensions.Configuration.MemoryConfigurationBuilderExtensions
                .AddInMemoryCollection(config, new Dictionary<string, string?>(settings)
                {
                    ["ConnectionStrings:Events"] = connectionString,
                    ["Logging:LogLevel:Default"] = "Warning",
                }));
        }
    }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [Fact]
    public async Task Prometheus_scrapes_the_service_and_answers_PromQL_about_requests_the_stack_activities_and_lag()
    {
        Assert.True(File.Exists(PrometheusPath), $"{PrometheusPath} is missing: run deploy/install-prometheus.sh (make test does) or set CE_PROMETHEUS.");
        var server = await PostgresServer.SharedAsync();
        var connectionString = await server.CreateDatabaseAsync("metrics", maxPoolSize: 40);
        await using var service = new KestrelService(connectionString, new Dictionary<string, string?>
        {
            ["ApiKeys:0:Client"] = PosterClient,
            ["ApiKeys:0:Role"] = Roles.Reporter,
            ["ApiKeys:0:KeySha256"] = ApiKeyOptions.Hash(PosterKey),
            ["Metrics:LagIntervalSeconds"] = "0.5",
        });
        service.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        service.StartServer();
        var baseUrl = new Uri(service.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        using var poster = new HttpClient { BaseAddress = baseUrl };
        poster.DefaultRequestHeaders.Add("X-Api-Key", PosterKey);

        var scratch = Directory.CreateTempSubdirectory("ce-prometheus-");
        var promPort = FreePort();
        var config = Path.Combine(scratch.FullName, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: coordination-events
                metrics_path: /metrics
                static_configs:
                  - targets: ['{baseUrl.Authority}']
            """);
        var start = new ProcessStartInfo(PrometheusPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { $"--config.file={config}", $"--storage.tsdb.path={Path.Combine(scratch.FullName, "data")}",
                     $"--web.listen-address=127.0.0.1:{promPort}", "--storage.tsdb.retention.time=1h" })
            start.ArgumentList.Add(a);
        using var prometheus = Process.Start(start)!;
        var promLog = new System.Text.StringBuilder();
        prometheus.OutputDataReceived += (_, e) => { lock (promLog) promLog.AppendLine(e.Data); };
        prometheus.ErrorDataReceived += (_, e) => { lock (promLog) promLog.AppendLine(e.Data); };
        prometheus.BeginOutputReadLine();
        prometheus.BeginErrorReadLine();
        using var prom = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{promPort}/") };
        try
        {
            await WaitAsync("Prometheus ready", async () => (await prom.GetAsync("-/ready")).IsSuccessStatusCode, 60);

            // 7 activities (5 patrols, 2 meetings), a repeat of one (200, not counted), a conflict (409, not counted).
            var bodies = Enumerable.Range(0, 5).Select(i => HeldAppend.Body($"prom-patrol-{i}"))
                .Concat(Enumerable.Range(0, 2).Select(i => HeldAppend.Body($"prom-meeting-{i}", "meeting"))).ToArray();
            foreach (var body in bodies) Assert.Equal(HttpStatusCode.Created, (await poster.PostJsonAsync("/api/v1/activities", body)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await poster.PostJsonAsync("/api/v1/activities", bodies[0])).StatusCode);
            Assert.Equal(HttpStatusCode.Conflict, (await poster.PostJsonAsync("/api/v1/activities", HeldAppend.Body("prom-patrol-0", "meeting"))).StatusCode);

            var activities = $"sum(coordination_activities_recorded_total{{client=\"{PosterClient}\"}})";
            Assert.Equal(7, await EventuallyAsync(prom, activities, v => v == 7));
            Assert.Equal(5, await EventuallyAsync(prom, $"coordination_activities_recorded_total{{client=\"{PosterClient}\",kind=\"patrol\"}}", v => v == 5));
            Assert.Equal(2, await EventuallyAsync(prom, $"coordination_activities_recorded_total{{client=\"{PosterClient}\",kind=\"meeting\"}}", v => v == 2));

            // ASP.NET Core's request duration histogram counts the 9 posts (nothing else posts in this process now).
            var posts = "sum(http_server_request_duration_seconds_count{http_route=\"/api/v1/activities\",http_request_method=\"POST\"})";
            Assert.Equal(9, await EventuallyAsync(prom, posts, v => v == 9));
            var created = "sum(http_server_request_duration_seconds_count{http_route=\"/api/v1/activities\",http_request_method=\"POST\",http_response_status_code=\"201\"})";
            Assert.Equal(7, await EventuallyAsync(prom, created, v => v == 7));

            // Marten's event counters (TrackEventCounters): the appended activity-recorded events.
            var names = await NamesAsync(prom);
            output.WriteLine("metric names: " + string.Join(", ", names.Where(n => !n.StartsWith("dotnet_", StringComparison.Ordinal))));
            Assert.Contains("marten_event_append_events_total", names);
            Assert.Equal(7, await EventuallyAsync(prom, "sum(marten_event_append_events_total{event_type=~\"(?i)activity.?recorded\"})", v => v == 7));

            // Npgsql's own meter: commands and connections of the service's data source.
            var npgsql = names.Where(n => n.StartsWith("db_client_", StringComparison.Ordinal)).ToArray();
            Assert.True(npgsql.Length > 0, "no Npgsql (db_client_*) metric: " + string.Join(", ", names));
            var npgsqlQuery = npgsql.FirstOrDefault(n => n.Contains("operation_duration") && n.EndsWith("_count")) is { } ops
                ? $"sum({ops})" : $"count({{__name__=~\"db_client_.*\"}})";
            Assert.True(await EventuallyAsync(prom, npgsqlQuery, v => v > 0) > 0);

            // The lag: caught up, 0 events and 0 s; then an append held open keeps the projection behind 3 posts.
            var lagEvents = "coordination_projection_lag_events{projection=\"statistics\"}";
            var lagSeconds = "coordination_projection_lag_seconds{projection=\"statistics\"}";
            Assert.Equal(0, await EventuallyAsync(prom, lagEvents, v => v == 0));
            Assert.Equal(0, await EventuallyAsync(prom, lagSeconds, v => v == 0));
            await using (var held = await HeldAppend.StartAsync(service.Services, connectionString, "prom-held"))
            {
                for (var i = 0; i < 3; i++)
                    Assert.Equal(HttpStatusCode.Created, (await poster.PostJsonAsync("/api/v1/activities", HeldAppend.Body($"prom-behind-{i}"))).StatusCode);
                Assert.Equal(3, await EventuallyAsync(prom, lagEvents, v => v == 3));
                Assert.True(await EventuallyAsync(prom, lagSeconds, v => v >= 2) >= 2);
                Assert.Equal(1, await EventuallyAsync(prom, $"count({lagSeconds} > 1)", v => v == 1));
            }
            Assert.Equal(0, await EventuallyAsync(prom, lagEvents, v => v == 0));
            Assert.Equal(10, await EventuallyAsync(prom, activities, v => v == 10));
        }
        catch
        {
            lock (promLog) output.WriteLine("prometheus log:\n" + promLog);
            throw;
        }
        finally
        {
            if (!prometheus.HasExited) prometheus.Kill(entireProcessTree: true);
            await prometheus.WaitForExitAsync();
            try { scratch.Delete(recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>Asks PromQL until the single value satisfies <paramref name="done"/> (30 s at most); returns the last value seen (NaN: none).</summary>
    async Task<double> EventuallyAsync(HttpClient prom, string query, Func<double, bool> done, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        var last = double.NaN;
        string lastBody = "";
        while (true)
        {
            var body = await prom.GetFromJsonAsync<JsonElement>("api/v1/query?query=" + Uri.EscapeDataString(query));
            lastBody = body.ToString();
            var result = body.GetProperty("data").GetProperty("result");
            if (result.GetArrayLength() == 1)
            {
                last = double.Parse(result[0].GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture);
                if (done(last))
                {
                    output.WriteLine($"{query} = {last}");
                    return last;
                }
            }
            if (DateTime.UtcNow > deadline)
            {
                output.WriteLine($"{query}: gave up at {last}; {lastBody}");
                return last;
            }
            await Task.Delay(250);
        }
    }

    static async Task<string[]> NamesAsync(HttpClient prom)
    {
        var body = await prom.GetFromJsonAsync<JsonElement>("api/v1/label/__name__/values");
        return body.GetProperty("data").EnumerateArray().Select(e => e.GetString()!).ToArray();
    }

    static async Task WaitAsync(string what, Func<Task<bool>> ready, int seconds)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            try
            {
                if (await ready()) return;
            }
            catch (HttpRequestException)
            {
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException(what);
            await Task.Delay(200);
        }
    }
}
