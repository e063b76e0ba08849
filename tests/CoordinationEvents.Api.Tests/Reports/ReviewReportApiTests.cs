using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Tests.Infrastructure;
using CoordinationEvents.Demo;

namespace CoordinationEvents.Api.Tests.Reports;

/// <summary>The demo data set, posted through the batch endpoint like `make demo` does, and the report it gives.</summary>
public sealed class DemoReportFixture : IAsyncLifetime
{
    public ApiFactory Api { get; } = new();

    public async Task InitializeAsync()
    {
        await Api.InitializeAsync();
        var data = DemoDataset.Build();
        using var admin = Api.Admin;
        foreach (var unit in data.Units)
            Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/v1/units", unit)).StatusCode);

        using var reporter = Api.Reporter;
        var ids = new Dictionary<string, Guid>();
        foreach (var chunk in data.Activities.Chunk(1_000))
        {
            var response = await reporter.PostAsJsonAsync("/api/v1/activities/batch", new { activities = chunk }, ApiFactory.Json);
            var results = (await response.JsonAsync()).GetProperty("results").EnumerateArray().ToArray();
            for (var i = 0; i < chunk.Length; i++)
            {
                Assert.True(results[i].GetProperty("status").GetString() == "created", results[i].ToString());
                ids[chunk[i].ExternalId!] = results[i].GetProperty("activityId").GetGuid();
            }
        }
        foreach (var correction in data.Corrections)
        {
            var id = ids[correction.ExternalId];
            var body = JsonSerializer.Serialize(correction.Corrected, ApiFactory.Json);
            Assert.Equal(HttpStatusCode.OK, (await reporter.PutJsonAsync($"/api/v1/activities/{id}", body, "\"1\"")).StatusCode);
        }
        foreach (var retraction in data.Retractions)
            Assert.Equal(HttpStatusCode.OK, (await reporter.DeleteJsonAsync($"/api/v1/activities/{ids[retraction.ExternalId]}",
                JsonSerializer.Serialize(new { reason = retraction.Reason }))).StatusCode);
        await Api.WaitForProjectionsAsync();
    }

    public async Task DisposeAsync() => await Api.DisposeAsync();
}

public sealed class ReviewReportApiTests(DemoReportFixture fixture) : IClassFixture<DemoReportFixture>
{
    const string PhongTho = "/api/v1/reports/review?unitId=phong-tho&from=2019-01-01&to=2024-12-31";

    [Fact]
    public async Task The_demo_data_gives_Phong_Tho_the_figures_of_the_003_report()
    {
        using var analyst = fixture.Api.Analyst;
        var totals = (await analyst.GetFromJsonAsync<JsonElement>("/api/v1/statistics?unitId=phong-tho&from=2019-01-01&to=2024-12-31")).GetProperty("totals");
        var expected = new Dictionary<string, decimal>
        {
            ["patrols"] = 1_236, ["patrolParticipants"] = 7_920, ["intrusionsDetected"] = 280, ["cases"] = 156, ["subjects"] = 780,
            ["weaponsRecovered"] = 270, ["outreachSessions"] = 1_244, ["outreachAttendees"] = 69_750, ["householdsGifted"] = 3_000,
            ["delegations"] = 32, ["selfManagedCollectives"] = 63, ["selfManagedIndividuals"] = 460, ["selfManagedBorderKm"] = 97.229m,
            ["selfManagedMarkers"] = 27, ["cadresSeconded"] = 12, ["partyMembersAdmitted"] = 484, ["militiaTrained"] = 5_148,
            ["housesBuilt"] = 74, ["civilWorks"] = 21, ["classroomsBuilt"] = 420,
        };
        foreach (var (metric, value) in expected) Assert.True(totals.GetProperty(metric).GetDecimal() == value, $"{metric}: {totals.GetProperty(metric)}");

        var byOutcome = (await analyst.GetFromJsonAsync<JsonElement>("/api/v1/statistics?unitId=phong-tho&from=2019-01-01&to=2024-12-31&kind=crime-bust&groupBy=outcome"))
            .GetProperty("rows").EnumerateArray().ToDictionary(r => r.GetProperty("key").GetProperty("outcome").GetString()!, r => r.GetProperty("metrics"));
        Assert.Equal((74m, 78m), (byOutcome["prosecuted"].GetProperty("cases").GetDecimal(), byOutcome["prosecuted"].GetProperty("subjects").GetDecimal()));
        Assert.Equal((82m, 702m), (byOutcome["administrative"].GetProperty("cases").GetDecimal(), byOutcome["administrative"].GetProperty("subjects").GetDecimal()));

        var talks = (await analyst.GetFromJsonAsync<JsonElement>("/api/v1/statistics?unitId=phong-tho&from=2019-01-01&to=2024-12-31&kind=meeting&format=talks&groupBy=level"))
            .GetProperty("rows").EnumerateArray().ToDictionary(r => r.GetProperty("key").GetProperty("level").GetString()!, r => r.GetProperty("metrics").GetProperty("meetings").GetDecimal());
        Assert.Equal(26, talks["province"]);
        Assert.Equal(109, talks["post"]);

        var pairs = (await analyst.GetFromJsonAsync<JsonElement>("/api/v1/statistics?unitId=phong-tho&from=2019-01-01&to=2024-12-31&kind=twinning&groupBy=pairType"))
            .GetProperty("rows").EnumerateArray().ToDictionary(r => r.GetProperty("key").GetProperty("pairType").GetString()!, r => r.GetProperty("metrics").GetProperty("pairsSigned").GetDecimal());
        Assert.Equal(4, pairs["village-village"]);
        Assert.Equal(3, pairs["post-station"]);
    }

