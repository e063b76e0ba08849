using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using CoordinationEvents.Api.Tests.Infrastructure;
using CoordinationEvents.Api.Tests.Imports;
using static CoordinationEvents.Api.Tests.Activities.LateReorganisation;

namespace CoordinationEvents.Api.Tests.Activities;

/// <summary>
/// The service after an illustrative reform of Phong Thổ on 2025-07-01 (<see cref="LateReorganisation"/>), recorded
/// late: a few activities of the units it ends were accepted before it.
/// </summary>
public sealed class LateReorganisationFixture : IAsyncLifetime
{
    public ApiFactory Api { get; } = new();

    /// <summary>Hoang Thèn on 2025-08-01, partner Bản Lang, in Dào San (dev-reporter), accepted before the reform was recorded.</summary>
    public Guid Accepted { get; private set; }
    /// <summary>Hoang Thèn on 2025-08-03 (dev-reporter), to retract.</summary>
    public Guid ToRetract { get; private set; }
    /// <summary>Hoang Thèn on 2025-08-02, by the key scoped to Phong Thổ.</summary>
    public Guid ByScopedKey { get; private set; }

    public async Task InitializeAsync()
    {
        await Api.InitializeAsync();
        using var reporter = Api.Reporter;
        using var scoped = Api.Client(ApiFactory.ScopedReporterKey);
        Accepted = await PostAsync(reporter, Patrol("pre-accepted", "hoang-then", "2025-08-01", ["ban-lang"], "dao-san"));
        ToRetract = await PostAsync(reporter, Patrol("pre-retract", "hoang-then", "2025-08-03"));
        ByScopedKey = await PostAsync(scoped, Patrol("pre-scoped", "hoang-then", "2025-08-02"));
        await ApplyAsync(Api.Services, Events(DateTimeOffset.UtcNow));
    }

    static async Task<Guid> PostAsync(HttpClient client, string body)
    {
        var response = await client.PostJsonAsync("/api/v1/activities", body);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.JsonAsync()).GetProperty("activityId").GetGuid();
    }

    public async Task DisposeAsync() => await Api.DisposeAsync();
}

/// <summary>
/// organisation.md, "Posting" and "Reporter scope", through HTTP: a single post, a batch and an import give the same
/// error for each activity whose units do not exist on its day; the scope is judged on the activity's day; what was
/// accepted before a late reorganisation can still be corrected and retracted.
/// </summary>
public sealed class ActivityCalendarApiTests(LateReorganisationFixture fixture) : IClassFixture<LateReorganisationFixture>
{
    readonly ApiFactory api = fixture.Api;

    /// <summary>Bodies refused after the reform, each with the one field its error is keyed by and a word of the message.</summary>
    static readonly (string Body, string Key, string Says)[] Refused =
    [
        (Patrol("cal-merged", "hoang-then", "2025-08-01"), "unitId", $"merged into '{NewCommune}' ({NewCommuneName}) from 2025-07-01"),
        (Patrol("cal-early", NewCommune, "2025-06-01"), "unitId", "established on 2025-07-01"),
        (Patrol("cal-dissolved", "phong-tho", "2025-08-01"), "unitId", "dissolved from 2025-07-01"),
        (Patrol("cal-split", "pa-vay-su", "2026-01-02"), "unitId", "split into"),
        (Patrol("cal-partner", "don-ma-lu-thang", "2025-08-01", ["si-lo-lau", "ban-lang"]), "partnerUnitIds[1]", $"merged into '{NewCommune}'"),
        (Patrol("cal-partner-early", "don-ma-lu-thang", "2024-08-01", [NewCommune]), "partnerUnitIds[0]", "established on 2025-07-01"),
        (Patrol("cal-commune", "don-ma-lu-thang", "2025-08-01", communeId: "dao-san"), "location.communeId", "dissolved from 2025-07-01"),
        (Patrol("cal-commune-early", "don-ma-lu-thang", "2025-06-30", communeId: NewCommune), "location.communeId", "established on 2025-07-01"),
        (Patrol("cal-commune-type", "don-ma-lu-thang", "2024-06-30", communeId: "phong-tho"), "location.communeId", "was a district on 2024-06-30"),
    ];

    static readonly string[] Accepted =
    [
        Patrol("cal-ok-before", "hoang-then", "2025-06-30", ["ban-lang"], "dao-san"),
        Patrol("cal-ok-after", NewCommune, "2025-07-01", ["si-lo-lau"], NewCommune),
        Patrol("cal-ok-post", "don-ma-lu-thang", "2026-01-02", [NewCommune], "si-lo-lau"),
    ];

