using Microsoft.Playwright;

namespace CoordinationEvents.Browser.Tests;

/// <summary>Swagger UI as an administrator tries the API: authorise with a key, "Try it out", see the answer.</summary>
[Collection(BrowserCollection.Name)]
public sealed class SwaggerUiTests(BrowserFixture fixture)
{
    [Fact]
    public async Task Authorized_with_the_analyst_key_try_it_out_on_statistics_answers_200_with_figures()
    {
        var page = await fixture.NewPageAsync();
        await page.GotoAsync("/swagger");

        await page.Locator("button.authorize").First.ClickAsync();
        var dialog = page.Locator(".auth-container");
        await dialog.Locator("input").First.FillAsync(BrowserFixture.AnalystKey);
        await dialog.Locator("button.authorize").ClickAsync();
        await page.Locator(".auth-btn-wrapper button.btn-done").ClickAsync();

        // Swagger UI names an operation by its tag and operationId (Wolverine.Http names it by method and route).
        var operation = page.Locator("#operations-Statistics-GET_api_v1_statistics");
        await operation.Locator(".opblock-summary").ClickAsync();
        await operation.Locator("button.try-out__btn").ClickAsync();
        await operation.Locator("tr[data-param-name='from'] input").FillAsync("2019-01-01");
        await operation.Locator("tr[data-param-name='to'] input").FillAsync("2024-12-31");
        await operation.Locator("tr[data-param-name='unitId'] input").FillAsync("phong-tho");
        await operation.Locator("tr[data-param-name='groupBy'] input").FillAsync("kind");
        await operation.Locator("button.execute").ClickAsync();

        var status = operation.Locator(".live-responses-table .response .response-col_status").First;
        await status.WaitForAsync();
        Assert.Equal("200", (await status.TextContentAsync())?.Trim());
        var body = await operation.Locator(".live-responses-table .response-col_description .microlight").First.TextContentAsync();
        Assert.Contains("\"patrols\": 1236", body);
        Assert.Contains("\"patrolParticipants\": 7920", body);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = BrowserFixture.Screenshot("swagger-statistics"), FullPage = false });
    }
}
