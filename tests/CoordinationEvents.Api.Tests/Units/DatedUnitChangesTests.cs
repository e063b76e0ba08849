using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Tests.Infrastructure;
using CoordinationEvents.Api.Units;
using Npgsql;
using static CoordinationEvents.Api.Tests.Units.UnitsOverTime;

namespace CoordinationEvents.Api.Tests.Units;

/// <summary>api.md, "Units over time": POST with validFrom, PUT with and without effectiveFrom, the tree asOf a day, and racing reorganisations.</summary>
public sealed class DatedUnitChangesTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task A_commune_may_stand_directly_under_a_province_and_new_units_begin_on_their_validFrom()
    {
        using var admin = api.Admin;
        using var analyst = api.Analyst;
        // The issue's first bullet: a new commune under lai-chau was a 400.
        var commune = await admin.PostJsonAsync("/api/v1/units", Unit("xa-khong-lao-moi", "Xã Khổng Lào", "commune", "lai-chau", validFrom: "2025-07-01"));
        Assert.True(commune.StatusCode == HttpStatusCode.Created, await commune.Content.ReadAsStringAsync());
        Assert.Equal("2025-07-01", (await commune.JsonAsync()).Str("validFrom"));
        Assert.Equal(HttpStatusCode.Created, (await admin.PostJsonAsync("/api/v1/units", Unit("phuong-thu", "Phường Thử", "ward", "lai-chau"))).StatusCode);

        Assert.Equal(HttpStatusCode.Created, (await admin.PostJsonAsync("/api/v1/units", Unit("bch-thu", "Ban Chỉ huy BĐBP thử", "border-guard-command", "lai-chau", validFrom: "2025-07-01"))).StatusCode);
        // A post under the command must not exist before the command does.
        await (await admin.PostJsonAsync("/api/v1/units", Unit("don-moi", "Đồn mới", "border-post", "bch-thu"))).AssertProblemAsync(400, "parentId");
        await (await admin.PostJsonAsync("/api/v1/units", Unit("don-moi", "Đồn mới", "border-post", "bch-thu", validFrom: "2025-06-30"))).AssertProblemAsync(400, "parentId");
        Assert.Equal(HttpStatusCode.Created, (await admin.PostJsonAsync("/api/v1/units", Unit("don-moi", "Đồn mới", "border-post", "bch-thu", validFrom: "2025-07-01"))).StatusCode);
        // The types' rules: a command under a district, a commune under a post, are refused.
        await (await admin.PostJsonAsync("/api/v1/units", Unit("bch-sai", "x", "border-guard-command", "sin-ho"))).AssertProblemAsync(400, "parentId");
        await (await admin.PostJsonAsync("/api/v1/units", Unit("xa-sai", "x", "commune", "don-moi", validFrom: "2025-08-01"))).AssertProblemAsync(400, "parentId");
        // The dates of a POST and a PUT are not each other's.
        await (await admin.PostJsonAsync("/api/v1/units", JsonSerializer.Serialize(new { unitId = "xa-sai", name = "x", type = "commune", parentId = "lai-chau", effectiveFrom = "2025-07-01" }))).AssertProblemAsync(400, "effectiveFrom");
        await (await admin.PutAsJsonAsync("/api/v1/units/sin-ho", new { name = "Sìn Hồ", type = "district", parentId = "lai-chau", validFrom = "2025-07-01" })).AssertProblemAsync(400, "validFrom");
        await (await admin.PostJsonAsync("/api/v1/units", Unit("xa-sai", "x", "commune", "lai-chau", validFrom: "2025-13-01"))).AssertProblemAsync(400, "validFrom");

        var before = await TreeAsync(analyst, "2025-06-30");
        Assert.False(before.ContainsKey("bch-thu"));
        Assert.False(before.ContainsKey("xa-khong-lao-moi"));
        Assert.True(before.ContainsKey("phuong-thu"));   // without validFrom: it has always existed
        var after = await TreeAsync(analyst, "2025-07-01");
        Assert.Equal(new[] { "don-moi" }, ChildrenOn(after, "bch-thu"));
        Assert.Equal("lai-chau", ParentOn(after, "xa-khong-lao-moi"));
        Assert.Equal("2025-07-01", after["bch-thu"].Str("validFrom"));
        Assert.Equal(JsonValueKind.Null, after["phuong-thu"].GetProperty("validFrom").ValueKind);

        // Bad asOf.
        await (await analyst.GetAsync("/api/v1/units?asOf=2025-02-30")).AssertProblemAsync(400, "asOf");
        await (await analyst.GetAsync("/api/v1/units?asOf=yesterday")).AssertProblemAsync(400, "asOf");
    }

    [Fact]
    public async Task A_dated_move_and_rename_hold_from_their_day_and_a_PUT_without_a_date_corrects_from_the_beginning()
    {
        using var admin = api.Admin;
        using var analyst = api.Analyst;
        Assert.Equal(HttpStatusCode.Created, (await admin.PostJsonAsync("/api/v1/units", Unit("huyen-doi", "Huyện Đổi", "district", "lai-chau"))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostJsonAsync("/api/v1/units", Unit("don-doi", "Đồn Đổi", "border-post", "huyen-doi"))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostJsonAsync("/api/v1/units", Unit("bch-doi", "BCH BĐBP Đổi", "border-guard-command", "lai-chau", validFrom: "2025-07-01"))).StatusCode);

        // A move before the new parent exists is refused, keyed by the field; on its first day it holds.
        await (await admin.PutAsJsonAsync("/api/v1/units/don-doi", new { name = "Đồn Đổi", type = "border-post", parentId = "bch-doi", effectiveFrom = "2025-06-01" })).AssertProblemAsync(400, "parentId");
        // Without a date it is a correction from the beginning: the command did not exist then.
        await (await admin.PutAsJsonAsync("/api/v1/units/don-doi", new { name = "Đồn Đổi", type = "border-post", parentId = "bch-doi" })).AssertProblemAsync(400, "parentId");
        var moved = await admin.PutAsJsonAsync("/api/v1/units/don-doi", new { name = "Đồn Đổi", type = "border-post", parentId = "bch-doi", effectiveFrom = "2025-07-01" });
        Assert.True(moved.StatusCode == HttpStatusCode.OK, await moved.Content.ReadAsStringAsync());
        Assert.Equal("bch-doi", (await moved.JsonAsync()).Str("parentId"));
        Assert.Equal("huyen-doi", ParentOn(await TreeAsync(analyst, "2025-06-30"), "don-doi"));
        Assert.Equal("bch-doi", ParentOn(await TreeAsync(analyst, "2025-07-01"), "don-doi"));
        var history = await analyst.GetFromJsonAsync<JsonElement>("/api/v1/units/don-doi/history");
        Assert.Equal(("moved", "2025-07-01", "bch-doi"), (history[1].Str("change"), history[1].Str("effectiveFrom"), history[1].Str("parentId")));
        Assert.Equal(JsonValueKind.Null, history[1].GetProperty("reorganisationId").ValueKind);
        // The move's message carries its day (the statistics restate from it).
        Assert.Equal(1, await api.ScalarAsync("select count(*) from audit_log where subject_id = 'don-doi' and details->>'effectiveFrom' = '2025-07-01'"));

        // The district now may not end while the post... has left it: a dated rename of the district.
        var renamed = await admin.PutAsJsonAsync("/api/v1/units/huyen-doi", new { name = "Huyện Đổi Mới", type = "district", parentId = "lai-chau", effectiveFrom = "2024-01-01" });
        Assert.Equal(HttpStatusCode.OK, renamed.StatusCode);
        Assert.Equal("Huyện Đổi", (await TreeAsync(analyst, "2023-12-31"))["huyen-doi"].Str("name"));
        Assert.Equal("Huyện Đổi Mới", (await TreeAsync(analyst, "2024-01-01"))["huyen-doi"].Str("name"));
        Assert.Equal("Huyện Đổi Mới", (await analyst.GetFromJsonAsync<JsonElement>("/api/v1/units/huyen-doi")).Str("name"));
        // Found by its former name too.
        var found = await analyst.GetFromJsonAsync<JsonElement>($"/api/v1/units?name={Uri.EscapeDataString("huyện đổi")}");
        Assert.Contains("huyen-doi", found.EnumerateArray().Select(u => u.Str("unitId")));

        // A PUT without effectiveFrom corrects from the beginning, as it always has: the old name is gone on every day.
        var corrected = await admin.PutAsJsonAsync("/api/v1/units/huyen-doi", new { name = "Huyện Đổi (đúng)", type = "district", parentId = "lai-chau" });
        Assert.Equal(HttpStatusCode.OK, corrected.StatusCode);
        Assert.Equal("Huyện Đổi (đúng)", (await TreeAsync(analyst, "2000-01-01"))["huyen-doi"].Str("name"));
        Assert.Equal("Huyện Đổi (đúng)", (await TreeAsync(analyst, null))["huyen-doi"].Str("name"));
        history = await analyst.GetFromJsonAsync<JsonElement>("/api/v1/units/huyen-doi/history");
        var last = history.EnumerateArray().Single(c => c.Str("name") == "Huyện Đổi (đúng)");
        Assert.Equal(("renamed", JsonValueKind.Null), (last.Str("change"), last.GetProperty("effectiveFrom").ValueKind));

        // A change before the unit begins is refused.
        await (await admin.PutAsJsonAsync("/api/v1/units/bch-doi", new { name = "x", type = "border-guard-command", parentId = "lai-chau", effectiveFrom = "2025-01-01" })).AssertProblemAsync(400, "effectiveFrom");
        // Retyping the district to a commune would leave its commune-level children... it has none on any day now but the post until 2025-07-01.
        await (await admin.PutAsJsonAsync("/api/v1/units/huyen-doi", new { name = "Huyện Đổi (đúng)", type = "commune", parentId = "lai-chau" })).AssertProblemAsync(400, "type");
    }

    [Fact]
    public async Task Two_reorganisations_racing_one_wins_and_the_tree_is_never_broken()
    {
        using var admin = api.Admin;
        for (var round = 0; round < 4; round++)
        {
            var (district, commune, late) = ($"huyen-dua-{round}", $"xa-dua-{round}", $"xa-muon-{round}");
            Assert.Equal(HttpStatusCode.Created, (await admin.PostJsonAsync("/api/v1/units", Unit(district, "Huyện Đua", "district", "lai-chau"))).StatusCode);
            Assert.Equal(HttpStatusCode.Created, (await admin.PostJsonAsync("/api/v1/units", Unit(commune, "Xã Đua", "commune", district))).StatusCode);
            // A dissolves the district on 2025-07-01 (its commune to the province); B establishes a commune under it from
            // 2025-07-10. Each is valid alone; together they would leave B's commune under an ended district.
            var a = Reorganisation($"dua-a-{round}", "Quyết định A", "2025-07-01", Dissolve(district, "lai-chau"));
            var b = Reorganisation($"dua-b-{round}", "Quyết định B", "2025-07-10", Establish(late, "Xã Muộn", "commune", district));
            var start = new TaskCompletionSource();
            var racers = new[] { a, b }.Select(async body =>
            {
                await start.Task;
                using var client = api.Admin;
                var response = await client.PostReorganisationAsync(body);
                return (int)response.StatusCode;
            }).ToArray();
            start.SetResult();
            var statuses = await Task.WhenAll(racers);
            Assert.Equal(new[] { 201, 400 }, statuses.Order());

            using var analyst = api.Analyst;
            var lateTree = await TreeAsync(analyst, "2025-07-10");
            if (statuses[0] == 201)
            {
                Assert.False(lateTree.ContainsKey(district));
                Assert.Equal("lai-chau", ParentOn(lateTree, commune));
                await (await analyst.GetAsync($"/api/v1/units/{late}")).AssertProblemAsync(404);
            }
            else
            {
                Assert.Equal(district, ParentOn(lateTree, late));
                Assert.Equal(district, ParentOn(lateTree, commune));
            }
        }

        // The stored history breaks no rule on any day.
        await using var connection = new NpgsqlConnection(api.ConnectionString);
        await connection.OpenAsync();
        var history = await UnitDirectory.LoadAsync(connection, DateOnly.FromDateTime(DateTime.UtcNow), default);
        Assert.Empty(TreeRules.Check(history, null));
    }
}
