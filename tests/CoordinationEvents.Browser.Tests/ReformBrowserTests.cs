using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using CoordinationEvents.Demo;
using Microsoft.Playwright;

namespace CoordinationEvents.Browser.Tests;

/// <summary>
/// The demo's data and then what `make demo` records after it: Lai Châu's reorganisation of 1 July 2025
/// (<see cref="DemoReform"/>: Phong Thổ dissolved, its communes merged into new communes under the province, its
/// posts under the Border Guard command) and a year of the new units' activities. Its own database, so that the
/// other browser tests keep the tree they know.
/// </summary>
public sealed class ReformBrowserFixture : BrowserFixture
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    protected override async Task AfterSeedAsync()
    {
        using var admin = Http(AdminKey);
        await Expect(admin.PostAsJsonAsync("api/v1/reorganisations", DemoReform.Reorganisation(), Json), HttpStatusCode.Created, "the reorganisation");
        using var reporter = Http(ReporterKey);
        using var response = await reporter.PostAsJsonAsync("api/v1/activities/batch", new { activities = DemoReform.Activities() }, Json);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode || body.Contains("\"invalid\"", StringComparison.Ordinal))
            throw new InvalidOperationException($"the reform's activities: {(int)response.StatusCode} {body[..Math.Min(body.Length, 2000)]}");
        await WaitForProjectionsAsync(admin);
    }
}

[CollectionDefinition(Name)]
public sealed class ReformBrowserCollection : ICollectionFixture<ReformBrowserFixture>
{
    public const string Name = "browser-reform";
}

/// <summary>The dashboard over Lai Châu's 2025 reform (issue 17.7): the tree on a date, ended units, carried-forward figures, rows by unit.</summary>
[Collection(ReformBrowserCollection.Name)]
public sealed class ReformBrowserTests(ReformBrowserFixture fixture)
{
    async Task<IPage> OpenAsync(string query)
    {
        var page = await fixture.NewPageAsync();
        await page.GotoAsync("/dashboard" + query);
        await page.Locator("#api-key").FillAsync(BrowserFixture.AnalystKey);
        await page.Locator("#key-submit").ClickAsync();
        await page.Locator("#main").WaitForAsync();
        await page.WaitForFunctionAsync("() => document.body.dataset.loaded !== undefined");
        return page;
    }

    /// <summary>Waits until the figures on screen are those of this statistics query; on a timeout, says what the page shows.</summary>
    static async Task WaitForFiguresAsync(IPage page, string statisticsPath)
    {
        try
        {
            await page.WaitForFunctionAsync("q => document.body.dataset.loaded === q", statisticsPath);
        }
        catch (TimeoutException)
        {
            var shown = await page.EvaluateAsync<string>("() => `loaded: ${document.body.dataset.loaded}; error: ${document.getElementById('error').textContent}; status: ${document.getElementById('status').textContent}`");
            throw new TimeoutException($"waiting for {statisticsPath}: {shown}");
        }
    }

    static async Task<string[]> OptionsAsync(IPage page) =>
        (await page.Locator("#unit option").AllTextContentsAsync()).Select(o => o.Replace('\u00a0', ' ').Trim()).ToArray();

    static async Task<decimal> TotalAsync(HttpClient analyst, string query)
    {
        using var answer = JsonDocument.Parse(await analyst.GetStringAsync("api/v1/statistics?" + query));
        return answer.RootElement.GetProperty("totals").TryGetProperty("activities", out var a) ? a.GetDecimal() : 0;
    }

    static string Vn(decimal value) => value.ToString("#,##0", System.Globalization.CultureInfo.InvariantCulture).Replace(',', '.');

