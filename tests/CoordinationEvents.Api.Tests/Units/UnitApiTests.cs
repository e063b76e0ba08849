using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Tests.Infrastructure;

namespace CoordinationEvents.Api.Tests.Units;

public sealed class UnitApiTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    static string Unit(string id, string name, string type, string? parent) =>
        JsonSerializer.Serialize(new { unitId = id, name, type, parentId = parent });

    [Fact]
    public async Task The_seeded_tree_holds_the_provinces_and_districts_of_the_seeds()
    {
        using var analyst = api.Analyst;
        var tree = await analyst.GetFromJsonAsync<JsonElement>("/api/v1/units");
        var provinces = tree.EnumerateArray().ToDictionary(p => p.GetProperty("unitId").GetString()!);
        Assert.Equal(["ha-giang", "lai-chau", "quang-nam", "quang-ninh"], provinces.Keys.Order());
        Assert.Equal("Lai Châu", provinces["lai-chau"].GetProperty("name").GetString());
        Assert.Equal(["muong-te", "nam-nhun", "phong-tho", "sin-ho"],
            provinces["lai-chau"].GetProperty("children").EnumerateArray().Select(c => c.GetProperty("unitId").GetString()).Order());
        Assert.Equal(7, provinces["ha-giang"].GetProperty("children").GetArrayLength());
        var phongTho = await analyst.GetFromJsonAsync<JsonElement>("/api/v1/units/phong-tho");
        Assert.Equal("Phong Thổ", phongTho.GetProperty("name").GetString());
        var phongThoCommunes = (await UnitsOverTime.TreeAsync(analyst, null)).Values
            .Count(u => u.Str("parentId") == "phong-tho" && u.Str("type") == "commune");
        Assert.Equal(12, phongThoCommunes);
        await (await analyst.GetAsync("/api/v1/units/atlantis")).AssertProblemAsync(404);
    }

    [Fact]
    public async Task Admins_add_rename_and_move_units_within_the_type_rules()
    {
        using var admin = api.Admin;
        Assert.Equal(HttpStatusCode.Created, (await admin.PostJsonAsync("/api/v1/units", Unit("don-thu", "Đồn thử", "border-post", "sin-ho"))).StatusCode);
        await (await admin.PostJsonAsync("/api/v1/units", Unit("don-thu", "Đồn thử", "border-post", "sin-ho"))).AssertProblemAsync(409);
        await (await admin.PostJsonAsync("/api/v1/units", Unit("Bad Id", "x", "commune", "sin-ho"))).AssertProblemAsync(400, "unitId");
        await (await admin.PostJsonAsync("/api/v1/units", Unit("xa-moi", "x", "village", "sin-ho"))).AssertProblemAsync(400, "type");
        // (A commune directly under a province is allowed since the 2025 reform: UnitsOverTime's tests. Under a post, never.)
        await (await admin.PostJsonAsync("/api/v1/units", Unit("xa-moi", "x", "commune", "don-thu"))).AssertProblemAsync(400, "parentId");
        await (await admin.PostJsonAsync("/api/v1/units", Unit("xa-moi", "x", "commune", "nowhere"))).AssertProblemAsync(400, "parentId");
        await (await admin.PostJsonAsync("/api/v1/units", Unit("tinh-moi", "x", "province", "lai-chau"))).AssertProblemAsync(400, "parentId");
        await (await admin.PostJsonAsync("/api/v1/units", Unit("xa-moi", "", "commune", "sin-ho"))).AssertProblemAsync(400, "name");

        var renamed = await admin.PutAsJsonAsync("/api/v1/units/don-thu", new { name = "Đồn Biên phòng Thử", type = "border-post", parentId = "sin-ho" });
        Assert.Equal(HttpStatusCode.OK, renamed.StatusCode);
        Assert.Equal("Đồn Biên phòng Thử", (await admin.GetFromJsonAsync<JsonElement>("/api/v1/units/don-thu")).GetProperty("name").GetString());
        await (await admin.PutAsJsonAsync("/api/v1/units/phong-tho", new { name = "Phong Thổ", type = "district", parentId = "phong-tho" })).AssertProblemAsync(400, "parentId");
        await (await admin.PutAsJsonAsync("/api/v1/units/phong-tho", new { name = "Phong Thổ", type = "commune", parentId = "lai-chau" })).AssertProblemAsync(400, "type");
        await (await admin.PutAsJsonAsync("/api/v1/units/nowhere", new { name = "x", type = "district", parentId = "lai-chau" })).AssertProblemAsync(404);

        // A new unit can be used at once.
        using var reporter = api.Reporter;
        var activity = JsonSerializer.Serialize(new { externalId = "unit-new", kind = "border-day", unitId = "don-thu", occurredOn = "2024-03-03" });
        Assert.Equal(HttpStatusCode.Created, (await reporter.PostJsonAsync("/api/v1/activities", activity)).StatusCode);
    }

    [Fact]
    public async Task When_a_unit_moves_its_figures_move_with_it()
    {
        using var admin = api.Admin;
        using var reporter = api.Reporter;
        Assert.Equal(HttpStatusCode.Created, (await admin.PostJsonAsync("/api/v1/units", Unit("xa-di-chuyen", "Xã di chuyển", "commune", "nam-nhun"))).StatusCode);
        var activity = JsonSerializer.Serialize(new { externalId = "unit-move", kind = "patrol", unitId = "xa-di-chuyen", occurredOn = "2024-04-04", details = new { mode = "joint", patrols = 7 } });
        Assert.Equal(HttpStatusCode.Created, (await reporter.PostJsonAsync("/api/v1/activities", activity)).StatusCode);
        await api.WaitForProjectionsAsync();

        using var analyst = api.Analyst;
        async Task<decimal> Patrols(string unit) =>
            (await analyst.GetFromJsonAsync<JsonElement>($"/api/v1/statistics?unitId={unit}&from=2024-01-01&to=2024-12-31&kind=patrol"))
                .GetProperty("totals").TryGetProperty("patrols", out var p) ? p.GetDecimal() : 0;
        var namNhun = await Patrols("nam-nhun");
        var sinHo = await Patrols("sin-ho");
        Assert.True(namNhun >= 7);

        var moved = await admin.PutAsJsonAsync("/api/v1/units/xa-di-chuyen", new { name = "Xã di chuyển", type = "commune", parentId = "sin-ho" });
        Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        // The move reaches the statistics through a durable message, then a rebuild: wait for the figures to follow.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (await Patrols("sin-ho") != sinHo + 7 && DateTime.UtcNow < deadline) await Task.Delay(50);
        await api.WaitForProjectionsAsync();

        Assert.Equal(namNhun - 7, await Patrols("nam-nhun"));
        Assert.Equal(sinHo + 7, await Patrols("sin-ho"));
        await api.AssertStatisticsConsistentAsync();
    }
}
