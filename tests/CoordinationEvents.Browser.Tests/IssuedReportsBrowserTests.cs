using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;

namespace CoordinationEvents.Browser.Tests;

/// <summary>
/// Issued reports in the dashboard (issue 18.5): issue with the document's fields, the list, the Word download,
/// and after a correction the issued report unchanged with the change listed the way officials read it.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class IssuedReportsBrowserTests(BrowserFixture fixture)
{
    /// <summary>1236 → "1.236": the Vietnamese way, a dot between thousands.</summary>
    static string Vn(decimal value) => value.ToString("#,##0", CultureInfo.InvariantCulture).Replace(',', '.');

    const string Unit = "muong-te";
    const string Period = "from=2019-01-01&to=2024-12-31";

    [Fact]
    public async Task Issue_a_report_correct_an_activity_and_the_issued_report_stays_while_the_change_is_listed()
    {
        using var analyst = fixture.Http(BrowserFixture.AnalystKey);
        using var reporter = fixture.Http(BrowserFixture.ReporterKey);
        using var admin = fixture.Http(BrowserFixture.AdminKey);
        var patrolsBefore = await PatrolsAsync(analyst);

        var page = await fixture.NewPageAsync();
        await page.GotoAsync($"/dashboard?unit={Unit}&preset=review&tab=issued");
        await page.Locator("#api-key").FillAsync(BrowserFixture.AnalystKey);
        await page.Locator("#key-submit").ClickAsync();
        await page.Locator("#issued-table caption").WaitForAsync();

        // The document's fields, typed by the official; the rest takes the unit's defaults.
        await page.Locator("#issue-box summary").ClickAsync();
        await page.Locator("#issue-number").FillAsync("07");
        await page.Locator("#issue-signer").FillAsync("TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH");
        await page.Locator("#issue-signer-name").FillAsync("Nguyễn Văn A");
        await page.Locator("#issue-recipients").FillAsync("UBND tỉnh Lai Châu;\nLưu: VT.");
        await page.Locator("#issue-submit").ClickAsync();
        await page.WaitForFunctionAsync("() => document.getElementById('issued-view').dataset.loaded");
        var reportId = await page.Locator("#issued-view").GetAttributeAsync("data-report-id");
        Assert.NotNull(reportId);
        Assert.Contains("Không có thay đổi nào", await page.Locator("#changes").TextContentAsync());
        var row = page.Locator($"#issued-table tr[data-report-id='{reportId}']");
        Assert.Equal("07", (await row.Locator("td").First.TextContentAsync())?.Trim());
        var line = $"Tổ chức tuần tra {Vn(patrolsBefore)} lần";
        Assert.Contains(line, await page.Locator("#issued-report").TextContentAsync());

        // The fields went into the document.
        var issuedJson = await analyst.GetStringAsync($"api/v1/reports/{reportId}");
        Assert.Contains("Nguyễn Văn A", issuedJson);
        Assert.Contains("UBND tỉnh Lai Châu;", issuedJson);
        var markdownBefore = await analyst.GetByteArrayAsync($"api/v1/reports/{reportId}?format=markdown");
        var docxBefore = await analyst.GetByteArrayAsync($"api/v1/reports/{reportId}?format=docx");

        // The Word download is the issued document, byte for byte.
        var download = await page.RunAndWaitForDownloadAsync(() => row.Locator("button.issued-docx").ClickAsync());
        Assert.EndsWith(".docx", download.SuggestedFilename);
        Assert.Equal(docxBefore, await File.ReadAllBytesAsync(await download.PathAsync()));

        // A reporter corrects one of Mường Tè's patrols: 4 more patrols than first recorded.
        var (activityId, original, version) = await OnePatrolAsync(analyst);
        var corrected = original.DeepClone().AsObject();
        corrected["details"]!["patrols"] = original["details"]!["patrols"]!.GetValue<int>() + 4;
        await PutAsync(reporter, activityId, corrected, version);
        try
        {
            await BrowserFixture.WaitForProjectionsAsync(admin);
            Assert.Equal(patrolsBefore + 4, await PatrolsAsync(analyst));

            await page.EvaluateAsync("() => delete document.getElementById('issued-view').dataset.loaded");
            await row.Locator("button.issued-view-button").ClickAsync();
            await page.WaitForFunctionAsync("() => document.getElementById('issued-view').dataset.loaded");

            // The change, as officials read it, and the activity behind it.
            var change = page.Locator("#changes li.line[data-metric='patrols'] .figures");
            Assert.Equal($"{Vn(patrolsBefore)} → {Vn(patrolsBefore + 4)} lần: 1 hoạt động đính chính", (await change.TextContentAsync())?.Trim());
            Assert.Equal(1, await page.Locator($"#changes li[data-activity-id='{activityId}'][data-change='corrected']").CountAsync());
            // Two lines move: the patrols, and the line that splits them by mode (the corrected patrol's mode).
            var changed = await page.Locator("#changes li.line").AllTextContentsAsync();
            Assert.True(changed.Count == 2, string.Join("\n", changed));
            Assert.Equal(1, await page.Locator("#changes li.line[data-metric^='patrols[mode=']").CountAsync());
            // The issued report is shown, and served, as it was issued.
            Assert.Contains(line, await page.Locator("#issued-report").TextContentAsync());
            Assert.DoesNotContain($"Tổ chức tuần tra {Vn(patrolsBefore + 4)} lần", await page.Locator("#issued-report").TextContentAsync());
            Assert.Equal(markdownBefore, await analyst.GetByteArrayAsync($"api/v1/reports/{reportId}?format=markdown"));
            Assert.Equal(docxBefore, await analyst.GetByteArrayAsync($"api/v1/reports/{reportId}?format=docx"));
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = BrowserFixture.Screenshot("dashboard-issued-changes"), FullPage = true });
        }
        finally
        {
            // The collection's other tests read Mường Tè's figures as the demo made them.
            var (_, _, now) = await OnePatrolAsync(analyst, activityId);
            await PutAsync(reporter, activityId, original, now);
            await BrowserFixture.WaitForProjectionsAsync(admin);
        }
    }

    static async Task<decimal> PatrolsAsync(HttpClient analyst)
    {
        using var answer = JsonDocument.Parse(await analyst.GetStringAsync($"api/v1/statistics?{Period}&unitId={Unit}&kind=patrol"));
        return answer.RootElement.GetProperty("totals").GetProperty("patrols").GetDecimal();
    }

    /// <summary>A patrol of Mường Tè's (or the one given) as a PUT body, with its version.</summary>
    static async Task<(Guid Id, JsonObject Body, int Version)> OnePatrolAsync(HttpClient analyst, Guid? id = null)
    {
        JsonNode activity;
        if (id is null)
        {
            var page = JsonNode.Parse(await analyst.GetStringAsync($"api/v1/activities?unitId={Unit}&kind=patrol&{Period}&limit=5"))!;
            activity = page["items"]!.AsArray().First(a => a!["status"]!.GetValue<string>() != "retracted")!;
        }
        else
        {
            activity = JsonNode.Parse(await analyst.GetStringAsync($"api/v1/activities/{id}"))!;
        }
        var body = new JsonObject
        {
            ["externalId"] = activity["externalId"]!.DeepClone(),
            ["kind"] = activity["kind"]!.DeepClone(),
            ["unitId"] = activity["unitId"]!.DeepClone(),
            ["partnerUnitIds"] = activity["partnerUnitIds"]!.DeepClone(),
            ["occurredOn"] = activity["occurredOn"]!.DeepClone(),
            ["endsOn"] = activity["endsOn"]?.DeepClone(),
            ["location"] = activity["location"]?.DeepClone(),
            ["summary"] = activity["summary"]!.DeepClone(),
            ["details"] = activity["details"]!.DeepClone(),
        };
        return (activity["activityId"]!.GetValue<Guid>(), body, activity["version"]!.GetValue<int>());
    }

    static async Task PutAsync(HttpClient reporter, Guid id, JsonObject body, int version)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"api/v1/activities/{id}")
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("If-Match", $"\"{version}\"");
        using var response = await reporter.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"PUT {id}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }
}
