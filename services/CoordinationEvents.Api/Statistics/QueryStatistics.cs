using System.Globalization;
using System.Text;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;

using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Mvc;
using Npgsql;
using Wolverine.Http;

namespace CoordinationEvents.Api.Statistics;

/// <summary><c>GET /api/v1/statistics</c>: exact figures for a unit's subtree and a period, as JSON or CSV.</summary>
public static class QueryStatisticsEndpoint
{
    [WolverineGet("/api/v1/statistics", Name = "Statistics"), Authorize(Policy = Policies.Read), Tags("Statistics")]
    [EnableRateLimiting(ExpensiveReads.Policy), LightStatistics]
    [EndpointSummary("Figures for a unit's subtree and a period (from, to inclusive), optionally by kind, and grouped by kind, unit, year, quarter, month or a dimension. Any dimension name filters (comma-separated values). Accept: text/csv gives the rows as CSV.")]
    [EndpointDescription("Example: ?from=2019-01-01&to=2024-06-30&unitId=phong-tho&kind=patrol,crime-bust&groupBy=kind,year&category=drugs")]
    [ProducesResponseType<StatisticsResponse>(200, "application/json", "text/csv")]
    public static async Task<IResult> Get(HttpContext http, UnitDirectory units, StatisticsReader reader, NpgsqlDataSource db, TimeProvider clock, CancellationToken ct)
    {
        var history = await units.GetKnowingAsync([http.Request.Query["unitId"].ToString() is { Length: > 0 } u ? u : null], ct);
        var query = StatisticsQuery.Parse(http.Request.Query, history);
        // asOf: the figures as known at that instant (StatisticsAsOf), else the live ones.
        var result = StatisticsAsOf.Parse(http.Request.Query[StatisticsAsOf.Parameter], clock) is { } asOf
            ? await StatisticsAsOf.QueryAsync(db, reader, query, asOf, clock, ct)
            : await reader.QueryAsync(query, history, ct);
        // `format` is a dimension (a meeting's format), so CSV is asked for with the Accept header only.
        var wantsCsv = http.Request.Headers.Accept.Any(a => a?.Contains("text/csv", StringComparison.OrdinalIgnoreCase) == true);
        return wantsCsv
            ? Results.Stream(body => WriteCsvAsync(result, body, http.RequestAborted), "text/csv; charset=utf-8")
            : TypedResults.Ok(result);
    }

    /// <summary>
    /// The rows as CSV, written to the answer as they are formatted (never as one string): the groupBy keys, then every
    /// metric that any row has, in catalog order.
    /// </summary>
    static async Task WriteCsvAsync(StatisticsResponse result, Stream body, CancellationToken ct)
    {
        var metrics = KindCatalog.MetricNames.Where(m => result.Rows.Any(r => r.Metrics.ContainsKey(m))).ToArray();
        if (result.Rows.Count == 0) metrics = KindCatalog.MetricNames.Where(result.Totals.ContainsKey).ToArray();
        await using var csv = new StreamWriter(body, new UTF8Encoding(false), 16 * 1024) { NewLine = "\n" };
        await csv.WriteLineAsync(string.Join(',', result.GroupBy.Concat(metrics).Select(Escape)).AsMemory(), ct);
        var rows = result.GroupBy.Count == 0
            ? [new StatisticsRow(new Dictionary<string, string?>(), result.Totals)]
            : result.Rows;
        foreach (var row in rows)
            await csv.WriteLineAsync(string.Join(',', result.GroupBy.Select(g => Escape(row.Key.GetValueOrDefault(g) ?? ""))
                .Concat(metrics.Select(m => row.Metrics.GetValueOrDefault(m).ToString(CultureInfo.InvariantCulture)))).AsMemory(), ct);
    }

    static string Escape(string value) =>
        value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + value.Replace("\"", "\"\"") + "\"" : value;
}

/// <summary>
/// A statistics query is light (the light lane of <see cref="ExpensiveReads"/>) when its query string alone shows
/// little work: no <c>asOf</c> (a replay) and no <c>lineage</c>, a period of at most 10 years, no dimension in
/// <c>groupBy</c>, <c>groupBy=unit</c> only under a <c>unitId</c>, and at most 10 years by month (by kind, or not).
/// A dashboard's questions and a district's figures by year are light; all of time by month and unit is not.
/// </summary>
public sealed class LightStatisticsAttribute : ReadWeightAttribute
{
    public override bool IsLight(HttpRequest request)
    {
        var q = request.Query;
        if (q.ContainsKey(StatisticsAsOf.Parameter) || q.ContainsKey("lineage")) return false;
        if (!VietnamCalendar.TryParse(q["from"].ToString(), out var from) || !VietnamCalendar.TryParse(q["to"].ToString(), out var to)) return false;
        if (to < from || to.DayNumber - from.DayNumber > 3_660) return false;
        var groupBy = q["groupBy"].ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (groupBy.Any(KindCatalog.DimensionNames.Contains)) return false;
        return !groupBy.Contains(StatisticsQuery.Unit) || q["unitId"].ToString().Length > 0;
    }
}

