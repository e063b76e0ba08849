using Microsoft.Playwright;

namespace CoordinationEvents.Browser.Tests;

/// <summary>
/// The pages under their Content-Security-Policy (only the service's own scripts and styles, no inline script):
/// the dashboard draws its figures and Swagger UI lists the operations, with no CSP violation in the console.
/// (Swagger UI's "Try it out" under the policy: <see cref="SwaggerUiTests"/>.)
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class SecurityHeadersBrowserTests(BrowserFixture fixture)
{
    static List<string> Watch(IPage page)
    {
        var problems = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error" || message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
                lock (problems) problems.Add($"console {message.Type}: {message.Text}");
        };
        page.PageError += (_, error) => { lock (problems) problems.Add($"page error: {error}"); };
        return problems;
    }

    [Fact]
    public async Task The_dashboard_works_under_its_policy_with_no_violation()
    {
        var page = await fixture.NewPageAsync();
        var problems = Watch(page);
        var response = await page.GotoAsync("/dashboard?unit=phong-tho&preset=review");
        var csp = await response!.HeaderValueAsync("content-security-policy");
        Assert.Contains("script-src 'self'", csp);
        Assert.Contains("frame-ancestors 'none'", csp);
        Assert.Equal("nosniff", await response.HeaderValueAsync("x-content-type-options"));

        await page.Locator("#api-key").FillAsync(BrowserFixture.AnalystKey);
        await page.Locator("#key-submit").ClickAsync();
        await page.WaitForFunctionAsync("() => document.body.dataset.loaded !== undefined && document.body.dataset.loaded.includes('phong-tho')");
        Assert.Contains("1.236", await page.Locator("#figures-table").InnerTextAsync());
        // The chart (Chart.js, the service's own copy) drew.
        Assert.True(await page.Locator("canvas").First.IsVisibleAsync());
        await Task.Delay(300);
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public async Task Swagger_UI_renders_under_its_policy_with_no_violation()
    {
        var page = await fixture.NewPageAsync();
        var problems = Watch(page);
        var response = await page.GotoAsync("/swagger/index.html");
        Assert.Contains("script-src 'self'", await response!.HeaderValueAsync("content-security-policy"));
        await page.Locator("#operations-Statistics-GET_api_v1_statistics").WaitForAsync();
        await page.Locator("#operations-Keys-POST_api_v1_admin_keys").WaitForAsync();
        await Task.Delay(300);
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }
}
