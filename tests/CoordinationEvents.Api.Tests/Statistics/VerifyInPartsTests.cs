using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Admin;
using CoordinationEvents.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CoordinationEvents.Api.Tests.Statistics;

/// <summary>
/// Verify in parts (<see cref="VerifyFigures.MaxCellsPerPart"/>: a large store's cells do not fit in the heap at once)
/// compares the same cells and finds the same differences as verify all at once.
/// </summary>
public sealed class VerifyInPartsTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task Verify_in_parts_of_a_few_units_compares_every_cell_and_finds_what_verify_at_once_finds()
    {
        using (var reporter = api.Reporter)
        {
            var n = 0;
            foreach (var (kind, json) in ActivityExamples.ByKind)
                for (var i = 0; i < 3; i++)
                {
                    var node = JsonNode.Parse(json)!.AsObject();
                    node["externalId"] = $"parts-{kind}-{i}";
                    node["occurredOn"] = new DateOnly(2021, 1, 5).AddDays(n++ * 41).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
                    node.Remove("endsOn");
                    var post = await reporter.PostJsonAsync("/api/v1/activities", node.ToJsonString());
                    Assert.True(post.StatusCode == HttpStatusCode.Created, await post.Content.ReadAsStringAsync());
                }
        }
        await api.WaitForProjectionsAsync();
        var db = api.Services.GetRequiredService<NpgsqlDataSource>();
        var cells = await api.ScalarAsync("select count(*) from stat_cells");
        var units = await api.ScalarAsync("select count(distinct unit_id) from stat_cells");
        Assert.True(units >= 4 && cells > 4 * 40, $"{units} units, {cells} cells");

        // Parts of at most 40 cells: a unit or two each, and the last of the units not named.
        var whole = await VerifyFigures.RunAsync(db, CancellationToken.None);
        var inParts = await VerifyFigures.RunAsync(db, CancellationToken.None, maxCellsPerPart: 40);
        Assert.Equal(0, whole.DifferenceCount);
        Assert.Equal(0, inParts.DifferenceCount);
        Assert.Equal(cells, whole.CellsCompared);
        Assert.Equal(whole.CellsCompared, inParts.CellsCompared);
        Assert.Equal(whole.StocksCompared, inParts.StocksCompared);
        Assert.Equal(whole.ActiveActivities, inParts.ActiveActivities);

        // Damage in three units: a wrong cell, a missing one, one that no activity made.
        await api.ScalarAsync("""
            update stat_cells set v0 = v0 + 1 where (unit_id, period, bucket, kind, d1, d2) = (select unit_id, period, bucket, kind, d1, d2 from stat_cells where unit_id = 'lai-chau' order by bucket limit 1);
            delete from stat_cells where (unit_id, period, bucket, kind, d1, d2) = (select unit_id, period, bucket, kind, d1, d2 from stat_cells where unit_id = 'phong-tho' order by bucket desc limit 1);
            insert into stat_cells values ('don-ma-lu-thang', 'd', '1999-01-01', 'patrol', '', '', 1, 0, 0, 0, 0, 0, 0, 0);
            select 1
            """);
        var damagedWhole = await VerifyFigures.RunAsync(db, CancellationToken.None);
        var damagedInParts = await VerifyFigures.RunAsync(db, CancellationToken.None, maxCellsPerPart: 40);
        Assert.Equal(3, damagedWhole.DifferenceCount);
        Assert.Equal(damagedWhole.Differences.Select(d => d.Key).Order(StringComparer.Ordinal),
            damagedInParts.Differences.Select(d => d.Key).Order(StringComparer.Ordinal));
    }
}
