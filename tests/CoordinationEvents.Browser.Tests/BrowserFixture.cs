using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using CoordinationEvents.Demo;
using CoordinationEvents.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace CoordinationEvents.Browser.Tests;

/// <summary>
/// The service on a real port (Kestrel on 127.0.0.1, a port the OS picks), in the Development environment
/// (its fixed keys), against a fresh database of the test run's PostgreSQL, loaded with the demo data set the
/// way `make demo` loads it: units, activities through the batch endpoint, corrections, retractions, and a
/// wait until the projections have caught up. Then Debian's Chromium, headless, through Playwright.
/// </summary>
public class BrowserFixture : IAsyncLifetime
{
    public const string AnalystKey = "dev-analyst-key";
    public const string AdminKey = "dev-admin-key";
    public const string ReporterKey = "dev-reporter-key";

    /// <summary>Where Debian's chromium package puts the browser; CE_CHROMIUM may name another.</summary>
    public static readonly string ChromiumPath = Environment.GetEnvironmentVariable("CE_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    ServiceFactory? factory;
    IPlaywright? playwright;

    public string BaseUrl { get; private set; } = "";
    public IBrowser Browser { get; private set; } = null!;

    /// <summary>TestResults/browser/ at the root of the repository: the screenshots.</summary>
    public static string ScreenshotDirectory { get; } = Path.Combine(RepositoryRoot(), "TestResults", "browser");

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
            throw new InvalidOperationException($"{ChromiumPath} is missing: run deploy/install-chromium.sh (make test does) or set CE_CHROMIUM.");

        var server = await PostgresServer.SharedAsync();
        factory = new ServiceFactory(await server.CreateDatabaseAsync("browser", maxPoolSize: 40));
        factory.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        factory.StartServer();
        BaseUrl = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');

        await SeedDemoAsync();
        await AfterSeedAsync();

        playwright = await Playwright.CreateAsync();
        Browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            // Playwright gives every launch a fresh temporary profile (user-data-dir). Without the
            // background-networking flags Chromium tries to reach Google's services, which this network refuses.
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
            ],
        });
        Directory.CreateDirectory(ScreenshotDirectory);
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.CloseAsync();
        playwright?.Dispose();
        if (factory is not null) await factory.DisposeAsync();
    }

    /// <summary>An HTTP client on the real port with the given key.</summary>
    public HttpClient Http(string? key)
    {
        var client = new HttpClient { BaseAddress = new Uri(BaseUrl + "/") };
        if (key is not null) client.DefaultRequestHeaders.Add("X-Api-Key", key);
        return client;
    }

    /// <summary>
    /// A new browser context (its own sessionStorage) and page, at 1366×768 and in Vietnamese unless told otherwise
    /// (<paramref name="locale"/> is the browser's language, e.g. en-US).
    /// </summary>
    public async Task<IPage> NewPageAsync(int width = 1366, int height = 768, string locale = "vi-VN")
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = BaseUrl,
            ViewportSize = new ViewportSize { Width = width, Height = height },
            Locale = locale,
            TimezoneId = "Asia/Ho_Chi_Minh",
            AcceptDownloads = true,
        });
        context.SetDefaultTimeout(20_000);
        return await context.NewPageAsync();
    }

    public static string Screenshot(string name) => Path.Combine(ScreenshotDirectory, name + ".png");

    /// <summary>More data after the demo's (a derived fixture's own), before the browser starts.</summary>
    protected virtual Task AfterSeedAsync() => Task.CompletedTask;

    async Task SeedDemoAsync()
    {
        var data = DemoDataset.Build();
        using var admin = Http(AdminKey);
        foreach (var unit in data.Units)
            await Expect(admin.PostAsJsonAsync("api/v1/units", unit, Json), HttpStatusCode.Created, $"unit {unit.UnitId}");

        using var reporter = Http(ReporterKey);
        var ids = new Dictionary<string, Guid>(StringComparer.Ordinal);
        foreach (var chunk in data.Activities.Chunk(1_000))
        {
            using var response = await reporter.PostAsJsonAsync("api/v1/activities/batch", new { activities = chunk }, Json);
            response.EnsureSuccessStatusCode();
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            var results = body.RootElement.GetProperty("results").EnumerateArray().ToArray();
            for (var i = 0; i < chunk.Length; i++)
            {
                if (results[i].GetProperty("status").GetString() != "created")
                    throw new InvalidOperationException($"demo activity {chunk[i].ExternalId}: {results[i]}");
                ids[chunk[i].ExternalId!] = results[i].GetProperty("activityId").GetGuid();
            }
        }
        foreach (var correction in data.Corrections)
        {
            using var request = new HttpRequestMessage(HttpMethod.Put, $"api/v1/activities/{ids[correction.ExternalId]}")
            {
                Content = new StringContent(JsonSerializer.Serialize(correction.Corrected, Json), Encoding.UTF8, "application/json"),
            };
            request.Headers.TryAddWithoutValidation("If-Match", "\"1\"");
            await Expect(reporter.SendAsync(request), HttpStatusCode.OK, $"correction of {correction.ExternalId}");
        }
        foreach (var retraction in data.Retractions)
        {
            using var request = new HttpRequestMessage(HttpMethod.Delete, $"api/v1/activities/{ids[retraction.ExternalId]}")
            {
                Content = new StringContent(JsonSerializer.Serialize(new { reason = retraction.Reason }), Encoding.UTF8, "application/json"),
            };
            await Expect(reporter.SendAsync(request), HttpStatusCode.OK, $"retraction of {retraction.ExternalId}");
        }
        await WaitForProjectionsAsync(admin);
    }

    protected static async Task Expect(Task<HttpResponseMessage> call, HttpStatusCode status, string what)
    {
        using var response = await call;
        if (response.StatusCode != status)
            throw new InvalidOperationException($"{what}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    internal static async Task WaitForProjectionsAsync(HttpClient admin)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            using var status = JsonDocument.Parse(await admin.GetStringAsync("api/v1/admin/projections"));
            if (status.RootElement.GetProperty("projections").EnumerateArray().All(p => p.GetProperty("lag").GetInt64() == 0
                    && !p.GetProperty("rebuilding").GetBoolean()))
                return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Projections did not catch up: {status.RootElement}");
            await Task.Delay(50);
        }
    }

    static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "CoordinationEvents.sln"))) return dir.FullName;
        return AppContext.BaseDirectory;
    }

    sealed class ServiceFactory(string connectionString) : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseEnvironment("Development");
            builder.ConfigureAppConfiguration(config => config.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["ConnectionStrings:Events"] = connectionString,
                ["Logging:LogLevel:Default"] = "Warning",
            }));
        }
    }
}

[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "browser";
}
