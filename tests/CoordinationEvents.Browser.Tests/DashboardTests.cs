using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace CoordinationEvents.Browser.Tests;

/// <summary>The dashboard at /dashboard, driven in Chromium the way an analyst uses it.</summary>
[Collection(BrowserCollection.Name)]
public sealed class DashboardTests(BrowserFixture fixture)
{
    const string PhongThoReview = "/api/v1/statistics?from=2019-01-01&to=2024-12-31&unitId=phong-tho";

    /// <summary>
    /// Opens the page (with the given query string), types the key and waits for the first figures. With
    /// <paramref name="problems"/>, every console error, page error, failed request and HTTP error answer is added to it.
    /// </summary>
    async Task<IPage> OpenAsync(string query = "", string key = BrowserFixture.AnalystKey, int width = 1366, int height = 768,
        string locale = "vi-VN", List<string>? problems = null)
    {
        var page = await fixture.NewPageAsync(width, height, locale);
        if (problems is not null) Watch(page, problems);
        await page.GotoAsync("/dashboard" + query);
        await page.Locator("#api-key").FillAsync(key);
        await page.Locator("#key-submit").ClickAsync();
        await page.Locator("#main").WaitForAsync();
        await page.WaitForFunctionAsync("() => document.body.dataset.loaded !== undefined");
        return page;
    }

    /// <summary>Waits until the figures on screen are those of this statistics query.</summary>
    static Task WaitForFiguresAsync(IPage page, string statisticsPath) =>
        page.WaitForFunctionAsync("q => document.body.dataset.loaded === q", statisticsPath);

    static async Task ChoosePhongThoAsync(IPage page)
    {
        // Typed in NFD (o + combining circumflex + combining hook): the search normalises to NFC.
        await page.Locator("#unit-search").FillAsync("Phong Tho\u0302\u0309".Normalize(NormalizationForm.FormD));
        var options = await page.Locator("#unit option").AllTextContentsAsync();
        Assert.Contains(options, o => o.Trim().StartsWith("Phong Thổ", StringComparison.Ordinal));
        await page.Locator("#unit").SelectOptionAsync("phong-tho");
    }

