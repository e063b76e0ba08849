using System.Text;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Statistics;
using CoordinationEvents.Contracts.V1;

using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace CoordinationEvents.Api.Reports;

/// <summary>The review report (sơ kết, tổng kết) for a unit and period, from one statistics query.</summary>
public static class GetReviewReportEndpoint
{
    [WolverineGet("/api/v1/reports/review", Name = "ReviewReport"), Authorize(Policy = Policies.Read), Tags("Reports")]
    [EnableRateLimiting(ExpensiveReads.Policy)]
    [EndpointSummary("The review report of a unit's subtree (or of every unit) for a period, in the officials' phrasing and Vietnamese number format. format=markdown gives a document ready to paste.")]
    [ProducesResponseType<ReviewReportDocument>(200, "application/json", "text/markdown")]
    public static async Task<IResult> Get(HttpContext http, UnitDirectory units, StatisticsReader reader, CancellationToken ct,
        string? unitId = null, string? from = null, string? to = null, string? format = null)
    {
        var errors = new Dictionary<string, string[]>();
        var (fromDate, toDate) = VietnamCalendar.ParsePeriod(from, to, errors, required: true);
        if (format is not (null or "json" or "markdown")) errors["format"] = ["'format' is json (the default) or markdown."];
        var tree = await units.GetKnowingAsync([unitId], ct);
        if (unitId is not null && !tree.Exists(unitId)) errors["unitId"] = [$"Unknown unit '{unitId}'."];
        if (errors.Count > 0) throw new InputException(errors);

        var query = new StatisticsQuery(fromDate!.Value, toDate!.Value, unitId, [], new Dictionary<string, IReadOnlyList<string>>(), ReviewFigures.GroupBy);
        var figures = ReviewFigures.From(await reader.QueryAsync(query, tree, ct));
        var unitName = unitId is null ? "Toàn bộ các đơn vị" : tree.Find(unitId)!.Name;
        var report = ReviewReport.Build(unitId, unitName, query.From, query.To, figures);
        return format == "markdown"
            ? Results.Text(ReviewReport.ToMarkdown(report), "text/markdown; charset=utf-8", Encoding.UTF8)
            : TypedResults.Ok(report);
    }
}
