using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Tests.Infrastructure;

namespace CoordinationEvents.Api.Tests.Robustness;

/// <summary>
/// The inputs <see cref="NoServerErrorTests"/> found answering 500, each pinned down with the answer it gets
/// now; and partner lists as sets.
/// </summary>
public sealed class EdgeInputTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    static string Patrol(string externalId, Action<JsonObject>? change = null)
    {
        var node = JsonNode.Parse(ActivityExamples.ByKind["patrol"])!.AsObject();
        node["externalId"] = externalId;
        change?.Invoke(node);
        return node.ToJsonString();
    }

    static async Task<Guid> IdOf(HttpResponseMessage response) => (await response.JsonAsync()).GetProperty("activityId").GetGuid();

    [Fact]
    public async Task A_repeat_with_the_partners_in_another_order_or_repeated_is_the_same_post()
    {
        using var reporter = api.Reporter;
        var first = await reporter.PostJsonAsync("/api/v1/activities", Patrol("partners-order", a => a["partnerUnitIds"] = new JsonArray("huoi-luong", "phong-tho")));
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var id = await IdOf(first);
        var before = await api.EventCountAsync();

        var reordered = await reporter.PostJsonAsync("/api/v1/activities", Patrol("partners-order", a => a["partnerUnitIds"] = new JsonArray("phong-tho", "huoi-luong")));
        Assert.Equal(HttpStatusCode.OK, reordered.StatusCode);
        Assert.Equal(id, await IdOf(reordered));

        // Repeated partners are accepted and de-duplicated (ActivityRequestValidator's documented choice).
        var repeated = await reporter.PostJsonAsync("/api/v1/activities", Patrol("partners-order", a => a["partnerUnitIds"] = new JsonArray("phong-tho", "huoi-luong", "phong-tho", " huoi-luong ")));
        Assert.Equal(HttpStatusCode.OK, repeated.StatusCode);
        Assert.Equal(id, await IdOf(repeated));

        // Other partners are other content.
        var other = await reporter.PostJsonAsync("/api/v1/activities", Patrol("partners-order", a => a["partnerUnitIds"] = new JsonArray("phong-tho")));
        await other.AssertProblemAsync(409);
        Assert.Equal(before, await api.EventCountAsync());

        // The stored activity keeps the partners as first sent, each once.
        var stored = await (await reporter.GetAsync($"/api/v1/activities/{id}")).JsonAsync();
        Assert.Equal(["huoi-luong", "phong-tho"], stored.GetProperty("partnerUnitIds").EnumerateArray().Select(p => p.GetString()));
    }

    [Fact]
    public async Task In_one_batch_the_same_post_with_the_partners_reordered_is_a_duplicate()
    {
        using var reporter = api.Reporter;
        var items = new[]
        {
            Patrol("partners-batch", a => a["partnerUnitIds"] = new JsonArray("huoi-luong", "phong-tho")),
            Patrol("partners-batch", a => a["partnerUnitIds"] = new JsonArray("phong-tho", "huoi-luong", "huoi-luong")),
        };
        var response = await reporter.PostJsonAsync("/api/v1/activities/batch", "{\"activities\":[" + string.Join(",", items) + "]}");
        var results = (await response.JsonAsync()).GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal(["created", "duplicate"], results.Select(r => r.GetProperty("status").GetString()));
        Assert.Equal(results[0].GetProperty("activityId").GetGuid(), results[1].GetProperty("activityId").GetGuid());
    }

    [Fact]
    public async Task A_correction_that_only_reorders_the_partners_appends_nothing()
    {
        using var reporter = api.Reporter;
        var body = Patrol("partners-correction", a => a["partnerUnitIds"] = new JsonArray("huoi-luong", "phong-tho"));
        var id = await IdOf(await reporter.PostJsonAsync("/api/v1/activities", body));

        var reordered = Patrol("partners-correction", a => a["partnerUnitIds"] = new JsonArray("phong-tho", "huoi-luong", "phong-tho"));
        var put = await reporter.PutJsonAsync($"/api/v1/activities/{id}", reordered, "\"1\"");
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal(1, (await put.JsonAsync()).GetProperty("version").GetInt32());

        var history = await (await reporter.GetAsync($"/api/v1/activities/{id}/history")).JsonAsync();
        Assert.Single(history.GetProperty("events").EnumerateArray());
    }

    [Theory]
    [InlineData("0001-01-01", "9999-12-31", "")]
    [InlineData("0001-01-01", "2000-12-31", "&groupBy=year")]
    [InlineData("8000-01-01", "9999-12-31", "&groupBy=year")]
    [InlineData("9999-12-05", "9999-12-31", "&groupBy=month")]
    [InlineData("9999-12-31", "9999-12-31", "&groupBy=quarter")]
    [InlineData("0001-01-01", "0001-01-01", "&groupBy=month")]
    [InlineData("8000-01-02", "9999-12-30", "&kind=self-management&groupBy=year")]
    [InlineData("9999-10-02", "9999-12-31", "&kind=self-management&groupBy=quarter")]
    [InlineData("1900-01-01", "2099-12-31", "&kind=self-management&groupBy=month")]
    public async Task Statistics_at_the_edges_of_the_calendar_answer(string from, string to, string more)
    {
        using var reporter = api.Reporter;
        await reporter.PostJsonAsync("/api/v1/activities", Patrol("edges-patrol"));
        var stock = JsonNode.Parse(ActivityExamples.ByKind["self-management"])!;
        stock["externalId"] = "edges-stock";
        await reporter.PostJsonAsync("/api/v1/activities", stock.ToJsonString());
        await api.WaitForProjectionsAsync();
        using var analyst = api.Analyst;

        var response = await analyst.GetAsync($"/api/v1/statistics?from={from}&to={to}&unitId=phong-tho{more}");

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        var totals = JsonSerializer.Deserialize<JsonElement>(text).GetProperty("totals");
        if (from == "0001-01-01" && to == "9999-12-31")
            Assert.True(totals.GetProperty(more.Contains("self-management") ? "selfManagedCollectives" : "activities").GetInt32() >= 1, text[..Math.Min(text.Length, 2_000)]);
    }

    [Theory]
    [InlineData("month", "1900-01-01", "2100-01-01")]
    [InlineData("quarter", "0001-01-01", "9999-12-31")]
    [InlineData("month", "0001-01-01", "9999-12-31")]
    public async Task A_time_grouping_of_more_than_2400_rows_is_a_400_naming_groupBy(string time, string from, string to)
    {
        using var analyst = api.Analyst;
        await (await analyst.GetAsync($"/api/v1/statistics?from={from}&to={to}&groupBy={time}")).AssertProblemAsync(400, "groupBy");
    }

    [Theory]
    [InlineData("0001-01-01", "9999-12-31", "json")]
    [InlineData("9999-12-31", "9999-12-31", "markdown")]
    public async Task The_review_report_at_the_edges_of_the_calendar_answers(string from, string to, string format)
    {
        using var analyst = api.Analyst;
        var response = await analyst.GetAsync($"/api/v1/reports/review?unitId=phong-tho&from={from}&to={to}&format={format}");
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("text/csv")]
    [InlineData("text/markdown")]
    public async Task A_400_is_a_problem_document_whatever_the_Accept_header(string accept)
    {
        using var analyst = api.Analyst;
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/statistics?from=2024-02-30&to=2024-12-31");
        request.Headers.TryAddWithoutValidation("Accept", accept);
        await (await analyst.SendAsync(request)).AssertProblemAsync(400, "from");

        var missing = new HttpRequestMessage(HttpMethod.Get, "/api/v1/nothing-here");
        missing.Headers.TryAddWithoutValidation("Accept", accept);
        await (await analyst.SendAsync(missing)).AssertProblemAsync(404);
    }

    [Theory]
    [InlineData("\\u0000")]
    [InlineData("Ghi trùng \\ud800")]
    [InlineData("\\ufffe")]
    public async Task A_retraction_reason_that_cannot_be_stored_is_a_400_naming_reason(string escaped)
    {
        using var reporter = api.Reporter;
        var id = await IdOf(await reporter.PostJsonAsync("/api/v1/activities", Patrol($"reason-{Guid.NewGuid()}")));
        var before = await api.EventCountAsync();

        var response = await reporter.DeleteJsonAsync($"/api/v1/activities/{id}", $"{{\"reason\":\"{escaped}\"}}");

        // An unpaired surrogate is refused by the JSON reader (keyed "$" or "reason"); the others by validation.
        var problem = await response.AssertProblemAsync(400);
        var errors = problem.GetProperty("errors");
        Assert.True(errors.TryGetProperty("reason", out _) || errors.TryGetProperty("$", out _), problem.ToString());
        Assert.Equal(before, await api.EventCountAsync());
    }

    [Fact]
    public async Task A_unit_name_that_cannot_be_stored_is_a_400_naming_name_and_a_search_for_it_answers()
    {
        using var admin = api.Admin;
        var tree = await admin.GetStringAsync("/api/v1/units");
        foreach (var name in new[] { "Xã\\u0000", "Xã \\ufffe" })
        {
            var body = $"{{\"unitId\":\"xa-edge\",\"name\":\"{name}\",\"type\":\"commune\",\"parentId\":\"phong-tho\"}}";
            await (await admin.PostJsonAsync("/api/v1/units", body)).AssertProblemAsync(400, "name");
            await (await admin.PutJsonAsync("/api/v1/units/phong-tho", body.Replace("xa-edge", "phong-tho"), null)).AssertProblemAsync(400, "name");
        }
        Assert.Equal(tree, await admin.GetStringAsync("/api/v1/units"));

        var search = await admin.GetAsync("/api/v1/units?name=%EF%BF%BE%00");
        Assert.Equal(HttpStatusCode.OK, search.StatusCode);
    }

    [Theory]
    [InlineData("unitId")]
    [InlineData("partnerUnitIds")]
    [InlineData("communeId")]
    public async Task A_unit_id_that_is_not_valid_text_is_a_400_not_a_500(string field)
    {
        using var reporter = api.Reporter;
        var before = await api.EventCountAsync();
        var body = Patrol($"bad-id-{field}", a =>
        {
            switch (field)
            {
                case "unitId": a["unitId"] = "don-LONE"; break;
                case "partnerUnitIds": a["partnerUnitIds"] = new JsonArray("LONE"); break;
                default: a["location"]!["communeId"] = "LONE"; break;
            }
        }).Replace("LONE", "\\ud800", StringComparison.Ordinal);

        var problem = await (await reporter.PostJsonAsync("/api/v1/activities", body)).AssertProblemAsync(400);
        if (field == "unitId")
            Assert.Contains("cannot be stored", problem.GetProperty("errors").GetProperty("unitId")[0].GetString());
        var batch = await reporter.PostJsonAsync("/api/v1/activities/batch", $"{{\"activities\":[{body}]}}");
        Assert.Equal(HttpStatusCode.OK, batch.StatusCode);
        Assert.Equal("invalid", (await batch.JsonAsync()).GetProperty("results")[0].GetProperty("status").GetString());
        Assert.Equal(before, await api.EventCountAsync());
    }

    [Theory]
    [InlineData("summary")]
    [InlineData("externalId")]
    [InlineData("unitId")]
    public async Task Bytes_that_are_not_UTF8_in_a_string_are_a_400_naming_the_field(string field)
    {
        using var reporter = api.Reporter;
        var before = await api.EventCountAsync();
        var json = Patrol($"utf8-{field}", a => a[field] = "BAD");
        var bytes = System.Text.Encoding.UTF8.GetBytes(json).ToList();
        var at = System.Text.Encoding.UTF8.GetBytes(json[..json.IndexOf("BAD", StringComparison.Ordinal)]).Length;
        bytes.RemoveRange(at, 3);
        bytes.InsertRange(at, [0xC3, 0x28, 0xFF]);   // a broken two-byte sequence, then a byte UTF-8 never uses
        var content = new ByteArrayContent(bytes.ToArray());
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");

        var response = await reporter.PostAsync("/api/v1/activities", content);

        await response.AssertProblemAsync(400, field);
        Assert.Equal(before, await api.EventCountAsync());
    }

    [Theory]
    [InlineData("0001-01-01", "9999-12-31")]
    [InlineData("0001-01-01", "0001-01-01")]
    [InlineData("0001-01-15", "0001-03-02")]
    [InlineData("0001-03-15", "9999-11-02")]
    [InlineData("9999-12-01", "9999-12-31")]
    [InlineData("9999-12-05", "9999-12-31")]
    [InlineData("9999-11-30", "9999-12-30")]
    [InlineData("2024-01-01", "2024-12-31")]
    [InlineData("2023-12-31", "2025-01-01")]
    [InlineData("2019-01-01", "2024-12-31")]
    [InlineData("2019-02-10", "2024-11-20")]
    [InlineData("2024-02-10", "2024-02-20")]
    [InlineData("2024-01-31", "2024-03-01")]
    public void A_period_decomposes_into_whole_years_months_and_ragged_days_that_cover_it_exactly(string from, string to)
    {
        var (first, last) = (DateOnly.Parse(from), DateOnly.Parse(to));
        foreach (var years in new[] { true, false })
        {
            var ranges = CoordinationEvents.Api.Statistics.StatisticsReader.Decompose(first, last, years);

            // Each range as the days it stands for: a year cell from its first bucket's 1 January to its last bucket's
            // 31 December, a month cell likewise by months, a day cell by days. In order they must tile [first, last].
            var spans = ranges.Select(r => r.Period switch
            {
                'y' => (Start: r.First, End: new DateOnly(r.Last.Year, 12, 31)),
                'm' => (Start: r.First, End: new DateOnly(r.Last.Year, r.Last.Month, DateTime.DaysInMonth(r.Last.Year, r.Last.Month))),
                _ => (Start: r.First, End: r.Last),
            }).OrderBy(s => s.Start).ToArray();
            foreach (var r in ranges)
            {
                Assert.True(r.First <= r.Last);
                if (r.Period is 'y') Assert.True(r.First.DayOfYear == 1 && r.Last.DayOfYear == 1);
                if (r.Period is 'm') Assert.True(r.First.Day == 1 && r.Last.Day == 1);
            }
            Assert.Equal(first, spans[0].Start);
            Assert.Equal(last, spans[^1].End);
            for (var i = 1; i < spans.Length; i++) Assert.Equal(spans[i - 1].End.DayNumber + 1, spans[i].Start.DayNumber);
            Assert.True(ranges.Count(r => r.Period == 'y') <= (years ? 1 : 0));
            Assert.True(ranges.Count(r => r.Period == 'm') <= 2 && ranges.Count(r => r.Period == 'd') <= 2);
            if (years && first.DayOfYear == 1 && last.Month == 12 && last.Day == 31) Assert.Equal('y', Assert.Single(ranges).Period);
        }
    }
}
