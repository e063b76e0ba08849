using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using CoordinationEvents.Api.Reports;
using CoordinationEvents.Api.Tests.Infrastructure;

namespace CoordinationEvents.Api.Tests.Reports;

/// <summary>
/// Issued reports: issued once and kept byte for byte in all three formats, through corrections, retractions, late
/// posts, a rebuild of the statistics and a reorganisation; what changed since names exactly the activities and lines that moved.
/// One scenario in order (the fixture's data set is changed by it).
/// </summary>
public sealed class IssuedReportTests(DemoReportFixture fixture) : IClassFixture<DemoReportFixture>
{
    const string Body = """{"kind":"review","unitId":"phong-tho","from":"2019-01-01","to":"2024-12-31","number":"125","signer":{"title":["TM. ỦY BAN NHÂN DÂN","KT. CHỦ TỊCH","PHÓ CHỦ TỊCH"],"name":"Mai Thị Hồng Sim"},"recipients":["Ủy ban MTTQ VN tỉnh;","Lưu: VT, C1."]}""";

    async Task<Dictionary<string, byte[]>> AllFormatsAsync(HttpClient client, string location)
    {
        var formats = new Dictionary<string, byte[]>();
        foreach (var format in new[] { "json", "markdown", "docx" })
        {
            var response = await client.GetAsync($"{location}?format={format}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            formats[format] = await response.Content.ReadAsByteArrayAsync();
        }
        return formats;
    }

    static decimal Patrols(JsonElement activity, string metric) =>
        activity.GetProperty("details").TryGetProperty(metric, out var v) ? v.GetDecimal() : metric == "patrols" ? 1 : 0;

    [Fact]
    public async Task An_issued_report_stays_as_issued_and_says_what_changed_since()
    {
        using var analyst = fixture.Api.Analyst;
        using var reporter = fixture.Api.Reporter;
        using var admin = fixture.Api.Admin;

        var issue = await analyst.PostJsonAsync("/api/v1/reports", Body);
        Assert.Equal(HttpStatusCode.Created, issue.StatusCode);
        var location = issue.Headers.Location!.ToString();
        var summary = await issue.JsonAsync();
        Assert.Equal($"/api/v1/reports/{summary.GetProperty("reportId").GetGuid()}", location);
        var issuedPosition = summary.GetProperty("position").GetInt64();
        Assert.True(issuedPosition >= await fixture.Api.ProjectionPositionAsync() - 0);
        var issued = await AllFormatsAsync(analyst, location);
        Assert.Equal(summary.GetProperty("contentHash").GetString(), IssuedReportStore.Hash(issued["json"]));
        var issuedJson = JsonDocument.Parse(issued["json"]).RootElement;
        var texts = issuedJson.GetProperty("report").GetProperty("sections").EnumerateArray()
            .SelectMany(s => s.GetProperty("lines").EnumerateArray()).Select(l => l.GetProperty("text").GetString()).ToArray();
        Assert.Contains("Tổ chức tuần tra 1.236 lần/7.920 lượt người tham gia", texts);
        Assert.Contains("Tổ chức tuần tra 1.236 lần/7.920 lượt người tham gia", System.Text.Encoding.UTF8.GetString(issued["markdown"]));
        Assert.Equal("Mai Thị Hồng Sim", issuedJson.GetProperty("heading").GetProperty("signerName").GetString());
        Assert.Equal(issuedPosition, issuedJson.GetProperty("position").GetInt64());

        // Correct one patrol of 2024, retract another, post a late one: all three inside Phong Thổ and the period.
        var page = await analyst.GetFromJsonAsync<JsonElement>("/api/v1/activities?unitId=phong-tho&kind=patrol&from=2024-01-01&to=2024-12-31&limit=2");
        var two = page.GetProperty("items").EnumerateArray().ToArray();
        Assert.Equal(2, two.Length);
        var (corrected, retracted) = (two[0], two[1]);
        var correctedId = corrected.GetProperty("activityId").GetGuid();
        var retractedId = retracted.GetProperty("activityId").GetGuid();
        var body = JsonNode.Parse(corrected.GetRawText())!.AsObject();
        string[] fields = ["externalId", "kind", "unitId", "partnerUnitIds", "occurredOn", "endsOn", "location", "summary", "details"];
        foreach (var name in body.Select(p => p.Key).Where(k => !fields.Contains(k)).ToArray()) body.Remove(name);
        foreach (var name in body.Where(p => p.Value is null).Select(p => p.Key).ToArray()) body.Remove(name);
        var details = body["details"]!.AsObject();
        details["patrols"] = Patrols(corrected, "patrols") + 5;
        details["patrolParticipants"] = Patrols(corrected, "patrolParticipants") + 40;
        var put = await reporter.PutJsonAsync($"/api/v1/activities/{correctedId}", body.ToJsonString(), $"\"{corrected.GetProperty("version").GetInt32()}\"");
        Assert.True(put.StatusCode == HttpStatusCode.OK, await put.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await reporter.DeleteJsonAsync($"/api/v1/activities/{retractedId}", """{"reason":"ghi trùng"}""")).StatusCode);
        var late = await reporter.PostJsonAsync("/api/v1/activities", """
            {"externalId":"issued-report-late-patrol","kind":"patrol","unitId":"don-ma-lu-thang","occurredOn":"2024-03-02",
             "summary":"Tuần tra ghi muộn","details":{"mode":"bilateral","patrols":3,"patrolParticipants":21}}
            """);
        Assert.Equal(HttpStatusCode.Created, late.StatusCode);
        var lateId = (await late.JsonAsync()).GetProperty("activityId").GetGuid();
        await fixture.Api.WaitForProjectionsAsync();

        // The issued report is the same, byte for byte, in every format.
        var after = await AllFormatsAsync(analyst, location);
        foreach (var format in issued.Keys) Assert.Equal(issued[format], after[format]);

        // The figures now, computed here from what was changed.
        var patrolsNow = 1236 + 5 - Patrols(retracted, "patrols") + 3;
        var participantsNow = 7920 + 40 - Patrols(retracted, "patrolParticipants") + 21;
        var live = await analyst.GetFromJsonAsync<JsonElement>("/api/v1/statistics?unitId=phong-tho&from=2019-01-01&to=2024-12-31");
        Assert.Equal(patrolsNow, live.GetProperty("totals").GetProperty("patrols").GetDecimal());

        var changes = await analyst.GetFromJsonAsync<JsonElement>($"{location}/changes");
        Assert.Equal(issuedPosition, changes.GetProperty("issuedPosition").GetInt64());
        var activities = changes.GetProperty("activities").EnumerateArray()
            .ToDictionary(a => a.GetProperty("activityId").GetGuid(), a => a.GetProperty("change").GetString());
        Assert.Equal(new Dictionary<Guid, string?> { [correctedId] = "corrected", [retractedId] = "retracted", [lateId] = "recorded" }, activities);
        var lines = changes.GetProperty("lines").EnumerateArray().ToArray();
        var patrolLine = lines.Single(l => l.GetProperty("issued").ValueKind == JsonValueKind.Object
            && l.GetProperty("issued").GetProperty("text").GetString() == "Tổ chức tuần tra 1.236 lần/7.920 lượt người tham gia");
        Assert.Equal($"Tổ chức tuần tra {VietnameseFormat.Number(patrolsNow)} lần/{VietnameseFormat.Number(participantsNow)} lượt người tham gia",
            patrolLine.GetProperty("now").GetProperty("text").GetString());
        // Only lines about the changed activities' own metrics moved.
        var touched = new[] { corrected, retracted }.SelectMany(a => a.GetProperty("details").EnumerateObject().Select(p => p.Name))
            .Append("patrols").Append("patrolParticipants").ToHashSet();
        Assert.All(lines, l => Assert.All(
            (l.GetProperty("now").ValueKind == JsonValueKind.Object ? l.GetProperty("now") : l.GetProperty("issued")).GetProperty("metrics").EnumerateArray(),
            m => Assert.Contains(m.GetString()!.Split('[')[0], touched)));

        // A rebuild of the statistics changes nothing of what was issued; a report issued after it has today's figures.
        Assert.True((await admin.PostAsync("/api/v1/admin/projections/statistics/rebuild", null)).IsSuccessStatusCode);
        await fixture.Api.WaitForProjectionsAsync();
        var rebuilt = await AllFormatsAsync(analyst, location);
        foreach (var format in issued.Keys) Assert.Equal(issued[format], rebuilt[format]);
        var second = await analyst.PostJsonAsync("/api/v1/reports", Body);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        var secondJson = JsonDocument.Parse(await analyst.GetByteArrayAsync(second.Headers.Location!.ToString())).RootElement;
        var liveReport = await analyst.GetFromJsonAsync<JsonElement>("/api/v1/reports/review?unitId=phong-tho&from=2019-01-01&to=2024-12-31");
        static string[] Texts(JsonElement report) => report.GetProperty("sections").EnumerateArray()
            .SelectMany(s => s.GetProperty("lines").EnumerateArray()).Select(l => l.GetProperty("text").GetString()!).ToArray();
        Assert.Equal(Texts(liveReport), Texts(secondJson.GetProperty("report")));
        Assert.Contains($"Tổ chức tuần tra {VietnameseFormat.Number(patrolsNow)} lần/{VietnameseFormat.Number(participantsNow)} lượt người tham gia", Texts(secondJson.GetProperty("report")));

        // The list: newest first.
        var list = await analyst.GetFromJsonAsync<JsonElement>("/api/v1/reports?unitId=phong-tho&from=2024-01-01&to=2024-12-31");
        var ids = list.GetProperty("reports").EnumerateArray().Select(r => r.GetProperty("reportId").GetGuid()).ToArray();
        Assert.Equal([(await second.JsonAsync()).GetProperty("reportId").GetGuid(), summary.GetProperty("reportId").GetGuid()], ids);
        Assert.Empty((await analyst.GetFromJsonAsync<JsonElement>("/api/v1/reports?unitId=sin-ho")).GetProperty("reports").EnumerateArray());

        // A reorganisation recorded after both (the child of Phong Thổ with the most activities in 2024 moved under Sìn Hồ from 2024-01-01): Phong Thổ's
        // live figures change; what was issued, before it and after the rebuild, does not, in any format.
        var secondIssued = await AllFormatsAsync(analyst, second.Headers.Location!.ToString());
        var children = await analyst.GetFromJsonAsync<JsonElement>("/api/v1/statistics?unitId=phong-tho&from=2024-01-01&to=2024-12-31&groupBy=unit");
        var busiest = children.GetProperty("rows").EnumerateArray()
            .Select(r => (Unit: r.GetProperty("key").GetProperty("unit").GetString()!, Activities: r.GetProperty("metrics").TryGetProperty("activities", out var a) ? a.GetDecimal() : 0))
            .Where(r => r.Unit != "phong-tho").MaxBy(r => r.Activities).Unit;
        var unit = await analyst.GetFromJsonAsync<JsonElement>($"/api/v1/units/{busiest}");
        var restates = await fixture.Api.RestatesAsync();
        var move = await admin.PutAsJsonAsync($"/api/v1/units/{busiest}",
            new { name = unit.GetProperty("name").GetString(), type = unit.GetProperty("type").GetString(), parentId = "sin-ho", effectiveFrom = "2024-01-01" });
        Assert.True(move.StatusCode == HttpStatusCode.OK, await move.Content.ReadAsStringAsync());
        await fixture.Api.WaitForRestatesAsync(restates + 1);
        var afterMove = await analyst.GetFromJsonAsync<JsonElement>("/api/v1/reports/review?unitId=phong-tho&from=2019-01-01&to=2024-12-31");
        Assert.NotEqual(Texts(liveReport), Texts(afterMove));
        var reorganised = await AllFormatsAsync(analyst, location);
        foreach (var format in issued.Keys) Assert.Equal(issued[format], reorganised[format]);
        var secondReorganised = await AllFormatsAsync(analyst, second.Headers.Location!.ToString());
        foreach (var format in secondIssued.Keys) Assert.Equal(secondIssued[format], secondReorganised[format]);
    }

