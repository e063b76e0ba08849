using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Statistics;
using CoordinationEvents.Api.Tests.Infrastructure;
using CoordinationEvents.Api.Units;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CoordinationEvents.Api.Tests.Statistics;

/// <summary>
/// Year cells: a period of whole years is read from them, and a database whose cells were written before they were
/// kept gets them once (<see cref="StatisticsProjection.EnsureYearCellsAsync"/>), counting nothing twice, while the
/// reader keeps to months until then.
/// </summary>
public sealed class YearCellsTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    static readonly string[] Queries =
    [
        "from=2019-01-01&to=2024-12-31",
        "from=2019-01-01&to=2024-12-31&groupBy=unit",
        "from=2019-01-01&to=2024-12-31&groupBy=year",
        "from=2019-03-15&to=2023-12-31&groupBy=kind,unit",
        "from=2020-01-01&to=2020-12-31&groupBy=month",
    ];

    async Task<string[]> AnswersAsync(HttpClient analyst, string unit) =>
        await Task.WhenAll(Queries.Select(async q =>
        {
            var answer = await analyst.GetFromJsonAsync<JsonElement>($"/api/v1/statistics?{q}&unitId={unit}");
            return answer.GetProperty("rows").GetRawText() + answer.GetProperty("totals").GetRawText();
        }));

    /// <summary>The queries' answers from a new reader (one that has not yet seen whether the year cells are kept).</summary>
    async Task<string[]> InProcessAsync(string unit)
    {
        var reader = new StatisticsReader(api.Services.GetRequiredService<NpgsqlDataSource>());
        var history = await api.Services.GetRequiredService<UnitDirectory>().GetKnowingAsync([unit], default);
        var answers = new List<string>();
        foreach (var q in Queries)
        {
            var parameters = new QueryCollection(Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery($"?{q}&unitId={unit}"));
            answers.Add(JsonSerializer.Serialize(await reader.QueryAsync(StatisticsQuery.Parse(parameters, history), history, default)));
        }
        return answers.ToArray();
    }

    async Task PostAsync(HttpClient reporter, IEnumerable<(string Id, string Unit, DateOnly Day, int N)> activities)
    {
        foreach (var (id, unit, day, n) in activities)
        {
            var response = await reporter.PostJsonAsync("/api/v1/activities", ReorganisationTests.Body(id, unit, day, n));
            Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        }
        await api.WaitForProjectionsAsync();
    }

    [Fact]
    public async Task Cells_written_before_year_cells_get_them_once_and_the_figures_never_change()
    {
        var org = new Organisation(api);
        var p = $"yc{Environment.TickCount & 0xFFFFF:x}-";
        var (prov, d0, d1) = (p + "prov", p + "d0", p + "d1");
        await org.AppendAsync(
            new UnitEstablished { UnitId = prov, Name = "Tỉnh thử", Type = UnitTypes.Province },
            new UnitEstablished { UnitId = d0, Name = "Huyện một", Type = UnitTypes.District, ParentId = prov },
            new UnitEstablished { UnitId = d1, Name = "Huyện hai", Type = UnitTypes.District, ParentId = prov });
        var db = api.Services.GetRequiredService<NpgsqlDataSource>();
        using var reporter = api.Reporter;
        using var analyst = api.Analyst;

        // Activities over 2019–2024 in both districts; the year cells are kept as the projection applies them.
        await PostAsync(reporter, Enumerable.Range(0, 60).Select(i =>
            ($"{p}a{i}", i % 2 == 0 ? d0 : d1, new DateOnly(2019, 1, 1).AddDays(i * 37), 1 + i % 5)));
        Assert.True(await StatisticsProjection.HasYearCellsAsync(db, null, default));
        Assert.True(await api.ScalarAsync($"select count(*) from {StatisticsProjection.Cells} where unit_id = '{prov}' and period = 'y'") >= 6);
        var before = await AnswersAsync(analyst, prov);
        var inProcess = await InProcessAsync(prov);
        await api.AssertStatisticsConsistentAsync();

        // The database as the code before year cells left it: no year cells, no mark.
        await api.ScalarAsync($"delete from {StatisticsProjection.Cells} where period = 'y'; delete from {StatisticsProjection.Layout}; select 1");
        Assert.False(await StatisticsProjection.HasYearCellsAsync(db, null, default));

        // A reader that has not seen the mark reads months, and gives the same figures (a fresh one: the service's
        // reader knows the mark from before). Read with the year cells gone, it would miss whole years.
        Assert.Equal(inProcess, await InProcessAsync(prov));

        // New code writes year cells before the upgrade has run: partial ones, for this batch only.
        await PostAsync(reporter, Enumerable.Range(0, 10).Select(i => ($"{p}b{i}", d1, new DateOnly(2021, 2, 1).AddDays(i * 30), 2)));
        Assert.True(await api.ScalarAsync($"select count(*) from {StatisticsProjection.Cells} where unit_id = '{prov}' and period = 'y'") > 0);

        // The upgrade derives every year cell from the months (the partial ones replaced, nothing counted twice); once.
        Assert.True(await StatisticsProjection.EnsureYearCellsAsync(db, default));
        Assert.False(await StatisticsProjection.EnsureYearCellsAsync(db, default));
        Assert.True(await StatisticsProjection.HasYearCellsAsync(db, null, default));
        await api.AssertStatisticsConsistentAsync();
        Assert.Equal(60 + 10, (await analyst.GetFromJsonAsync<JsonElement>($"/api/v1/statistics?from=2019-01-01&to=2024-12-31&unitId={prov}"))
            .GetProperty("totals").GetProperty("activities").GetInt32());
        var after = await AnswersAsync(analyst, prov);
        Assert.NotEqual(before[0], after[0]);
    }
}