    [Fact]
    public async Task The_report_speaks_the_officials_words_with_Vietnamese_numbers()
    {
        using var analyst = fixture.Api.Analyst;
        var report = await analyst.GetFromJsonAsync<JsonElement>(PhongTho);
        Assert.False(report.GetProperty("isEmpty").GetBoolean());
        var lines = report.GetProperty("sections").EnumerateArray().SelectMany(s => s.GetProperty("lines").EnumerateArray()).ToArray();
        var texts = lines.Select(l => l.GetProperty("text").GetString()!).ToArray();
        Assert.Contains("Tổ chức tuần tra 1.236 lần/7.920 lượt người tham gia", texts);
        Assert.Contains("Phát hiện 156 vụ/780 đối tượng, trong đó khởi tố 74 vụ/78 đối tượng, xử lý vi phạm hành chính 82 vụ/702 đối tượng", texts);
        Assert.Contains("Tổ chức tuyên truyền được 1.244 buổi/69.750 lượt người nghe", texts);
        Assert.Contains(texts, t => t.Contains("97,229 km") && t.Contains("63 tập thể") && t.Contains("27 cột mốc"));
        Assert.Contains(texts, t => t.Contains("5.148"));

        // Each line also carries its metrics and values, for other tools to render.
        var patrol = lines.Single(l => l.GetProperty("text").GetString() == "Tổ chức tuần tra 1.236 lần/7.920 lượt người tham gia");
        Assert.Equal(["patrols", "patrolParticipants"], patrol.GetProperty("metrics").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal([1236m, 7920m], patrol.GetProperty("values").EnumerateArray().Select(v => v.GetDecimal()));

        var markdown = await analyst.GetAsync(PhongTho + "&format=markdown");
        Assert.Equal("text/markdown", markdown.Content.Headers.ContentType!.MediaType);
        var text = await markdown.Content.ReadAsStringAsync();
        Assert.StartsWith("# ", text);
        Assert.Contains("- Tổ chức tuần tra 1.236 lần/7.920 lượt người tham gia", text);
    }

    [Fact]
    public async Task An_empty_period_gives_a_report_that_says_so()
    {
        using var analyst = fixture.Api.Analyst;
        var response = await analyst.GetAsync("/api/v1/reports/review?unitId=phong-tho&from=2010-01-01&to=2010-12-31");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var report = await response.JsonAsync();
        Assert.True(report.GetProperty("isEmpty").GetBoolean());
        var line = Assert.Single(report.GetProperty("sections").EnumerateArray().SelectMany(s => s.GetProperty("lines").EnumerateArray()));
        Assert.Equal(CoordinationEvents.Api.Reports.ReviewReport.NoActivityText, line.GetProperty("text").GetString());
    }

    [Theory]
    [InlineData("unitId=phong-tho&to=2024-12-31", "from")]
    [InlineData("unitId=phong-tho&from=2024-12-31&to=2024-01-01", "to")]
    [InlineData("unitId=atlantis&from=2024-01-01&to=2024-12-31", "unitId")]
    [InlineData("unitId=phong-tho&from=2024-01-01&to=2024-12-31&format=pdf", "format")]
    public async Task Bad_report_parameters_get_a_400(string query, string field)
    {
        using var analyst = fixture.Api.Analyst;
        await (await analyst.GetAsync("/api/v1/reports/review?" + query)).AssertProblemAsync(400, field);
    }
}

/// <summary>A small known data set and the report written out by hand, line by line.</summary>
public sealed class SmallReportTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task A_small_known_dataset_gives_exactly_the_expected_report()
    {
        using var reporter = api.Reporter;
        string A(string id, string kind, string unit, string date, object details) => JsonSerializer.Serialize(new
        {
            externalId = id, kind, unitId = unit, occurredOn = date, summary = "Báo cáo nhỏ", details,
        });
        var items = new[]
        {
            A("s1", "patrol", "muong-te", "2023-03-03", new { mode = "joint", patrols = 20, patrolParticipants = 100, intrusionsDetected = 2 }),
            A("s2", "patrol", "muong-te", "2023-08-08", new { mode = "bilateral", patrolParticipants = 12 }),
            A("s3", "crime-bust", "muong-te", "2023-05-05", new { category = "drugs", outcome = "prosecuted", cases = 2, subjects = 3 }),
            A("s4", "crime-bust", "muong-te", "2023-06-06", new { category = "smuggling", outcome = "administrative", cases = 1, subjects = 1 }),
            A("s5", "outreach", "muong-te", "2023-09-09", new { channel = "school", outreachSessions = 1, outreachAttendees = 1234 }),
            A("s6", "weapons-recovery", "muong-te", "2023-10-10", new { weaponsRecovered = 3 }),
            A("s7", "patrol", "muong-te", "2022-12-31", new { mode = "joint", patrols = 99, patrolParticipants = 999 }), // outside the period
        };
        var batch = await reporter.PostJsonAsync("/api/v1/activities/batch", "{\"activities\":[" + string.Join(",", items) + "]}");
        Assert.Equal(HttpStatusCode.OK, batch.StatusCode);
        await api.WaitForProjectionsAsync();

