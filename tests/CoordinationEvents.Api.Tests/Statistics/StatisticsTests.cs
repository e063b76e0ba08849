using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Statistics;
using CoordinationEvents.Api.Tests.Infrastructure;

namespace CoordinationEvents.Api.Tests.Statistics;

/// <summary>
/// Thousands of generated activities of all kinds over six years, with repeats, corrections and
/// retractions, posted through HTTP; then the statistics endpoint against the oracle for many random queries.
/// </summary>
public sealed class StatisticsFixture : IAsyncLifetime
{
    public ApiFactory Api { get; } = new();
    public Dataset Data { get; } = new(seed: 20240303);

    public async Task InitializeAsync()
    {
        await Api.InitializeAsync();
        using var reporter = Api.Reporter;
        for (var i = 0; i < 2_500; i++) Data.NewRecord("gen");
        await PostAsync(reporter, Data.Records, expected: "created");

        var random = new Random(7);
        // Repeats of posts already made: counted once.
        await PostAsync(reporter, Data.Records.OrderBy(_ => random.Next()).Take(300).ToList(), expected: "duplicate");
        // Corrections and retractions.
        foreach (var record in Data.Records.OrderBy(_ => random.Next()).Take(150).ToList())
        {
            Data.Correct(record);
            var response = await reporter.PutJsonAsync($"/api/v1/activities/{record.ActivityId}", record.Body.ToJsonString(), $"\"{record.Version}\"");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            record.Version = (await response.JsonAsync()).GetProperty("version").GetInt32();
        }
        foreach (var record in Data.Records.Where(r => !r.Retracted).OrderBy(_ => random.Next()).Take(120).ToList())
        {
            var response = await reporter.DeleteJsonAsync($"/api/v1/activities/{record.ActivityId}", """{"reason":"Báo cáo trùng"}""");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            record.Retracted = true;
        }
        await Api.WaitForProjectionsAsync();
    }

    async Task PostAsync(HttpClient reporter, List<Dataset.Record> records, string expected)
    {
        foreach (var chunk in records.Chunk(500))
        {
            var body = new JsonObject { ["activities"] = new JsonArray(chunk.Select(r => (JsonNode)r.Body.DeepClone()).ToArray()) };
            var response = await reporter.PostJsonAsync("/api/v1/activities/batch", body.ToJsonString());
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var results = (await response.JsonAsync()).GetProperty("results").EnumerateArray().ToArray();
            for (var i = 0; i < chunk.Length; i++)
            {
                Assert.True(results[i].GetProperty("status").GetString() == expected, $"{chunk[i].ExternalId}: {results[i]}");
                chunk[i].ActivityId = results[i].GetProperty("activityId").GetGuid();
            }
        }
    }

    public async Task DisposeAsync() => await Api.DisposeAsync();
}

public sealed class StatisticsTests(StatisticsFixture fixture) : IClassFixture<StatisticsFixture>
{
    static readonly string[] GroupKeys = ["kind", "unit", "year", "quarter", "month", "mode", "format", "level", "pairType", "category", "outcome", "channel", "hazard", "form"];

    public static IEnumerable<object[]> Seeds => Enumerable.Range(1, 60).Select(i => new object[] { i });

