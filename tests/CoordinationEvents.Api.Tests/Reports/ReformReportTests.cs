using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Reports;
using CoordinationEvents.Api.Tests.Infrastructure;
using CoordinationEvents.Api.Tests.Statistics;
using Microsoft.Extensions.DependencyInjection;

namespace CoordinationEvents.Api.Tests.Reports;

/// <summary>
/// The seed's report survives the reform: 003's figures for Phong Thổ 2019–2024 (the demo data) are identical before
/// and after Lai Châu's reorganisation effective 2025-07-01 (Phong Thổ dissolved, its communes merged into new
/// communes under the province, its border posts under a new Border Guard command), recorded late and restated; a new
/// commune's report carries its predecessors' figures forward when asked, and says so in one line.
/// </summary>
public sealed class ReformReportTests(DemoReportFixture fixture) : IClassFixture<DemoReportFixture>
{
    const string PhongTho = "/api/v1/reports/review?unitId=phong-tho&from=2019-01-01&to=2024-12-31";
    const string Figures = "/api/v1/statistics?unitId=phong-tho&from=2019-01-01&to=2024-12-31";

    [Fact]
    public async Task Phong_Thos_2019_2024_report_is_identical_after_Lai_Chaus_reorganisation()
    {
        var api = fixture.Api;
        using var analyst = api.Analyst;
        var report = await analyst.GetStringAsync(PhongTho);
        var markdown = await analyst.GetStringAsync(PhongTho + "&format=markdown");
        var totals = (await analyst.GetFromJsonAsync<JsonElement>(Figures)).GetProperty("totals").ToString();
        var byKind = (await analyst.GetFromJsonAsync<JsonElement>(Figures + "&groupBy=kind,unit,year")).GetProperty("rows").ToString();
        var province = (await analyst.GetFromJsonAsync<JsonElement>("/api/v1/statistics?unitId=lai-chau&from=2019-01-01&to=2024-12-31")).GetProperty("totals").ToString();
        // Over both shapes the flows stay (stocks at a day after the reform count the units of that day: the merged
        // communes' declarations no longer do).
        var provinceFlows = (await analyst.GetFromJsonAsync<JsonElement>("/api/v1/statistics?unitId=lai-chau&from=2019-01-01&to=2026-06-30&kind=patrol,crime-bust,outreach"))
            .GetProperty("totals").ToString();
        Assert.Contains("1.236", markdown); // 003's patrols, in Vietnamese number format

        // Lai Châu's reform, effective 2025-07-01 (illustrative where Nghị quyết 1670/NQ-UBTVQH15 is not cited).
        var reform = new DateOnly(2025, 7, 1);
        var history = await api.Services.GetRequiredService<UnitDirectory>().ReloadAsync();
        var children = history.TreeOn(reform.AddDays(-1)).ChildrenOf("phong-tho");
        var posts = children.Where(c => c.Type == UnitTypes.BorderPost).Select(c => c.UnitId).ToArray();
        var communes = children.Where(c => c.Type == UnitTypes.Commune).Select(c => c.UnitId).ToArray();
        Assert.Contains("hoang-then", communes);
        Assert.Contains("ban-lang", communes);
        var rest = communes.Except(["hoang-then", "ban-lang"]).ToArray();
        var org = new Organisation(api);
        var events = new List<UnitEvent>
        {
            new UnitEstablished { UnitId = "bch-bdbp-lai-chau", Name = "Ban Chỉ huy Bộ đội Biên phòng tỉnh Lai Châu", Type = UnitTypes.BorderGuardCommand, ParentId = "lai-chau", EffectiveFrom = reform },
            new UnitEstablished { UnitId = "khong-lao", Name = "Xã Khổng Lào", Type = UnitTypes.Commune, ParentId = "lai-chau", EffectiveFrom = reform },
            new UnitMerged { UnitId = "hoang-then", Into = "khong-lao", EffectiveFrom = reform },
            new UnitMerged { UnitId = "ban-lang", Into = "khong-lao", EffectiveFrom = reform },
            new UnitEstablished { UnitId = "phong-tho-moi", Name = "Xã Phong Thổ (ví dụ)", Type = UnitTypes.Commune, ParentId = "lai-chau", EffectiveFrom = reform },
            new UnitDissolved { UnitId = "phong-tho", ChildrenTo = "lai-chau", EffectiveFrom = reform },
        };
        // The other communes merged pairwise into the illustrative new commune, or moved under the province.
        for (var i = 0; i < rest.Length; i++)
            events.Add(i % 2 == 0
                ? new UnitMerged { UnitId = rest[i], Into = "phong-tho-moi", EffectiveFrom = reform }
                : new UnitMoved { UnitId = rest[i], ParentId = "lai-chau", EffectiveFrom = reform });
        events.AddRange(posts.Select(p => new UnitMoved { UnitId = p, ParentId = "bch-bdbp-lai-chau", EffectiveFrom = reform }));
        await org.AppendAsync([.. events]);
        await org.PublishAsync("reorganisation:lai-chau-2025", reform, ["phong-tho", "khong-lao", "phong-tho-moi", "bch-bdbp-lai-chau", .. communes, .. posts]);
        await org.SettleAsync();

        Assert.Equal(report, await analyst.GetStringAsync(PhongTho));
        Assert.Equal(markdown, await analyst.GetStringAsync(PhongTho + "&format=markdown"));
        Assert.Equal(totals, (await analyst.GetFromJsonAsync<JsonElement>(Figures)).GetProperty("totals").ToString());
        Assert.Equal(byKind, (await analyst.GetFromJsonAsync<JsonElement>(Figures + "&groupBy=kind,unit,year")).GetProperty("rows").ToString());
        Assert.Equal(province, (await analyst.GetFromJsonAsync<JsonElement>("/api/v1/statistics?unitId=lai-chau&from=2019-01-01&to=2024-12-31")).GetProperty("totals").ToString());
        Assert.Equal(provinceFlows, (await analyst.GetFromJsonAsync<JsonElement>("/api/v1/statistics?unitId=lai-chau&from=2019-01-01&to=2026-06-30&kind=patrol,crime-bust,outreach"))
            .GetProperty("totals").ToString());

        // The new commune: a year of its own activities, and its predecessors' figures carried forward when asked.
        using var reporter = api.Reporter;
        for (var i = 0; i < 12; i++)
        {
            var node = JsonNode.Parse(ActivityExamples.ByKind["patrol"])!.AsObject();
            node["externalId"] = $"khong-lao-{i}";
            node["unitId"] = "khong-lao";
            node["occurredOn"] = reform.AddMonths(i).AddDays(3).ToString("yyyy-MM-dd");
            node["partnerUnitIds"] = new JsonArray();
            node.Remove("location");
            Assert.Equal(HttpStatusCode.Created, (await reporter.PostJsonAsync("/api/v1/activities", node.ToJsonString())).StatusCode);
        }
        await api.WaitForProjectionsAsync();
        const string KhongLao = "/api/v1/statistics?unitId=khong-lao&from=2019-01-01&to=2026-06-30";
        var own = (await analyst.GetFromJsonAsync<JsonElement>(KhongLao)).GetProperty("totals").GetProperty("activities").GetDecimal();
        Assert.Equal(12, own);
        var carried = await analyst.GetFromJsonAsync<JsonElement>(KhongLao + "&lineage=true");
        var predecessors = 0m;
        foreach (var unit in new[] { "hoang-then", "ban-lang" })
            predecessors += (await analyst.GetFromJsonAsync<JsonElement>($"/api/v1/statistics?unitId={unit}&from=2019-01-01&to=2025-06-30")).GetProperty("totals").GetProperty("activities").GetDecimal();
        Assert.True(predecessors > 0, "the demo gives Hoang Thèn and Bản Lang no activities: the test proves nothing");
        Assert.Equal(own + predecessors, carried.GetProperty("totals").GetProperty("activities").GetDecimal());
        Assert.Equal(["ban-lang", "hoang-then"], carried.GetProperty("lineage").EnumerateArray().Select(l => l.GetProperty("unitId").GetString()).Order());
        Assert.Equal("Xã Khổng Lào", carried.GetProperty("units").GetProperty("khong-lao").GetProperty("name").GetString());

        var newReport = await analyst.GetStringAsync("/api/v1/reports/review?unitId=khong-lao&from=2025-07-01&to=2026-06-30&format=markdown");
        Assert.DoesNotContain(ReportLineage.SectionTitle, newReport);
        var carriedReport = await analyst.GetStringAsync("/api/v1/reports/review?unitId=khong-lao&from=2019-01-01&to=2026-06-30&format=markdown&lineage=true");
        Assert.Contains("Xã Hoang Thèn (đến ngày 30/06/2025)", carriedReport);
        Assert.Contains("Xã Khổng Lào", carriedReport);

        // Phong Thổ over a period that straddles its end: its name then, its figures as it was (nothing after it ended).
        var straddling = await analyst.GetFromJsonAsync<JsonElement>("/api/v1/reports/review?unitId=phong-tho&from=2019-01-01&to=2026-06-30");
        Assert.Equal("Phong Thổ", straddling.GetProperty("unitName").GetString());
        var grouped = await analyst.GetFromJsonAsync<JsonElement>("/api/v1/statistics?unitId=lai-chau&from=2025-01-01&to=2025-12-31&groupBy=unit");
        var keys = grouped.GetProperty("rows").EnumerateArray().Select(r => r.GetProperty("key").GetProperty("unit").GetString()!).ToArray();
        Assert.Contains("khong-lao", keys);
        Assert.Equal("2025-07-01", grouped.GetProperty("units").GetProperty("khong-lao").GetProperty("validFrom").GetString());
        var ended = await analyst.GetFromJsonAsync<JsonElement>("/api/v1/statistics?unitId=lai-chau&from=2024-01-01&to=2025-12-31&groupBy=unit");
        Assert.Equal("2025-06-30", ended.GetProperty("units").GetProperty("phong-tho").GetProperty("validTo").GetString());
    }
}