    [Fact]
    public async Task The_root_redirects_to_the_page_which_brings_its_own_chart_library_and_its_licence()
    {
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(fixture.BaseUrl) };
        using var root = await http.GetAsync("/");
        Assert.Equal(System.Net.HttpStatusCode.Redirect, root.StatusCode);
        Assert.Equal("/dashboard", root.Headers.Location?.OriginalString);
        using var page = await http.GetAsync("/dashboard");
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var html = await page.Content.ReadAsStringAsync();
        Assert.DoesNotContain("://", html.Replace("http://www.w3.org", "", StringComparison.Ordinal)); // nothing from a CDN
        Assert.Contains("/dashboard/vendor/chartjs/chart.umd.min.js", html);
        Assert.Contains("MIT", await http.GetStringAsync("/dashboard/vendor/chartjs/LICENSE.md"));
        Assert.StartsWith("/*!\n * Chart.js v4.", (await http.GetStringAsync("/dashboard/vendor/chartjs/chart.umd.min.js")).ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task Phong_Tho_2019_2024_shows_1236_patrols_in_the_table_and_a_chart()
    {
        var page = await OpenAsync("?preset=this-year");
        await ChoosePhongThoAsync(page);
        await page.Locator("#preset").SelectOptionAsync("review");
        await WaitForFiguresAsync(page, PhongThoReview + "&groupBy=kind");

        Assert.Equal("01/01/2019", await page.Locator("#from").InputValueAsync());
        Assert.Equal("31/12/2024", await page.Locator("#to").InputValueAsync());
        var patrols = page.Locator("#figures-table tr[data-key='patrol'][data-metric='patrols'] td.value");
        Assert.Equal("1.236", (await patrols.TextContentAsync())?.Trim());
        Assert.Equal("7.920", (await page.Locator("#figures-table tr[data-key='patrol'][data-metric='patrolParticipants'] td.value").TextContentAsync())?.Trim());
        // A decimal stock, the Vietnamese way, and not summed over the years' declarations.
        Assert.Equal("97,229", (await page.Locator("#figures-table tr[data-key='self-management'][data-metric='selfManagedBorderKm'] td.value").TextContentAsync())?.Trim());
        Assert.Contains("Số lần tuần tra", await page.Locator("#figures-table").TextContentAsync());

        Assert.True(await page.EvaluateAsync<bool>("() => window.ceDashboard.chart.data.datasets.some(d => d.data.some(v => v > 0))"));
        var paintedPixels = await page.EvaluateAsync<int>("""
            () => {
              const canvas = document.getElementById('chart');
              const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
              let painted = 0;
              for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
              return painted;
            }
            """);
        Assert.True(paintedPixels > 2_000, $"the chart paints only {paintedPixels} pixels");

        await page.ScreenshotAsync(new PageScreenshotOptions { Path = BrowserFixture.Screenshot("dashboard"), FullPage = true });
        // The README's picture (docs/dashboard.png): the choices, the chart and the first lines of the table.
        await page.ScreenshotAsync(new PageScreenshotOptions
        {
            Path = BrowserFixture.Screenshot("dashboard-top"),
            FullPage = true,
            Clip = new Clip { X = 0, Y = 0, Width = 1366, Height = 1150 },
        });
    }

    [Fact]
    public async Task A_breakdown_by_month_gives_one_column_per_month_and_stocks_at_each_period_end()
    {
        var page = await OpenAsync("?unit=phong-tho&preset=review");
        await page.Locator("#by").SelectOptionAsync("month");
        await WaitForFiguresAsync(page, PhongThoReview + "&groupBy=month");

        var months = await page.Locator("#figures-table thead th.period").AllTextContentsAsync();
        Assert.Equal(72, months.Count);
        Assert.Equal(72, months.Distinct().Count());
        Assert.Equal("Tháng 01/2019", months[0].Trim());
        Assert.Equal("Tháng 12/2024", months[^1].Trim());
        Assert.Equal("Cả kỳ", (await page.Locator("#figures-table thead th.whole").TextContentAsync())?.Trim());
        // Self-management is a stock: the whole period's column gives the stock at 31/12/2024, not a sum.
        var collectives = page.Locator("#figures-table tr[data-metric='selfManagedCollectives']");
        Assert.Equal("63", (await collectives.Locator("td[data-period='all']").TextContentAsync())?.Trim());
        Assert.Equal("1.236", (await page.Locator("#figures-table tr[data-metric='patrols'] td[data-period='all']").TextContentAsync())?.Trim());
        // Each month shows the stock at its end: the last month's is the period's, an earlier one is smaller.
        Assert.Equal("63", (await collectives.Locator("td[data-period='2024-12']").TextContentAsync())?.Trim());
        Assert.True(int.Parse((await collectives.Locator("td[data-period='2021-12']").TextContentAsync())!.Trim().Replace(".", "")) < 63);
        Assert.Equal("line", await page.EvaluateAsync<string>("() => window.ceDashboard.chart.config.type"));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = BrowserFixture.Screenshot("dashboard-by-month") });
    }

    [Fact]
    public async Task A_breakdown_by_unit_names_the_child_units_and_stacks_the_kinds()
    {
        var page = await OpenAsync("?unit=phong-tho&preset=review");
        await page.Locator("#by").SelectOptionAsync("unit");
        await WaitForFiguresAsync(page, PhongThoReview + "&groupBy=unit");

        var rows = await page.Locator("#figures-table tbody tr th").AllTextContentsAsync();
        Assert.Contains("Đồn Biên phòng Ma Lù Thàng", rows.Select(r => r.Trim()));
        Assert.Contains("Xã Sì Lở Lầu", rows.Select(r => r.Trim()));
        Assert.Equal("1.236", (await page.Locator("#figures-table tfoot td[data-metric='patrols']").TextContentAsync())?.Trim());
        Assert.Equal("bar", await page.EvaluateAsync<string>("() => window.ceDashboard.chart.config.type"));
        Assert.True(await page.EvaluateAsync<bool>("() => window.ceDashboard.chart.options.scales.x.stacked && window.ceDashboard.chart.data.datasets.length > 1"));
    }

    [Fact]
    public async Task One_kind_by_year_has_its_metrics_down_the_side_and_the_chart_follows_the_chosen_metric()
    {
        var page = await OpenAsync("?unit=phong-tho&preset=review&by=year");
        await page.Locator("#kind-list input[value='patrol']").CheckAsync();
        await WaitForFiguresAsync(page, PhongThoReview + "&kind=patrol&groupBy=year");
        Assert.Equal("patrols", await page.Locator("#chart-metric").InputValueAsync());
        var years = await page.Locator("#figures-table thead th.period").AllInnerTextsAsync();
        Assert.Equal(["Năm 2019", "Năm 2020", "Năm 2021", "Năm 2022", "Năm 2023", "Năm 2024"], years.Select(y => y.Replace('\n', ' ').Trim()));
        // The kind's heading, then activities and patrol's five metrics.
        var metrics = await page.Locator("#figures-table tbody tr[data-metric]").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.metric)");
        Assert.Equal(["activities", "patrols", "patrolParticipants", "markersInspected", "intrusionsDetected", "distanceKm"], metrics);
        Assert.StartsWith("Số lần tuần tra", await page.Locator("#figures-table tr[data-metric='patrols'] th").InnerTextAsync());
        Assert.Equal("Tuần tra", (await page.Locator("#figures-table tr.group th").InnerTextAsync()).Trim());

        await page.Locator("#chart-metric").SelectOptionAsync("patrolParticipants");
        await page.WaitForFunctionAsync("() => window.ceDashboard.chart.data.datasets[0].label === 'Lượt người tham gia tuần tra'");
        Assert.Contains("chart=patrolParticipants", page.Url);
        var total = await page.EvaluateAsync<double>("() => window.ceDashboard.chart.data.datasets[0].data.reduce((a, b) => a + b, 0)");
        Assert.Equal(7_920, total);
    }

    [Fact]
    public async Task A_quarter_preset_sets_the_dates_and_reversed_dates_are_refused_with_a_message()
    {
        var page = await OpenAsync("?unit=phong-tho");
        await page.Locator("#preset").SelectOptionAsync("quarter");
        await page.Locator("#quarter-year").FillAsync("2023");
        await page.Locator("#quarter-year").DispatchEventAsync("change");
        await page.Locator("#quarter").SelectOptionAsync("2");
        await WaitForFiguresAsync(page, "/api/v1/statistics?from=2023-04-01&to=2023-06-30&unitId=phong-tho&groupBy=kind");
        Assert.Equal("01/04/2023", await page.Locator("#from").InputValueAsync());
        Assert.Equal("30/06/2023", await page.Locator("#to").InputValueAsync());

        await page.Locator("#from").FillAsync("01/05/2024");
        await page.Locator("#to").FillAsync("31/01/2024");
        await page.Locator("#to").PressAsync("Enter");
        await page.Locator("#error", new PageLocatorOptions { HasTextString = "Ngày kết thúc không được trước ngày bắt đầu" }).WaitForAsync();
        Assert.Equal("custom", await page.Locator("#preset").InputValueAsync());
    }

    [Fact]
    public async Task The_unit_search_respects_diacritics_and_also_finds_names_typed_without_them()
    {
        var page = await OpenAsync();
        async Task<string[]> Found(string query)
        {
            await page.Locator("#unit-search").FillAsync(query);
            return (await page.Locator("#unit option:not([disabled])").AllTextContentsAsync()).Select(o => o.Trim()).ToArray();
        }
        Assert.Contains(await Found("Mường Tè"), o => o.StartsWith("Mường Tè", StringComparison.Ordinal));
        Assert.Contains(await Found("muong te"), o => o.StartsWith("Mường Tè", StringComparison.Ordinal));
        // With diacritics the match is exact: "Sìn Hồ" is not "Sin Suối Hồ", but "sin" finds both.
        Assert.DoesNotContain(await Found("Sìn"), o => o.StartsWith("Xã Sin Suối Hồ", StringComparison.Ordinal));
        Assert.Contains(await Found("sin"), o => o.StartsWith("Xã Sin Suối Hồ", StringComparison.Ordinal));
        Assert.Empty(await Found("Thổ Nhĩ Kỳ"));

        await page.Locator("#unit-search").FillAsync("Phong Thổ");
        await page.Locator("#unit-search").PressAsync("Enter");
        await WaitForFiguresAsync(page, "/api/v1/statistics?from=2019-01-01&to=2024-12-31&unitId=phong-tho&groupBy=kind");
    }

    [Fact]
    public async Task The_CSV_download_equals_the_statistics_endpoints_CSV()
    {
        var page = await OpenAsync("?unit=phong-tho&preset=review&by=year");
        await WaitForFiguresAsync(page, PhongThoReview + "&groupBy=year");

        await page.ScreenshotAsync(new PageScreenshotOptions { Path = BrowserFixture.Screenshot("dashboard-by-year") });
        var download = await page.RunAndWaitForDownloadAsync(() => page.Locator("#csv").ClickAsync());
        var downloaded = await File.ReadAllBytesAsync(await download.PathAsync());

        using var analyst = fixture.Http(BrowserFixture.AnalystKey);
        using var request = new HttpRequestMessage(HttpMethod.Get, PhongThoReview.TrimStart('/') + "&groupBy=year");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/csv"));
        using var response = await analyst.SendAsync(request);
        response.EnsureSuccessStatusCode();
        var expected = await response.Content.ReadAsByteArrayAsync();

        Assert.StartsWith("year,activities,patrols", Encoding.UTF8.GetString(downloaded));
        Assert.Equal(Encoding.UTF8.GetString(expected), Encoding.UTF8.GetString(downloaded));
        Assert.EndsWith(".csv", download.SuggestedFilename);
    }

    [Fact]
    public async Task The_report_view_shows_the_review_report_ready_to_print()
    {
        var page = await OpenAsync("?unit=phong-tho&preset=review");
        await page.Locator("#tab-report").ClickAsync();
        var line = page.Locator("#report li", new PageLocatorOptions { HasTextString = "Tổ chức tuần tra 1.236 lần/7.920 lượt người tham gia" });
        await line.WaitForAsync();
        Assert.Equal("Tổ chức tuần tra 1.236 lần/7.920 lượt người tham gia", (await line.First.TextContentAsync())?.Trim());
        Assert.Contains("tab=report", page.Url);

        await page.Context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"]);
        await page.Locator("#report-copy").ClickAsync();
        await page.Locator("#report-copied", new PageLocatorOptions { HasTextString = "Đã sao chép" }).WaitForAsync();
        var copied = await page.EvaluateAsync<string>("() => navigator.clipboard.readText()");
        Assert.Contains("- Tổ chức tuần tra 1.236 lần/7.920 lượt người tham gia\n", copied);
        Assert.StartsWith("Báo cáo", copied);

        await page.EmulateMediaAsync(new PageEmulateMediaOptions { Media = Media.Print });
        Assert.False(await page.Locator("#choices").IsVisibleAsync());
        Assert.False(await page.Locator("#report-print").IsVisibleAsync());
        Assert.True(await page.Locator("#report h1").IsVisibleAsync());
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = BrowserFixture.Screenshot("report-print"), FullPage = true });
    }

    [Fact]
    public async Task A_wrong_key_and_a_key_without_the_role_show_a_clear_message()
    {
        var page = await fixture.NewPageAsync();
        await page.GotoAsync("/dashboard");
        await page.Locator("#api-key").FillAsync("not-a-key");
        await page.Locator("#key-submit").ClickAsync();
        var error = page.Locator("#key-error");
        await error.WaitForAsync();
        Assert.Contains("Khóa API không đúng", await error.TextContentAsync());
        Assert.False(await page.Locator("#main").IsVisibleAsync());
        Assert.Null(await page.EvaluateAsync<string?>("() => sessionStorage.getItem('coordinationEvents.apiKey')"));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = BrowserFixture.Screenshot("wrong-key") });

        await page.Locator("#api-key").FillAsync(BrowserFixture.ReporterKey);
        await page.Locator("#key-submit").ClickAsync();
        await page.Locator("#key-error", new PageLocatorOptions { HasTextString = "không có quyền" }).WaitForAsync();
        Assert.False(await page.Locator("#main").IsVisibleAsync());
    }

    [Fact]
    public async Task Reopening_a_shared_URL_restores_the_choices()
    {
        var page = await OpenAsync();
        await ChoosePhongThoAsync(page);
        await page.Locator("#preset").SelectOptionAsync("custom");
        await page.Locator("#from").FillAsync("01/01/2021");
        await page.Locator("#to").FillAsync("30/06/2022");
        await page.Locator("#kind-list input[value='patrol']").CheckAsync();
        await page.Locator("#kind-list input[value='crime-bust']").CheckAsync();
        await page.Locator("#by").SelectOptionAsync("quarter");
        const string statistics = "/api/v1/statistics?from=2021-01-01&to=2022-06-30&unitId=phong-tho&kind=patrol,crime-bust&groupBy=quarter";
        await WaitForFiguresAsync(page, statistics);
        var shared = page.Url;
        var table = await page.Locator("#figures-table").InnerTextAsync();
        Assert.Contains("unit=phong-tho", shared);

        // Another analyst, another browser session: no key yet, then the same page.
        var other = await OpenAsync(new Uri(shared).Query);
        await WaitForFiguresAsync(other, statistics);
        Assert.Equal("phong-tho", await other.Locator("#unit").InputValueAsync());
        Assert.Equal("custom", await other.Locator("#preset").InputValueAsync());
        Assert.Equal("01/01/2021", await other.Locator("#from").InputValueAsync());
        Assert.Equal("30/06/2022", await other.Locator("#to").InputValueAsync());
        Assert.Equal("quarter", await other.Locator("#by").InputValueAsync());
        Assert.True(await other.Locator("#kind-list input[value='patrol']").IsCheckedAsync());
        Assert.True(await other.Locator("#kind-list input[value='crime-bust']").IsCheckedAsync());
        Assert.False(await other.Locator("#kind-list input[value='meeting']").IsCheckedAsync());
        Assert.Equal(6, await other.Locator("#figures-table thead th.period").CountAsync());
        Assert.Equal(table, await other.Locator("#figures-table").InnerTextAsync());
    }

    [Fact]
    public async Task Recent_activities_are_listed_newest_first()
    {
        var page = await OpenAsync("?unit=phong-tho&preset=review&tab=activities");
        var dates = page.Locator("#activities li time");
        await dates.First.WaitForAsync();
        var days = await dates.EvaluateAllAsync<string[]>("els => els.map(e => e.dateTime)");
        Assert.True(days.Length > 1);
        Assert.Equal(days.OrderByDescending(d => d, StringComparer.Ordinal), days);
        Assert.Matches(new Regex(@"^\d{2}/\d{2}/\d{4}$"), (await dates.First.TextContentAsync())!.Trim());
    }

    [Fact]
    public async Task An_admin_key_shows_the_projections_lag_and_an_analyst_key_does_not()
    {
        var admin = await OpenAsync(key: BrowserFixture.AdminKey);
        await admin.Locator("#lag").WaitForAsync();
        Assert.Contains("độ trễ 0", await admin.Locator("#lag").TextContentAsync());

        var analyst = await OpenAsync();
        Assert.False(await analyst.Locator("#lag").IsVisibleAsync());
    }

    [Fact]
    public async Task On_a_phone_the_page_fits_the_screen_and_the_controls_are_reached_by_keyboard()
    {
        var page = await OpenAsync("?unit=phong-tho&preset=review", width: 390, height: 844);
        await WaitForFiguresAsync(page, PhongThoReview + "&groupBy=kind");
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth + 1"),
            "the page is wider than the phone's screen");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = BrowserFixture.Screenshot("dashboard-phone"), FullPage = true });
        await page.EvaluateAsync("() => document.getElementById('panel-figures').scrollIntoView()");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = BrowserFixture.Screenshot("dashboard-phone-figures") });

        // The choices are folded away behind a line that says what they are; the button opens them.
        Assert.False(await page.Locator("#choices").IsVisibleAsync());
        Assert.Contains("Phong Thổ", await page.Locator("#choices-summary-text").TextContentAsync());
        await page.Locator("#choices-toggle").ClickAsync();
        Assert.True(await page.Locator("#unit-search").IsVisibleAsync());
        Assert.Equal("true", await page.Locator("#choices-toggle").GetAttributeAsync("aria-expanded"));

        // Every control has a label, and Tab walks through them in order.
        var unlabelled = await page.EvaluateAsync<string[]>("""
            () => [...document.querySelectorAll('#main input, #main select')]
              .filter(el => !(el.labels && el.labels.length) && !el.closest('label') && !el.getAttribute('aria-label'))
              .map(el => el.id || el.name)
            """);
        Assert.Empty(unlabelled);
        await page.Locator("#unit-search").FocusAsync();
        var reached = new List<string>();
        for (var i = 0; i < 12; i++)
        {
            await page.Keyboard.PressAsync("Tab");
            reached.Add(await page.EvaluateAsync<string>("() => document.activeElement.id || document.activeElement.name"));
        }
        Assert.Contains("unit", reached);
        Assert.Contains("preset", reached);
        Assert.Contains("from", reached);
        Assert.Contains("kind", reached);
    }

    // ---- Issue 20: the dashboard reads like the officials' reports, on a desk and on a phone ---------------------

    /// <summary>Adds to <paramref name="problems"/> every console error, uncaught error, failed request and HTTP error answer.</summary>
    static void Watch(IPage page, List<string> problems)
    {
        page.Console += (_, message) => { if (message.Type == "error") lock (problems) problems.Add($"console: {message.Text}"); };
        page.PageError += (_, error) => { lock (problems) problems.Add($"page error: {error}"); };
        page.RequestFailed += (_, request) => { lock (problems) problems.Add($"failed: {request.Method} {request.Url} {request.Failure}"); };
        page.Response += (_, response) => { if (response.Status >= 400) lock (problems) problems.Add($"{response.Status}: {response.Request.Method} {response.Url}"); };
    }

    /// <summary>The table's cell of a metric in a period ("2022", "2022-Q3", "2022-07", or "all" for the whole period).</summary>
    static ILocator Figure(IPage page, string metric, string period) =>
        page.Locator($"#figures-table tr[data-metric='{metric}'] td[data-period='{period}']");

    [Fact]
    public async Task By_year_the_metrics_go_down_the_side_grouped_by_kind_and_the_years_across_the_top()
    {
        var page = await OpenAsync("?unit=phong-tho&preset=review&by=year");
        await WaitForFiguresAsync(page, PhongThoReview + "&groupBy=year");

        var headers = (await page.Locator("#figures-table thead th").AllInnerTextsAsync()).Select(h => h.Replace('\n', ' ').Trim()).ToArray();
        Assert.Equal(["Chỉ tiêu", "Năm 2019", "Năm 2020", "Năm 2021", "Năm 2022", "Năm 2023", "Năm 2024", "Cả kỳ"], headers);
        // Grouped under their kind as in the kind view, in the catalog's order.
        var groups = (await page.Locator("#figures-table tr.group th").AllInnerTextsAsync()).Select(g => g.Trim()).ToArray();
        Assert.Equal("Tuần tra", groups[0]);
        Assert.Contains("Tự quản đường biên, cột mốc", groups);
        Assert.Equal("1.236", (await Figure(page, "patrols", "all").TextContentAsync())?.Trim());
        var yearly = await page.Locator("#figures-table tr[data-metric='patrols'] td:not(.whole)")
            .EvaluateAllAsync<int[]>("cells => cells.map(c => Number(c.textContent.trim().replaceAll('.', '')))");
        Assert.Equal(6, yearly.Length);
        Assert.Equal(1_236, yearly.Sum());
        // Stocks at each year's end; the whole period's is the stock at 31/12/2024.
        Assert.Equal("97,229", (await Figure(page, "selfManagedBorderKm", "all").TextContentAsync())?.Trim());
        Assert.Equal("97,229", (await Figure(page, "selfManagedBorderKm", "2024").TextContentAsync())?.Trim());
        Assert.Equal("63", (await Figure(page, "selfManagedCollectives", "2024").TextContentAsync())?.Trim());
        // Amounts in đồng read in triệu đồng, the exact amount in the cell's title.
        Assert.Contains("(triệu đồng)", await page.Locator("#figures-table tr[data-metric='goodsValueVnd'] th").InnerTextAsync());
        Assert.EndsWith(" đồng", await Figure(page, "goodsValueVnd", "all").GetAttributeAsync("title"));
        // The first column stays in view while the periods scroll.
        Assert.Equal("sticky", await page.Locator("#figures-table tr[data-metric='patrols'] th").EvaluateAsync<string>("e => getComputedStyle(e).position"));
        Assert.Equal("sticky", await page.Locator("#figures-table thead th").First.EvaluateAsync<string>("e => getComputedStyle(e).position"));
    }

    [Fact]
    public async Task Twelve_months_fit_at_1366x768_without_scrolling_sideways()
    {
        var page = await OpenAsync("?unit=phong-tho&preset=custom&from=2022-01-01&to=2022-12-31&by=month");
        await WaitForFiguresAsync(page, "/api/v1/statistics?from=2022-01-01&to=2022-12-31&unitId=phong-tho&groupBy=month");
        Assert.Equal(12, await page.Locator("#figures-table thead th.period").CountAsync());
        Assert.True(await page.EvaluateAsync<bool>("() => { const w = document.querySelector('.table-wrap'); return w.scrollWidth <= w.clientWidth; }"),
            "twelve months do not fit at 1366×768");
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= innerWidth"));
        var whole = await Figure(page, "patrols", "all").BoundingBoxAsync();
        Assert.True(whole!.X + whole.Width <= 1366, $"the whole year's column ends at {whole.X + whole.Width}");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = BrowserFixture.Screenshot("dashboard-12-months-1366x768"), FullPage = true });
    }

    [Fact]
    public async Task On_a_phone_a_district_officer_reads_Phong_Thos_patrols_for_2022_without_scrolling_sideways()
    {
        var page = await OpenAsync("?unit=phong-tho&preset=review&by=year", width: 390, height: 844);
        await WaitForFiguresAsync(page, PhongThoReview + "&groupBy=year");

        // The choices folded away once made; the page is no wider than the phone.
        Assert.False(await page.Locator("#choices").IsVisibleAsync());
        Assert.True(await page.Locator("#choices-toggle").IsVisibleAsync());
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= innerWidth + 1"), "the page is wider than the phone");

        var cell = Figure(page, "patrols", "2022");
        await cell.ScrollIntoViewIfNeededAsync();
        Assert.Equal(0, await page.Locator(".table-wrap").EvaluateAsync<int>("w => w.scrollLeft")); // nothing scrolled sideways
        var box = await cell.BoundingBoxAsync();
        Assert.True(box!.X >= 0 && box.X + box.Width <= 390, $"the 2022 patrols are at x {box.X}–{box.X + box.Width}, beyond 390");
        var name = await page.Locator("#figures-table tr[data-metric='patrols'] th").BoundingBoxAsync();
        Assert.True(name!.X >= 0 && name.X + name.Width <= box.X + 1);
        Assert.StartsWith("Số lần tuần tra", await page.Locator("#figures-table tr[data-metric='patrols'] th").InnerTextAsync());
        Assert.Matches(new Regex(@"^\d{1,3}(\.\d{3})*$"), (await cell.TextContentAsync())!.Trim());

        // The chart: at most the six largest kinds and "khác", its legend below, tall enough to read.
        var datasets = await page.EvaluateAsync<string[]>("() => window.ceDashboard.chart.data.datasets.map(d => d.label)");
        Assert.InRange(datasets.Length, 2, 7);
        Assert.StartsWith("khác", datasets[^1]);
        Assert.Equal("bottom", await page.EvaluateAsync<string>("() => window.ceDashboard.chart.options.plugins.legend.position"));
        var plot = await page.EvaluateAsync<double>("() => { const a = window.ceDashboard.chart.chartArea; return a.bottom - a.top; }");
        Assert.True(plot >= 180, $"the plot is only {plot} px high");
    }

    [Fact]
    public async Task An_analyst_and_an_admin_use_every_tab_with_a_clean_console()
    {
        foreach (var key in new[] { BrowserFixture.AnalystKey, BrowserFixture.AdminKey })
        foreach (var (width, height) in new[] { (1366, 768), (390, 844) })
        {
            var problems = new List<string>();
            var asked = new List<string>();
            var page = await OpenAsync("?unit=phong-tho&preset=review", key, width, height, problems: problems);
            page.Request += (_, request) => { lock (asked) asked.Add(new Uri(request.Url).AbsolutePath); };
            await WaitForFiguresAsync(page, PhongThoReview + "&groupBy=kind");
            if (width < 640) await page.Locator("#choices-toggle").ClickAsync();
            foreach (var by in new[] { "year", "quarter", "month", "unit", "outcome", "kind" })
            {
                await page.Locator("#by").SelectOptionAsync(by);
                await WaitForFiguresAsync(page, PhongThoReview + "&groupBy=" + by);
                if (width < 640) await page.Locator("#choices-toggle").ClickAsync();
            }
            await page.Locator("#tab-report").ClickAsync();
            await page.Locator("#report li").First.WaitForAsync();
            await page.Locator("#tab-activities").ClickAsync();
            await page.Locator("#activities li").First.WaitForAsync();
            if (await page.Locator("#activities-more").IsVisibleAsync())
            {
                var before = await page.Locator("#activities li").CountAsync();
                await page.Locator("#activities-more").ClickAsync();
                await page.WaitForFunctionAsync("n => document.querySelectorAll('#activities li').length > n", before);
            }
            await page.Locator("#tab-figures").ClickAsync();
            await page.Locator("#figures-table tbody").First.WaitForAsync();
            if (key == BrowserFixture.AdminKey) await page.Locator("#lag").WaitForAsync();
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle);

            Assert.True(problems.Count == 0, $"{key} at {width}×{height}: {string.Join("; ", problems)}");
            if (key == BrowserFixture.AnalystKey)
                Assert.DoesNotContain(asked, path => path.StartsWith("/api/v1/admin/", StringComparison.Ordinal));
            await page.Context.CloseAsync();
        }
    }

    [Fact]
    public async Task The_page_has_an_icon_and_favicon_ico_answers()
    {
        using var http = new HttpClient { BaseAddress = new Uri(fixture.BaseUrl) };
        var html = await http.GetStringAsync("/dashboard");
        Assert.Contains("<link rel=\"icon\" href=\"/dashboard/icon.svg\"", html);
        foreach (var path in new[] { "/dashboard/icon.svg", "/favicon.ico" })
        {
            using var response = await http.GetAsync(path);
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("image/svg+xml", response.Content.Headers.ContentType?.MediaType);
            Assert.StartsWith("<svg", (await response.Content.ReadAsStringAsync()).TrimStart());
        }
        // No inline scripts or event handlers: a Content-Security-Policy without 'unsafe-inline' will hold.
        Assert.DoesNotMatch(new Regex(@"<script(?![^>]*\bsrc=)[^>]*>", RegexOptions.IgnoreCase), html);
        Assert.DoesNotMatch(new Regex(@"\son[a-z]+\s*=", RegexOptions.IgnoreCase), html);
        Assert.DoesNotContain("type=\"date\"", html);
    }

    [Fact]
    public async Task Under_an_English_browser_dates_are_entered_and_shown_as_dd_mm_yyyy_and_the_URL_keeps_ISO()
    {
        var page = await OpenAsync("?unit=phong-tho&preset=review", locale: "en-US");
        Assert.Equal("en-US", await page.EvaluateAsync<string>("() => navigator.language"));
        Assert.Equal("01/01/2019", await page.Locator("#from").InputValueAsync());
        Assert.Equal("31/12/2024", await page.Locator("#to").InputValueAsync());

        await page.Locator("#to").FillAsync("31/12/2022");
        await page.Locator("#to").PressAsync("Enter");
        const string statistics = "/api/v1/statistics?from=2019-01-01&to=2022-12-31&unitId=phong-tho&groupBy=kind";
        await WaitForFiguresAsync(page, statistics);
        Assert.Contains("from=2019-01-01", page.Url);
        Assert.Contains("to=2022-12-31", page.Url);
        Assert.Equal("custom", await page.Locator("#preset").InputValueAsync());
        Assert.Equal("31/12/2022", await page.Locator("#to").InputValueAsync());
        Assert.Contains("từ 01/01/2019 đến 31/12/2022", await page.Locator("#figures-title").TextContentAsync());

        // 1/3/2021 is the first of March, not January the third; 31/02 does not exist.
        await page.Locator("#from").FillAsync("1/3/2021");
        await page.Locator("#from").PressAsync("Enter");
        await WaitForFiguresAsync(page, "/api/v1/statistics?from=2021-03-01&to=2022-12-31&unitId=phong-tho&groupBy=kind");
        Assert.Equal("01/03/2021", await page.Locator("#from").InputValueAsync());
        await page.Locator("#from").FillAsync("31/02/2022");
        await page.Locator("#from").PressAsync("Enter");
        await page.Locator("#error", new PageLocatorOptions { HasTextString = "31/02/2022" }).WaitForAsync();
        Assert.Equal("true", await page.Locator("#from").GetAttributeAsync("aria-invalid"));
        Assert.Contains("from=2021-03-01", page.Url);
    }

    [Fact]
    public async Task Screenshots_of_the_kind_and_year_views_on_a_desk_and_on_a_phone()
    {
        foreach (var (width, height) in new[] { (1366, 768), (390, 844) })
        foreach (var by in new[] { "kind", "year" })
        {
            var page = await OpenAsync($"?unit=phong-tho&preset=review&by={by}", width: width, height: height);
            await WaitForFiguresAsync(page, PhongThoReview + "&groupBy=" + by);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = BrowserFixture.Screenshot($"dashboard-{by}-{width}x{height}"), FullPage = true });
            if (by == "year" && width == 1366)
            {
                // The README's picture (docs/dashboard-year.png): the year view's chart and table, as an analyst sees it.
                await page.EvaluateAsync("() => window.scrollTo(0, document.getElementById('panel-figures').getBoundingClientRect().top + scrollY - 8)");
                await page.ScreenshotAsync(new PageScreenshotOptions { Path = BrowserFixture.Screenshot("dashboard-year") });
            }
            await page.Context.CloseAsync();
        }
    }
}