        using var analyst = api.Analyst;
        var markdown = await analyst.GetStringAsync("/api/v1/reports/review?unitId=muong-te&from=2023-01-01&to=2023-12-31&format=markdown");
        var expected = """
            # Báo cáo sơ kết thực hiện quy chế phối hợp — Mường Tè, năm 2023

            Kỳ báo cáo: từ ngày 01/01/2023 đến ngày 31/12/2023.

            ## 1. Công tác tuyên truyền, giáo dục

            - Tổ chức tuyên truyền được 1 buổi/1.234 lượt người nghe
            - Trong đó: tại trường học 1 buổi

            ## 2. Quản lý, bảo vệ chủ quyền, giữ vững an ninh chính trị, trật tự an toàn xã hội khu vực biên giới

            - Tổ chức tuần tra 21 lần/112 lượt người tham gia
            - Trong đó: tuần tra phối hợp 20 lần, tuần tra song phương 1 lần
            - Qua tuần tra phát hiện, xử lý, ngăn chặn 2 lượt người nước ngoài sang đất ta săn bắn, khai thác trộm lâm sản, nông sản
            - Phát hiện 3 vụ/4 đối tượng, trong đó khởi tố 2 vụ/3 đối tượng, xử lý vi phạm hành chính 1 vụ/1 đối tượng
            - Theo lĩnh vực: ma túy 2 vụ/3 đối tượng, buôn lậu 1 vụ/1 đối tượng
            - Vận động thu hồi được 3 khẩu súng các loại
            """;
        Assert.Equal(Lines(expected), Lines(markdown));
    }

    static string[] Lines(string text) => text.Replace("\r", "").Split('\n').Select(l => l.TrimEnd()).Where(l => l.Length > 0).ToArray();
}
