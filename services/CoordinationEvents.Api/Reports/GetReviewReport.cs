using System.Text;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Statistics;
using CoordinationEvents.Contracts.V1;

using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Mvc;
using Npgsql;
using Wolverine.Http;

namespace CoordinationEvents.Api.Reports;

/// <summary>The review report (sơ kết, tổng kết) for a unit and period, from one statistics query.</summary>
public static class GetReviewReportEndpoint
{
    [WolverineGet("/api/v1/reports/review", Name = "ReviewReport"), Authorize(Policy = Policies.Read), Tags("Reports")]
    [EnableRateLimiting(ExpensiveReads.Policy)]
    [EndpointSummary("The review report of a unit's subtree (or of every unit) for a period, in the officials' phrasing and Vietnamese number format. format=markdown gives a document ready to paste; format=docx (or the Word media type in Accept) the Word document in the official form (Decree 30/2020/NĐ-CP; a Party committee's form with issuerKind=party), headed by issuerKind, issuerParent, issuer, symbol, number, place, signer (repeatable), signerName and recipients (repeatable), each defaulting from the unit. asOf (an ISO instant with offset, or a date: the end of that day in Vietnam) gives the figures as the service knew them at that instant (transaction time); a future asOf is a 400.")]
    [ProducesResponseType<ReviewReportDocument>(200, "application/json", "text/markdown", ReviewDocx.MediaType)]
    public static async Task<IResult> Get(HttpContext http, UnitDirectory units, StatisticsReader reader, NpgsqlDataSource db, TimeProvider clock, CancellationToken ct,
        string? unitId = null, string? from = null, string? to = null, string? format = null, string? lineage = null, string? asOf = null)
    {
        var knownAt = StatisticsAsOf.Parse(asOf, clock);
        var errors = new Dictionary<string, string[]>();
        var (fromDate, toDate) = VietnamCalendar.ParsePeriod(from, to, errors, required: true);
        format ??= ReportFormats.FromAccept(http);
        if (!ReportFormats.IsKnown(format)) errors["format"] = ["'format' is json (the default), markdown or docx."];
        var heading = ReportFormats.HeadingFromQuery(http.Request.Query);
        heading.Validate(errors);
        var history = await units.GetKnowingAsync([unitId], ct);
        if (unitId is not null && !history.Knows(unitId)) errors["unitId"] = [$"Unknown unit '{unitId}'."];
        var carry = ReportLineage.Parse(lineage, unitId, errors);
        if (errors.Count > 0) throw new InputException(errors);

        var query = new StatisticsQuery(fromDate!.Value, toDate!.Value, unitId, [], new Dictionary<string, IReadOnlyList<string>>(), ReviewFigures.GroupBy, carry);
        var statistics = knownAt is { } at ? await StatisticsAsOf.QueryAsync(db, reader, query, at, clock, ct) : await reader.QueryAsync(query, history, ct);
        var figures = ReviewFigures.From(statistics);
        // The unit as it was at the period's end (its name then), and the tree of that day.
        var tree = ReportLineage.TreeAtEnd(history, unitId, query.To);
        var unitName = unitId is null ? "Toàn bộ các đơn vị" : tree.Find(unitId)!.Name;
        var report = ReportLineage.Add(ReviewReport.Build(unitId, unitName, query.From, query.To, figures), statistics);
        return format switch
        {
            "markdown" => Results.Text(ReviewReport.ToMarkdown(report), "text/markdown; charset=utf-8", Encoding.UTF8),
            "docx" => ReportFormats.Docx(http, ReviewDocx.Render(report, ReportHeading.Resolve(heading, tree, unitId, VietnamCalendar.Today(clock))),
                ReportFormats.FileName(unitId, query.From, query.To)),
            _ => TypedResults.Ok(report),
        };
    }
}

/// <summary>The formats a report is served in, and how a request asks for them.</summary>
public static class ReportFormats
{
    public static bool IsKnown(string? format) => format is null or "json" or "markdown" or "docx";

    /// <summary>"docx" when Accept names the Word media type (and no format is given), else null (JSON).</summary>
    public static string? FromAccept(HttpContext http) =>
        http.Request.Headers.Accept.Any(a => a?.Contains(ReviewDocx.MediaType, StringComparison.OrdinalIgnoreCase) == true) ? "docx"
        : http.Request.Headers.Accept.Any(a => a?.Contains("text/markdown", StringComparison.OrdinalIgnoreCase) == true) ? "markdown"
        : null;

    public static ReportHeadingInput HeadingFromQuery(IQueryCollection q)
    {
        static string? One(IQueryCollection q, string name) => q.TryGetValue(name, out var v) && v.Count > 0 ? v[^1] : null;
        static string[]? Many(IQueryCollection q, string name) => q.TryGetValue(name, out var v) && v.Count > 0 ? v.Where(s => s is not null).Select(s => s!).ToArray() : null;
        return new ReportHeadingInput(One(q, "issuerKind"), One(q, "issuerParent"), One(q, "issuer"), One(q, "symbol"), One(q, "number"),
            One(q, "place"), Many(q, "signer"), One(q, "signerName"), Many(q, "recipients"));
    }

    /// <summary>"bao-cao-so-ket-phong-tho-2019-01-01-2024-12-31.docx": ASCII only, safe in any header.</summary>
    public static string FileName(string? unitId, DateOnly from, DateOnly to) =>
        $"bao-cao-so-ket-{unitId ?? "tat-ca"}-{from:yyyy-MM-dd}-{to:yyyy-MM-dd}.docx";

    public static IResult Docx(HttpContext http, byte[] bytes, string fileName)
    {
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"{fileName}\"";
        return Results.Bytes(bytes, ReviewDocx.MediaType);
    }
}