    static string Errors(JsonElement errors) =>
        string.Join("\n", errors.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal)
            .Select(p => p.Name + ": " + string.Join(" | ", p.Value.EnumerateArray().Select(m => m.GetString()))));

    [Fact]
    public async Task A_single_post_a_batch_and_an_import_refuse_units_that_do_not_exist_on_the_day_with_the_same_errors()
    {
        using var reporter = api.Reporter;
        var single = new List<string>();
        foreach (var (body, key, says) in Refused)
        {
            var problem = await (await reporter.PostJsonAsync("/api/v1/activities", body)).AssertProblemAsync(400, key);
            var errors = problem.GetProperty("errors");
            Assert.Equal([key], errors.EnumerateObject().Select(p => p.Name));
            Assert.Contains(says, errors.GetProperty(key)[0].GetString());
            single.Add(Errors(errors));
        }
        foreach (var body in Accepted)
        {
            var response = await reporter.PostJsonAsync("/api/v1/activities", body);
            Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        }

        // The batch: the same bodies (new externalIds for the accepted ones), the same error for each refused item.
        var batchItems = Refused.Select(r => r.Body).Concat(Accepted.Select(b => b.Replace("cal-ok-", "batch-ok-"))).ToArray();
        var batch = await reporter.PostJsonAsync("/api/v1/activities/batch", "{\"activities\":[" + string.Join(",", batchItems) + "]}");
        Assert.Equal(HttpStatusCode.OK, batch.StatusCode);
        var results = (await batch.JsonAsync()).GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal(Enumerable.Repeat("invalid", Refused.Length).Concat(Enumerable.Repeat("created", Accepted.Length)),
            results.Select(r => r.GetProperty("status").GetString()));
        Assert.Equal(single, results.Take(Refused.Length).Select(r => Errors(r.GetProperty("errors"))));

        // The import: the same, by line.
        var (location, _) = await ImportTesting.StartAsync(reporter, Refused.Select(r => r.Body).Concat(Accepted.Select(b => b.Replace("cal-ok-", "import-ok-"))));
        var state = await ImportTesting.WaitForAsync(reporter, location);
        Assert.Equal((Accepted.Length, 0, Refused.Length, 0), ImportTesting.Counts(state));
        var lines = state.GetProperty("invalidLines").EnumerateArray().OrderBy(l => l.GetProperty("line").GetInt32()).ToArray();
        Assert.Equal(Enumerable.Range(1, Refused.Length), lines.Select(l => l.GetProperty("line").GetInt32()));
        Assert.Equal(single, lines.Select(l => Errors(l.GetProperty("errors"))));
    }

    [Fact]
    public async Task A_scope_is_judged_on_the_activity_s_day()
    {
        using var scoped = api.Client(ApiFactory.ScopedReporterKey);
        // Phong Thổ's old communes and posts, for the years the district held them: accepted.
        foreach (var (body, i) in new[] { Patrol("scope-2019", "hoang-then", "2019-03-04"), Patrol("scope-2024", "si-lo-lau", "2024-12-31"),
                     Patrol("scope-post", "don-ma-lu-thang", "2025-06-30") }.Select((b, i) => (b, i)))
        {
            var response = await scoped.PostJsonAsync("/api/v1/activities", body);
            Assert.True(response.StatusCode == HttpStatusCode.Created, $"{i}: {await response.Content.ReadAsStringAsync()}");
        }
        // After the district ends, the scope covers none of the units that follow it, nor those that moved away from it.
        string[] outside = [Patrol("scope-new", NewCommune, "2025-07-01"), Patrol("scope-moved", "si-lo-lau", "2025-07-01"), Patrol("scope-post-after", "don-ma-lu-thang", "2026-02-01")];
        foreach (var body in outside)
        {
            var problem = await (await scoped.PostJsonAsync("/api/v1/activities", body)).AssertProblemAsync(403);
            Assert.Contains("outside the units this API key may write", problem.GetProperty("detail").GetString());
        }
        var batch = await scoped.PostJsonAsync("/api/v1/activities/batch", "{\"activities\":[" + string.Join(",", outside) + "]}");
        var results = (await batch.JsonAsync()).GetProperty("results").EnumerateArray().ToArray();
        Assert.All(results, r =>
        {
            Assert.Equal("invalid", r.GetProperty("status").GetString());
            Assert.Contains("outside", r.GetProperty("errors").GetProperty("unitId")[0].GetString());
        });
        var (location, _) = await ImportTesting.StartAsync(scoped, outside);
        Assert.Equal((0, 0, outside.Length, 0), ImportTesting.Counts(await ImportTesting.WaitForAsync(scoped, location)));

        // The unscoped reporter may post them all.
        using var reporter = api.Reporter;
        foreach (var body in outside)
            Assert.Equal(HttpStatusCode.Created, (await reporter.PostJsonAsync("/api/v1/activities", body.Replace("scope-", "unscoped-"))).StatusCode);

        // What the scoped key wrote before the reform was recorded, it may still read.
        var read = await scoped.GetAsync($"/api/v1/activities/{fixture.ByScopedKey}");
        Assert.True(read.StatusCode == HttpStatusCode.OK, await read.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Activities_accepted_before_a_late_reorganisation_are_still_corrected_and_retracted()
    {
        using var reporter = api.Reporter;
        var corrected = Patrol("pre-accepted", "hoang-then", "2025-08-01", ["ban-lang"], "dao-san").Replace("Phối hợp", "Đã phối hợp");
        var put = await reporter.PutJsonAsync($"/api/v1/activities/{fixture.Accepted}", corrected, "\"1\"");
        Assert.True(put.StatusCode == HttpStatusCode.OK, await put.Content.ReadAsStringAsync());
        var etag = put.Headers.ETag!.Tag;

        // A correction to another day is judged on that day, as a new post is.
        var otherDay = Patrol("pre-accepted", "hoang-then", "2025-08-05", ["ban-lang"], "dao-san");
        var problem = await (await reporter.PutJsonAsync($"/api/v1/activities/{fixture.Accepted}", otherDay, etag)).AssertProblemAsync(400, "unitId");
        Assert.Contains($"merged into '{NewCommune}'", problem.GetProperty("errors").GetProperty("unitId")[0].GetString());
        // ... and a correction to a unit that exists that day passes.
        var moved = Patrol("pre-accepted", NewCommune, "2025-08-05");
        var movedPut = await reporter.PutJsonAsync($"/api/v1/activities/{fixture.Accepted}", moved, etag);
        Assert.True(movedPut.StatusCode == HttpStatusCode.OK, $"{etag}: {await movedPut.Content.ReadAsStringAsync()}");

        using (var retract = new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/activities/{fixture.ToRetract}"))
        {
            retract.Content = JsonContent.Create(new { reason = "posted twice" });
            var response = await reporter.SendAsync(retract);
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        }

        // The key scoped to Phong Thổ corrects what it wrote for Hoang Thèn in August 2025 (the commune was Phong Thổ's on its last day).
        using var scoped = api.Client(ApiFactory.ScopedReporterKey);
        var mine = Patrol("pre-scoped", "hoang-then", "2025-08-02").Replace("Phối hợp", "Đã phối hợp");
        var scopedPut = await scoped.PutJsonAsync($"/api/v1/activities/{fixture.ByScopedKey}", mine, "\"1\"");
        Assert.True(scopedPut.StatusCode == HttpStatusCode.OK, await scopedPut.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_list_by_unit_follows_where_each_activity_counts_on_its_day()
    {
        using var reporter = api.Reporter;
        foreach (var body in new[] { Patrol("list-old", "si-lo-lau", "2024-03-01"), Patrol("list-new", "si-lo-lau", "2025-09-01") })
            Assert.Equal(HttpStatusCode.Created, (await reporter.PostJsonAsync("/api/v1/activities", body)).StatusCode);
        using var analyst = api.Analyst;
        async Task<string[]> ListAsync(string query) =>
            (await analyst.GetFromJsonAsync<JsonElement>("/api/v1/activities?" + query)).GetProperty("items").EnumerateArray()
            .Select(i => i.GetProperty("externalId").GetString()!).Order(StringComparer.Ordinal).ToArray();

        // Sì Lở Lầu was Phong Thổ's until 2025-06-30, then the province's.
        Assert.Equal(["list-old"], (await ListAsync("unitId=phong-tho&from=2024-03-01&to=2025-12-31&limit=500")).Where(x => x.StartsWith("list-")).ToArray());
        Assert.Equal(["list-new", "list-old"], (await ListAsync("unitId=si-lo-lau&limit=500")).Where(x => x.StartsWith("list-")).ToArray());
        Assert.Equal(["list-new", "list-old"], (await ListAsync("unitId=lai-chau&limit=500")).Where(x => x.StartsWith("list-")).ToArray());
        // Hoang Thèn's activity of 2025-08-02, accepted before the merge was recorded, counts for Khổng Lào; a former unit is still a filter.
        Assert.Equal(["pre-scoped"], await ListAsync("unitId=khong-lao&from=2025-08-02&to=2025-08-02"));
        Assert.Empty(await ListAsync("unitId=hoang-then&from=2025-08-02&to=2025-08-02"));
        Assert.Equal(["pre-scoped"], await ListAsync("unitId=lai-chau&from=2025-08-02&to=2025-08-02"));
    }
}