    static Dataset.Query RandomQuery(int seed)
    {
        var random = new Random(seed * 7919);
        var from = Dataset.Start.AddDays(random.Next(-40, 1900));
        var to = random.Next(5) switch
        {
            0 => from, // one day
            1 => from.AddDays(random.Next(0, 31)),
            _ => from.AddDays(random.Next(0, 2400)),
        };
        string? unit = random.Next(5) == 0 ? null : Dataset.UnitIds[random.Next(Dataset.UnitIds.Length)];
        var kinds = random.Next(3) == 0 ? [] : KindCatalog.All.OrderBy(_ => random.Next()).Take(random.Next(1, 4)).Select(k => k.Name).ToArray();
        var filters = new Dictionary<string, string[]>();
        if (random.Next(3) == 0)
        {
            var pool = (kinds.Length > 0 ? kinds.Select(KindCatalog.Get) : KindCatalog.All).SelectMany(k => k.Dimensions).ToArray();
            if (pool.Length > 0)
            {
                var d = pool[random.Next(pool.Length)];
                filters[d.Name] = d.Values.OrderBy(_ => random.Next()).Take(random.Next(1, 3)).ToArray();
            }
        }
        var groupBy = new List<string>();
        for (var n = random.Next(0, 3); n > 0; n--)
        {
            var g = GroupKeys[random.Next(GroupKeys.Length)];
            if (groupBy.Contains(g) || (g is "year" or "quarter" or "month" && groupBy.Any(x => x is "year" or "quarter" or "month"))) continue;
            groupBy.Add(g);
        }
        return new Dataset.Query(from, to, unit, kinds, filters, [.. groupBy]);
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task Random_query_equals_the_independent_computation(int seed)
    {
        var q = RandomQuery(seed);
        await AssertMatchesAsync(q);
    }

    [Theory]
    [InlineData("2019-01-01", "2024-12-31", "lai-chau", "", "kind")]
    [InlineData("2019-01-01", "2024-12-31", "phong-tho", "", "unit,year")]
    [InlineData("2019-01-15", "2024-06-20", null, "", "unit")]
    [InlineData("2021-03-01", "2021-03-31", "phong-tho", "patrol,crime-bust", "month")]
    [InlineData("2020-02-29", "2020-02-29", null, "", "")]
    [InlineData("2019-01-01", "2024-12-31", "lai-chau", "crime-bust", "category,outcome")]
    [InlineData("2019-01-01", "2024-12-31", "lai-chau", "self-management", "unit,quarter")]
    // Many (unit, period end) pairs: the stocks are read in one pass rather than probed pair by pair.
    [InlineData("1990-01-01", "2099-12-31", "lai-chau", "self-management", "unit,month")]
    [InlineData("1990-01-01", "2099-12-31", null, "", "year")]
    public async Task Known_queries_equal_the_independent_computation(string from, string to, string? unit, string kinds, string groupBy)
    {
        var q = new Dataset.Query(DateOnly.Parse(from, CultureInfo.InvariantCulture), DateOnly.Parse(to, CultureInfo.InvariantCulture), unit,
            kinds.Split(',', StringSplitOptions.RemoveEmptyEntries), [], groupBy.Split(',', StringSplitOptions.RemoveEmptyEntries));
        await AssertMatchesAsync(q);
    }

    async Task AssertMatchesAsync(Dataset.Query q)
    {
        using var analyst = fixture.Api.Analyst;
        var response = await analyst.GetAsync("/api/v1/statistics?" + q.ToQueryString());
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{q.ToQueryString()}: {text}");
        var actual = JsonSerializer.Deserialize<JsonElement>(text);

        var (rows, totals) = fixture.Data.Expected(q);
        var actualRows = actual.GetProperty("rows").EnumerateArray().ToDictionary(
            r => string.Join("|", q.GroupBy.Select(g => r.GetProperty("key").GetProperty(g).ValueKind == JsonValueKind.Null ? "∅" : r.GetProperty("key").GetProperty(g).GetString())),
            r => Metrics(r.GetProperty("metrics")));

        Assert.True(Same(totals, Metrics(actual.GetProperty("totals"))), $"{q.ToQueryString()} totals: expected {Show(totals)}, got {actual.GetProperty("totals")}");
        foreach (var (key, expected) in rows)
            Assert.True(actualRows.TryGetValue(key, out var got) && Same(expected, got),
                $"{q.ToQueryString()} row {key}: expected {Show(expected)}, got {(got is null ? "no row" : Show(got))}");
        Assert.True(rows.Count == actualRows.Count,
            $"{q.ToQueryString()}: rows {string.Join(", ", actualRows.Keys.Except(rows.Keys))} were not expected");
    }

    static Dictionary<string, decimal> Metrics(JsonElement e) => e.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDecimal());
    static bool Same(Dictionary<string, decimal> a, Dictionary<string, decimal> b) =>
        a.Where(x => x.Value != 0).OrderBy(x => x.Key).SequenceEqual(b.Where(x => x.Value != 0).OrderBy(x => x.Key));
    static string Show(Dictionary<string, decimal> m) => string.Join(", ", m.OrderBy(x => x.Key).Select(x => $"{x.Key}={x.Value}"));

    [Fact]
    public async Task The_projection_equals_a_recomputation_from_the_raw_events()
    {
        var report = await fixture.Api.AssertStatisticsConsistentAsync();
        Assert.Equal(fixture.Data.Records.Count(r => !r.Retracted), report.GetProperty("activeActivities").GetInt32());
        Assert.True(report.GetProperty("eventsChecked").GetInt64() >= 2_500 + 120, report.ToString());
    }