    [Fact]
    public async Task Every_new_endpoint_answers_401_403_404_and_400()
    {
        using var anonymous = fixture.Api.Client(null);
        using var reporter = fixture.Api.Reporter;
        using var analyst = fixture.Api.Analyst;
        var unknown = $"/api/v1/reports/{Guid.NewGuid()}";
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostJsonAsync("/api/v1/reports", Body)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await reporter.PostJsonAsync("/api/v1/reports", Body)).StatusCode);
        foreach (var url in new[] { "/api/v1/reports", unknown, unknown + "/changes" })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(url)).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await reporter.GetAsync(url)).StatusCode);
        }
        await (await analyst.GetAsync(unknown)).AssertProblemAsync(404);
        await (await analyst.GetAsync(unknown + "/changes")).AssertProblemAsync(404);
        await (await analyst.GetAsync("/api/v1/reports/not-a-uuid")).AssertProblemAsync(400, "reportId");
        await (await analyst.GetAsync("/api/v1/reports/not-a-uuid/changes")).AssertProblemAsync(400, "reportId");
        await (await analyst.GetAsync(unknown + "?format=pdf")).AssertProblemAsync(400, "format");
        await (await analyst.GetAsync("/api/v1/reports?unitId=nowhere")).AssertProblemAsync(400, "unitId");
        await (await analyst.GetAsync("/api/v1/reports?from=2024-13-01")).AssertProblemAsync(400, "from");
        await (await analyst.PostJsonAsync("/api/v1/reports", Body.Replace("\"review\"", "\"annual\""))).AssertProblemAsync(400, "kind");
        await (await analyst.PostJsonAsync("/api/v1/reports", Body.Replace("phong-tho", "nowhere"))).AssertProblemAsync(400, "unitId");
        await (await analyst.PostJsonAsync("/api/v1/reports", Body.Replace("2019-01-01", "2025-01-01"))).AssertProblemAsync(400, "to");
        await (await analyst.PostJsonAsync("/api/v1/reports", Body.Replace("\"number\"", "\"numero\""))).AssertProblemAsync(400);
        await (await analyst.PostJsonAsync("/api/v1/reports", """{"kind":"review","unitId":"phong-tho","from":"2019-01-01","to":"2024-12-31","issuer":{"kind":"church"}}""")).AssertProblemAsync(400, "issuerKind");
    }
}