    [Fact]
    public async Task The_tree_as_of_a_date_before_and_after_the_reorganisation()
    {
        // 2019–2024: the tree of 31/12/2024, the period's end. Phong Thổ is there, marked with its end.
        var page = await OpenAsync("?preset=review");
        var before = await OptionsAsync(page);
        Assert.Contains(before, o => o.StartsWith("Phong Thổ — ", StringComparison.Ordinal) && o.Contains("đã giải thể, từ 01/07/2025", StringComparison.Ordinal));
        Assert.Contains(before, o => o.StartsWith("Xã Hoang Thèn — ", StringComparison.Ordinal)
            && o.Contains("(đã sáp nhập vào Xã Khổng Lào, từ 01/07/2025)", StringComparison.Ordinal));
        Assert.DoesNotContain(before, o => o.StartsWith("Xã Khổng Lào", StringComparison.Ordinal));
        Assert.DoesNotContain(before, o => o.StartsWith(DemoReform.CommandName, StringComparison.Ordinal));

        // Phong Thổ's 2019–2024 figures as it was: 003's 1.236 patrols.
        await page.Locator("#unit").SelectOptionAsync("phong-tho");
        await WaitForFiguresAsync(page, "/api/v1/statistics?from=2019-01-01&to=2024-12-31&unitId=phong-tho&groupBy=kind");
        Assert.Equal("1.236", (await page.Locator("#figures-table tr[data-key='patrol'][data-metric='patrols'] td.value").TextContentAsync())?.Trim());
        Assert.Contains("Phong Thổ đã giải thể, từ 01/07/2025", await page.Locator("#unit-ended").TextContentAsync());
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = BrowserFixture.Screenshot("dashboard-tree-2024") });

        // The tree of 01/07/2025: the new communes under the province, the posts under the Border Guard command.
        await page.Locator("#tree-date").FillAsync("01/07/2025");
        await page.Locator("#tree-date").DispatchEventAsync("change");
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('#unit option')].some(o => o.value === 'xa-khong-lao')");
        Assert.Contains("tree=2025-07-01", page.Url);
        var after = await OptionsAsync(page);
        Assert.Contains(after, o => o.StartsWith("Xã Khổng Lào — ", StringComparison.Ordinal));
        Assert.Contains(after, o => o.StartsWith(DemoReform.CommandName + " — ", StringComparison.Ordinal));
        var values = await page.Locator("#unit option").EvaluateAllAsync<string[]>("os => os.map(o => o.value)");
        Assert.True(Array.IndexOf(values, DemoReform.Command) < Array.IndexOf(values, "don-ma-lu-thang"), "the posts come under the command");
        Assert.DoesNotContain(after, o => o.StartsWith("Xã Hoang Thèn", StringComparison.Ordinal));
        // Phong Thổ (chosen) is kept, outside the tree of that day, with its end.
        Assert.Equal("phong-tho", await page.Locator("#unit").InputValueAsync());
        Assert.Contains(after, o => o.StartsWith("Phong Thổ — ", StringComparison.Ordinal) && o.Contains("đã giải thể", StringComparison.Ordinal));

        // A former unit is found by its name, with its successor.
        await page.Locator("#unit-search").FillAsync("Hoang Thèn");
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('#unit option')].some(o => o.value === 'hoang-then')");
        Assert.Contains(await OptionsAsync(page), o => o.StartsWith("Xã Hoang Thèn — ", StringComparison.Ordinal)
            && o.Contains("đã sáp nhập vào Xã Khổng Lào, từ 01/07/2025", StringComparison.Ordinal));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = BrowserFixture.Screenshot("dashboard-tree-2025") });
    }

    [Fact]
    public async Task The_lineage_switch_carries_the_merged_communes_figures_forward()
    {
        using var analyst = fixture.Http(BrowserFixture.AnalystKey);
        const string Query = "from=2019-01-01&to=2026-06-30&unitId=xa-khong-lao";
        var asItWas = await TotalAsync(analyst, Query);
        var carried = await TotalAsync(analyst, Query + "&lineage=true");
        Assert.True(asItWas > 0);
        Assert.True(carried > asItWas, $"carried forward {carried}, as it was {asItWas}");

        var page = await OpenAsync("?unit=xa-khong-lao&preset=custom&from=2019-01-01&to=2026-06-30&by=kind");
        await WaitForFiguresAsync(page, $"/api/v1/statistics?{Query}&groupBy=kind");
        var total = page.Locator("#figures-table tfoot td.value");
        Assert.Equal(Vn(asItWas), (await total.TextContentAsync())?.Trim());
        Assert.True(await page.Locator("#lineage-note").IsHiddenAsync());

        await page.Locator("#lineage").CheckAsync();
        await WaitForFiguresAsync(page, $"/api/v1/statistics?{Query}&groupBy=kind&lineage=true");
        Assert.Equal(Vn(carried), (await total.TextContentAsync())?.Trim());
        Assert.Contains("lineage=true", page.Url);
        var note = await page.Locator("#lineage-note").TextContentAsync();
        Assert.Contains("Xã Hoang Thèn", note);
        Assert.Contains("Xã Bản Lang", note);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = BrowserFixture.Screenshot("dashboard-lineage") });

        await page.Locator("#lineage").UncheckAsync();
        await WaitForFiguresAsync(page, $"/api/v1/statistics?{Query}&groupBy=kind");
        Assert.Equal(Vn(asItWas), (await total.TextContentAsync())?.Trim());
    }

    [Fact]
    public async Task By_unit_over_a_straddling_period_gives_the_old_and_the_new_children_with_their_dates()
    {
        using var analyst = fixture.Http(BrowserFixture.AnalystKey);
        const string Query = "from=2024-07-01&to=2025-12-31&unitId=lai-chau&groupBy=unit";
        using var answer = JsonDocument.Parse(await analyst.GetStringAsync("api/v1/statistics?" + Query));
        var keys = answer.RootElement.GetProperty("rows").EnumerateArray().Select(r => r.GetProperty("key").GetProperty("unit").GetString()).ToHashSet();
        Assert.Contains("phong-tho", keys);
        Assert.Contains("xa-khong-lao", keys);

        var page = await OpenAsync("?unit=lai-chau&preset=custom&from=2024-07-01&to=2025-12-31&by=unit");
        await WaitForFiguresAsync(page, "/api/v1/statistics?" + Query);
        var rows = await page.Locator("#figures-table tbody tr").EvaluateAllAsync<string[]>("rs => rs.map(r => r.dataset.key)");
        Assert.Equal(keys.Order(StringComparer.Ordinal), rows.Order(StringComparer.Ordinal));
        Assert.Contains("Phong Thổ (đến 30/06/2025)", await page.Locator("#figures-table tr[data-key='phong-tho'] th").TextContentAsync());
        Assert.Contains("Xã Khổng Lào (từ 01/07/2025)", await page.Locator("#figures-table tr[data-key='xa-khong-lao'] th").TextContentAsync());
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = BrowserFixture.Screenshot("dashboard-by-unit-2025") });
    }
}