    [Fact]
    public async Task A_rebuild_over_corrections_and_retractions_gives_identical_figures()
    {
        using var admin = fixture.Api.Admin;
        using var analyst = fixture.Api.Analyst;
        string[] queries =
        [
            "/api/v1/statistics?from=2019-01-01&to=2024-12-31&groupBy=unit,year",
            "/api/v1/statistics?from=2019-03-15&to=2023-10-20&unitId=lai-chau&groupBy=kind,category",
            "/api/v1/statistics?from=2019-01-01&to=2024-12-31&unitId=phong-tho&kind=self-management&groupBy=unit,quarter",
        ];
        var before = await Task.WhenAll(queries.Select(q => analyst.GetStringAsync(q)));

        Assert.Equal(HttpStatusCode.Accepted, (await admin.PostAsync("/api/v1/admin/projections/statistics/rebuild", null)).StatusCode);
        await fixture.Api.WaitForProjectionsAsync();

        var status = await admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/projections");
        Assert.NotEqual(JsonValueKind.Null, status.GetProperty("projections")[0].GetProperty("lastRebuildCompletedAt").ValueKind);
        Assert.Equal(before, await Task.WhenAll(queries.Select(q => analyst.GetStringAsync(q))));
        await fixture.Api.AssertStatisticsConsistentAsync();
    }

    [Fact]
    public async Task Csv_gives_the_same_rows()
    {
        using var analyst = fixture.Api.Analyst;
        const string query = "/api/v1/statistics?from=2019-01-01&to=2024-12-31&unitId=lai-chau&groupBy=kind";
        var json = await analyst.GetFromJsonAsync<JsonElement>(query);
        var request = new HttpRequestMessage(HttpMethod.Get, query);
        request.Headers.Accept.ParseAdd("text/csv");
        var csv = await analyst.SendAsync(request);
        Assert.Equal("text/csv", csv.Content.Headers.ContentType!.MediaType);
        var lines = (await csv.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var header = lines[0].Split(',');
        Assert.Equal("kind", header[0]);
        var rows = json.GetProperty("rows").EnumerateArray().ToArray();
        Assert.Equal(rows.Length, lines.Length - 1);
        for (var i = 0; i < rows.Length; i++)
        {
            var cells = lines[i + 1].Split(',');
            Assert.Equal(rows[i].GetProperty("key").GetProperty("kind").GetString(), cells[0]);
            foreach (var metric in rows[i].GetProperty("metrics").EnumerateObject())
                Assert.Equal(metric.Value.GetDecimal(), decimal.Parse(cells[Array.IndexOf(header, metric.Name)], CultureInfo.InvariantCulture));
        }
    }

    [Theory]
    [InlineData("to=2024-01-01", "from")]
    [InlineData("from=2024-01-01", "to")]
    [InlineData("from=2024-02-30&to=2024-03-01", "from")]
    [InlineData("from=2024-01-01&to=2023-12-31", "to")]
    [InlineData("from=2024-01-01&to=2024-12-31&groupBy=district", "groupBy")]
    [InlineData("from=2024-01-01&to=2024-12-31&groupBy=year,month", "groupBy")]
    [InlineData("from=2024-01-01&to=2024-12-31&kind=parade", "kind")]
    [InlineData("from=2024-01-01&to=2024-12-31&unitId=atlantis", "unitId")]
    [InlineData("from=2024-01-01&to=2024-12-31&category=piracy", "category")]
    [InlineData("from=2024-01-01&to=2024-12-31&categroy=drugs", "categroy")]
    [InlineData("from=01/01/2024&to=2024-12-31", "from")]
    public async Task Bad_parameters_get_a_400_naming_them(string query, string field)
    {
        using var analyst = fixture.Api.Analyst;
        await (await analyst.GetAsync("/api/v1/statistics?" + query)).AssertProblemAsync(400, field);
    }

    [Theory]
    [InlineData("from=1900-01-01&to=2099-12-31&groupBy=unit,month,category,hazard")]
    [InlineData("from=1900-01-01&to=2099-12-31&groupBy=kind,month,unit")]
    public async Task A_query_wider_than_its_bound_gets_a_400_that_says_how_to_narrow_it(string query)
    {
        using var analyst = fixture.Api.Analyst;
        var problem = await (await analyst.GetAsync("/api/v1/statistics?" + query)).AssertProblemAsync(400, "groupBy");
        var message = problem.GetProperty("errors").GetProperty("groupBy")[0].GetString()!;
        Assert.Contains($"at most {StatisticsQuery.MaxRows:#,0}", message);
        Assert.Contains("shorten the period", message);
    }

    [Fact]
    public async Task The_same_query_narrowed_is_answered()
    {
        using var analyst = fixture.Api.Analyst;
        var response = await analyst.GetAsync("/api/v1/statistics?from=1900-01-01&to=2099-12-31&unitId=lai-chau&groupBy=unit,year,category,hazard");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
