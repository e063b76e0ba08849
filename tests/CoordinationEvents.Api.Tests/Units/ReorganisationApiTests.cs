using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CoordinationEvents.Api.Tests.Infrastructure;
using static CoordinationEvents.Api.Tests.Units.UnitsOverTime;

namespace CoordinationEvents.Api.Tests.Units;

/// <summary>api.md, "Units over time": POST and GET of reorganisations, on Lai Châu's reform of 2025-07-01.</summary>
public sealed class ReorganisationApiTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    static readonly string[] PhongThoPosts = ["don-dao-san", "don-huoi-luong", "don-ma-lu-thang", "don-si-lo-lau", "don-vang-ma-chai"];

    static string LaiChauReform(string title = "Nghị quyết 1670/NQ-UBTVQH15") => Reorganisation("nq-1670-lai-chau", title, "2025-07-01",
        [
            Establish("khong-lao", "Khổng Lào", "commune", "lai-chau"),
            Merge(["hoang-then", "ban-lang"], "khong-lao"),
            Establish("bch-bdbp-lai-chau", "Ban Chỉ huy Bộ đội Biên phòng tỉnh Lai Châu", "border-guard-command", "lai-chau"),
            .. PhongThoPosts.Select(p => Move(p, "bch-bdbp-lai-chau")),
            Dissolve("phong-tho", "lai-chau"),
        ]);

    [Fact]
    public async Task Lai_Chau_reform_is_recorded_once_and_the_tree_history_and_links_follow_it()
    {
        using var admin = api.Admin;
        using var analyst = api.Analyst;
        var created = await admin.PostReorganisationAsync(LaiChauReform());
        var body = await created.JsonAsync();
        Assert.True(created.StatusCode == HttpStatusCode.Created, body.ToString());
        Assert.Equal("/api/v1/reorganisations/nq-1670-lai-chau", created.Headers.Location?.OriginalString);
        Assert.Equal("Nghị quyết 1670/NQ-UBTVQH15", body.Str("title"));
        Assert.Equal("2025-07-01", body.Str("effectiveFrom"));
        Assert.Equal("dev-admin", body.Str("by"));
        Assert.Equal(9, body.GetProperty("changes").GetArrayLength());
        var touched = body.GetProperty("units").EnumerateArray().Select(u => u.GetString()).ToHashSet();
        Assert.Superset(new HashSet<string?> { "khong-lao", "hoang-then", "ban-lang", "phong-tho", "don-ma-lu-thang", "si-lo-lau", "lai-chau", "bch-bdbp-lai-chau" }, touched);

        // The same body again: 200, nothing appended. Another body under the same id: 409, nothing appended.
        var events = await api.AllEventCountAsync();
        var again = await admin.PostReorganisationAsync(LaiChauReform());
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(body.Str("recordedAt"), (await again.JsonAsync()).Str("recordedAt"));
        await (await admin.PostReorganisationAsync(LaiChauReform("Nghị quyết 1670 (sửa)"))).AssertProblemAsync(409);
        Assert.Equal(events, await api.AllEventCountAsync());
        Assert.Equal(1, await api.ScalarAsync("select count(*) from mt_events where type = 'reorganisation-recorded' and data->>'reorganisationId' = 'nq-1670-lai-chau'"));
        Assert.Equal(1, await api.ScalarAsync("select count(*) from audit_log where subject_type = 'reorganisation' and subject_id = 'nq-1670-lai-chau'"));

        // What was decided, when, by whom, whether applied.
        var one = await analyst.GetFromJsonAsync<JsonElement>("/api/v1/reorganisations/nq-1670-lai-chau");
        Assert.Equal("Nghị quyết 1670/NQ-UBTVQH15", one.Str("title"));
        Assert.Equal("khong-lao", one.GetProperty("changes")[1].Str("into"));
        Assert.Contains(one.GetProperty("applied").ValueKind, new[] { JsonValueKind.True, JsonValueKind.False });
        var list = await analyst.GetFromJsonAsync<JsonElement>("/api/v1/reorganisations");
        Assert.Equal("nq-1670-lai-chau", list[0].Str("reorganisationId"));
        await (await analyst.GetAsync("/api/v1/reorganisations/no-such-decision")).AssertProblemAsync(404);

        // The tree before and after.
        var before = await TreeAsync(analyst, "2025-06-30");
        Assert.Equal("phong-tho", ParentOn(before, "hoang-then"));
        Assert.Equal("phong-tho", ParentOn(before, "don-ma-lu-thang"));
        Assert.False(before.ContainsKey("khong-lao"));
        Assert.Equal("2025-06-30", before["phong-tho"].Str("validTo"));
        var after = await TreeAsync(analyst, "2025-07-01");
        Assert.False(after.ContainsKey("phong-tho"));
        Assert.False(after.ContainsKey("hoang-then"));
        Assert.Equal("lai-chau", ParentOn(after, "khong-lao"));
        Assert.Equal("lai-chau", ParentOn(after, "si-lo-lau"));   // a commune of the dissolved district, now directly under the province
        Assert.Equal(PhongThoPosts, ChildrenOn(after, "bch-bdbp-lai-chau"));
        Assert.Equal("2025-07-01", after["khong-lao"].Str("validFrom"));
        Assert.Equal(JsonValueKind.Null, after["khong-lao"].GetProperty("validTo").ValueKind);
        // Today's tree (no asOf) is the one after.
        Assert.False((await TreeAsync(analyst, null)).ContainsKey("phong-tho"));

        // Predecessors and successors, with names and the day.
        var hoangThen = await analyst.GetFromJsonAsync<JsonElement>("/api/v1/units/hoang-then");
        Assert.Equal("Xã Hoang Thèn", hoangThen.Str("name"));
        Assert.Equal("2025-06-30", hoangThen.Str("validTo"));
        Assert.Equal("merged", hoangThen.Str("ending"));
        var successor = Assert.Single(hoangThen.GetProperty("successors").EnumerateArray());
        Assert.Equal(("khong-lao", "Khổng Lào", "2025-07-01"), (successor.Str("unitId"), successor.Str("name"), successor.Str("effectiveFrom")));
        var khongLao = await analyst.GetFromJsonAsync<JsonElement>("/api/v1/units/khong-lao");
        Assert.Equal(new[] { "ban-lang", "hoang-then" }, khongLao.GetProperty("predecessors").EnumerateArray().Select(p => p.Str("unitId")).Order());
        Assert.Equal("Xã Bản Lang", khongLao.GetProperty("predecessors").EnumerateArray().Single(p => p.Str("unitId") == "ban-lang").Str("name"));
        var phongTho = await analyst.GetFromJsonAsync<JsonElement>("/api/v1/units/phong-tho");
        Assert.Equal(("dissolved", "2025-06-30", "lai-chau"), (phongTho.Str("ending"), phongTho.Str("validTo"), phongTho.Str("parentId")));

        // Former units are found by name only with includeEnded, with their end and successors.
        Assert.Equal("khong-lao", Assert.Single((await analyst.GetFromJsonAsync<JsonElement>($"/api/v1/units?name={Uri.EscapeDataString("khổng lào")}")).EnumerateArray()).Str("unitId"));
        Assert.Equal(0, (await analyst.GetFromJsonAsync<JsonElement>($"/api/v1/units?name={Uri.EscapeDataString("Hoang Thèn")}")).GetArrayLength());
        var former = Assert.Single((await analyst.GetFromJsonAsync<JsonElement>($"/api/v1/units?name={Uri.EscapeDataString("hoang thèn")}&includeEnded=true")).EnumerateArray());
        Assert.Equal(("hoang-then", "2025-06-30", "khong-lao"), (former.Str("unitId"), former.Str("validTo"), former.GetProperty("successors")[0].Str("unitId")));

        // The history of a unit: every change in date order, with the reorganisation that made it.
        var history = await analyst.GetFromJsonAsync<JsonElement>("/api/v1/units/don-ma-lu-thang/history");
        Assert.Equal(new[] { "established", "moved" }, history.EnumerateArray().Select(c => c.Str("change")));
        Assert.Equal(JsonValueKind.Null, history[0].GetProperty("effectiveFrom").ValueKind);
        Assert.Equal(("2025-07-01", "nq-1670-lai-chau", "bch-bdbp-lai-chau", "dev-admin"),
            (history[1].Str("effectiveFrom"), history[1].Str("reorganisationId"), history[1].Str("parentId"), history[1].Str("by")));
        var merged = await analyst.GetFromJsonAsync<JsonElement>("/api/v1/units/ban-lang/history");
        Assert.Equal(("merged", "khong-lao"), (merged[1].Str("change"), merged[1].Str("into")));
        var dissolved = await analyst.GetFromJsonAsync<JsonElement>("/api/v1/units/phong-tho/history");
        Assert.Equal(("dissolved", "lai-chau"), (dissolved[1].Str("change"), dissolved[1].Str("childrenTo")));
        await (await analyst.GetAsync("/api/v1/units/atlantis/history")).AssertProblemAsync(404);

        // A unit that has ended takes no more changes on or after its end; before it, it may.
        var late = await admin.PostReorganisationAsync(Reorganisation("late-rename", "Quyết định thử", "2025-08-01", Rename("hoang-then", "Hoang Thèn mới")));
        Assert.Contains("ended on 2025-07-01", (await late.AssertProblemAsync(400, "changes[0].unitId")).GetProperty("errors").GetProperty("changes[0].unitId")[0].GetString());
        await (await admin.PutAsJsonAsync("/api/v1/units/hoang-then", new { name = "Hoang Thèn mới", type = "commune", parentId = "phong-tho" })).AssertProblemAsync(409);
        await (await admin.PostJsonAsync("/api/v1/units", Unit("hoang-then", "Hoang Thèn", "commune", "lai-chau"))).AssertProblemAsync(409);
        var earlier = await admin.PutAsJsonAsync("/api/v1/units/hoang-then", new { name = "Xã Hoang Thèn (cũ)", type = "commune", parentId = "phong-tho", effectiveFrom = "2020-01-01" });
        Assert.Equal(HttpStatusCode.OK, earlier.StatusCode);
        Assert.Equal("Xã Hoang Thèn (cũ)", (await TreeAsync(analyst, "2024-01-01"))["hoang-then"].Str("name"));
    }

    [Fact]
    public async Task Every_invalid_change_is_keyed_by_its_index_and_nothing_is_applied()
    {
        using var admin = api.Admin;
        // A district of its own, with a commune and a post, so that this test does not depend on the reform's.
        Assert.Equal(HttpStatusCode.Created, (await admin.PostJsonAsync("/api/v1/units", Unit("huyen-thu", "Huyện Thử", "district", "lai-chau"))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostJsonAsync("/api/v1/units", Unit("xa-thu", "Xã Thử", "commune", "huyen-thu"))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostJsonAsync("/api/v1/units", Unit("don-thu-2", "Đồn Thử", "border-post", "huyen-thu"))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostJsonAsync("/api/v1/units", Unit("xa-sau", "Xã Sau", "commune", "sin-ho", validFrom: "2026-01-01"))).StatusCode);
        var events = await api.AllEventCountAsync();
        var historyBefore = await (await admin.GetAsync("/api/v1/units/huyen-thu/history")).Content.ReadAsStringAsync();

        // Errors of form: every one at once, each under its change.
        var shape = await admin.PostReorganisationAsync(Reorganisation("bad-shape", null, "2025-07-01",
            new { op = "explode", unitId = "xa-thu" },
            new { op = "merge", unitIds = new[] { "xa-thu" }, into = new[] { "a", "b" } },
            Rename("huyen-thu", "Huyện Thử mới"),                                          // valid on its own: not applied either
            new { op = "establish", unitId = "Bad Id", name = "", type = "village" },
            new { op = "move", unitId = "don-thu-2", parentId = "lai-chau", name = "x" },
            new { op = "split", unitId = "xa-thu", into = new[] { "xa-thu", "xa-thu" } },
            new { op = "dissolve" }));
        var problem = await shape.AssertProblemAsync(400);
        var keys = problem.GetProperty("errors").EnumerateObject().Select(e => e.Name).ToHashSet();
        Assert.Superset(new HashSet<string> { "title", "changes[0].op", "changes[1].into", "changes[3].unitId", "changes[3].name", "changes[3].type", "changes[4].name", "changes[5].into", "changes[6].unitId" }, keys);
        Assert.DoesNotContain("changes[2].unitId", keys);

        // Errors against the organisation on the day: each keyed to the change that makes it.
        var meaning = await admin.PostReorganisationAsync(Reorganisation("bad-meaning", "Quyết định thử", "2025-07-01",
            Rename("atlantis", "x"),                                                        // 0: unknown
            Establish("lai-chau", "Lai Châu", "province", null),                            // 1: not new
            Establish("xa-moi", "Xã Mới", "commune", "don-thu-2"),                          // 2: a commune under a border post
            Move("huyen-thu", "xa-thu"),                                                    // 3: a district under its own commune
            Dissolve("huyen-thu", null),                                                    // 4: children left without a parent
            Rename("xa-sau", "Xã Sau mới"),                                                 // 5: not yet established on the day
            Merge(["xa-thu"], "khong-lao-chua-co")));                                       // 6: into a unit that does not exist
        problem = await meaning.AssertProblemAsync(400);
        keys = problem.GetProperty("errors").EnumerateObject().Select(e => e.Name).ToHashSet();
        Assert.Superset(new HashSet<string> { "changes[0].unitId", "changes[1].unitId", "changes[5].unitId", "changes[6].into" }, keys);

        var tree = await admin.PostReorganisationAsync(Reorganisation("bad-tree", "Quyết định thử", "2025-07-01",
            Establish("xa-moi", "Xã Mới", "commune", "don-thu-2"),
            Rename("xa-thu", "Xã Thử mới"),
            Dissolve("huyen-thu", null)));
        keys = (await tree.AssertProblemAsync(400)).GetProperty("errors").EnumerateObject().Select(e => e.Name).ToHashSet();
        Assert.Equal(new HashSet<string> { "changes[0].parentId", "changes[2].childrenTo" }, keys);

        var cycle = await admin.PostReorganisationAsync(Reorganisation("bad-cycle", "Quyết định thử", "2025-07-01", Move("huyen-thu", "xa-thu")));
        await cycle.AssertProblemAsync(400, "changes[0].parentId");
        // A merged unit's children must go somewhere: the merge answers for them.
        var orphans = await admin.PostReorganisationAsync(Reorganisation("bad-orphans", "Quyết định thử", "2025-07-01", Merge(["huyen-thu"], "sin-ho")));
        await orphans.AssertProblemAsync(400, "changes[0].unitIds");

        // Dates: real ones only.
        await (await admin.PostReorganisationAsync(Reorganisation("bad-date", "Quyết định thử", "2025-02-30", Rename("xa-thu", "x")))).AssertProblemAsync(400, "effectiveFrom");
        await (await admin.PostReorganisationAsync(Reorganisation("bad-date", "Quyết định thử", null, Rename("xa-thu", "x")))).AssertProblemAsync(400, "effectiveFrom");
        await (await admin.PostReorganisationAsync(Reorganisation("bad-date", "Quyết định thử", "0202-07-01", Rename("xa-thu", "x")))).AssertProblemAsync(400, "effectiveFrom");
        await (await admin.PostReorganisationAsync(Reorganisation("Bad Id", "Quyết định thử", "2025-07-01", Rename("xa-thu", "x")))).AssertProblemAsync(400, "reorganisationId");
        await (await admin.PostReorganisationAsync(Reorganisation("no-changes", "Quyết định thử", "2025-07-01"))).AssertProblemAsync(400, "changes");
        await (await admin.PostReorganisationAsync(Reorganisation("long-title", new string('x', 301), "2025-07-01", Rename("xa-thu", "x")))).AssertProblemAsync(400, "title");

        // Nothing of it was applied.
        Assert.Equal(events, await api.AllEventCountAsync());
        Assert.Equal(historyBefore, await (await admin.GetAsync("/api/v1/units/huyen-thu/history")).Content.ReadAsStringAsync());
        Assert.Equal(0, await api.ScalarAsync("select count(*) from mt_events where type = 'reorganisation-recorded' and data->>'reorganisationId' like 'bad-%'"));

        // The same units, rightly changed: a split, and a dissolution whose children go to the province.
        var good = await admin.PostReorganisationAsync(Reorganisation("good-split", "Quyết định thử", "2025-07-01",
            Establish("xa-thu-a", "Xã Thử A", "commune", "lai-chau"),
            Establish("xa-thu-b", "Xã Thử B", "commune", "lai-chau"),
            Split("xa-thu", ["xa-thu-a", "xa-thu-b"]),
            Dissolve("huyen-thu", "lai-chau")));
        Assert.True(good.StatusCode == HttpStatusCode.Created, await good.Content.ReadAsStringAsync());
        using var analyst = api.Analyst;
        var after = await TreeAsync(analyst, "2025-07-01");
        Assert.Equal("lai-chau", ParentOn(after, "xa-thu-a"));
        Assert.Equal("lai-chau", ParentOn(after, "don-thu-2"));
        Assert.False(after.ContainsKey("xa-thu"));
        var split = await analyst.GetFromJsonAsync<JsonElement>("/api/v1/units/xa-thu");
        Assert.Equal("split", split.Str("ending"));
        Assert.Equal(new[] { "xa-thu-a", "xa-thu-b" }, split.GetProperty("successors").EnumerateArray().Select(s => s.Str("unitId")));
        var history = await analyst.GetFromJsonAsync<JsonElement>("/api/v1/units/xa-thu/history");
        Assert.Equal(new[] { "xa-thu-a", "xa-thu-b" }, history[1].GetProperty("into").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal(new[] { "xa-thu" }, (await analyst.GetFromJsonAsync<JsonElement>("/api/v1/units/xa-thu-a")).GetProperty("predecessors").EnumerateArray().Select(p => p.Str("unitId")));
    }

    [Fact]
    public async Task Reorganisations_need_a_key_and_an_admin_to_be_recorded()
    {
        var body = Reorganisation("auth-test", "Quyết định thử", "2025-07-01", Rename("muong-te", "Mường Tè mới"));
        using var anonymous = api.Client(null);
        await (await anonymous.PostReorganisationAsync(body)).AssertProblemAsync(401);
        await (await anonymous.GetAsync("/api/v1/reorganisations")).AssertProblemAsync(401);
        await (await anonymous.GetAsync("/api/v1/units/muong-te/history")).AssertProblemAsync(401);
        using var analyst = api.Analyst;
        await (await analyst.PostReorganisationAsync(body)).AssertProblemAsync(403);
        using var reporter = api.Reporter;
        await (await reporter.PostReorganisationAsync(body)).AssertProblemAsync(403);
        Assert.Equal(HttpStatusCode.OK, (await analyst.GetAsync("/api/v1/reorganisations")).StatusCode);
        Assert.Equal(0, await api.ScalarAsync("select count(*) from mt_events where type = 'reorganisation-recorded' and data->>'reorganisationId' = 'auth-test'"));
    }
}
