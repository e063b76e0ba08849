using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Statistics;
using CoordinationEvents.Contracts.V1;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;
using Wolverine.Http;

namespace CoordinationEvents.Api.Reports;

/// <summary>
/// <c>POST /api/v1/reports</c>: issues a report. Its figures are read with the statistics caught up to the daemon's
/// high water mark as read at the call (every event committed before it), at one exact event position; the report
/// is rendered as JSON, Markdown and Word once, and the bytes are stored with that position, the issuer and a hash.
/// </summary>
public static class IssueReportEndpoint
{
    /// <summary>How long an issue waits for the statistics to catch up before it answers 503.</summary>
    public static TimeSpan CatchUpTimeout { get; set; } = TimeSpan.FromSeconds(30);

    [WolverinePost("/api/v1/reports", Name = "IssueReport"), Authorize(Policy = Policies.Read), Tags("Reports")]
    [EndpointSummary("Issue a report: its figures (at the event position the statistics have caught up to), parameters, heading, issuer and time are frozen; GET its Location gives it byte for byte as issued, as json, markdown or docx.")]
    [EndpointDescription("Example: {\"kind\":\"review\",\"unitId\":\"phong-tho\",\"from\":\"2019-01-01\",\"to\":\"2024-12-31\",\"number\":\"125\",\"signer\":{\"title\":[\"TM. ỦY BAN NHÂN DÂN\",\"KT. CHỦ TỊCH\",\"PHÓ CHỦ TỊCH\"],\"name\":\"Mai Thị Hồng Sim\"}}")]
    [ProducesResponseType<IssuedReportSummary>(201, "application/json")]
    [ProducesResponseType<ProblemDetails>(503, "application/problem+json")]
    public static async Task<Created<IssuedReportSummary>> Post(IssueReportRequest request, HttpContext http, UnitDirectory units, StatisticsReader reader,
        NpgsqlDataSource db, TimeProvider clock, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (request.Kind != "review") errors["kind"] = ["'kind' is required: review."];
        var (fromDate, toDate) = VietnamCalendar.ParsePeriod(request.From, request.To, errors, required: true);
        var heading = new ReportHeadingInput(request.Issuer?.Kind, request.Issuer?.Parent, request.Issuer?.Name, request.Issuer?.Symbol,
            request.Number, request.Place, request.Signer?.Title, request.Signer?.Name, request.Recipients);
        heading.Validate(errors);
        var history = await units.GetKnowingAsync([request.UnitId], ct);
        if (request.UnitId is null) errors["unitId"] = ["'unitId' is required."];
        else if (!history.Knows(request.UnitId)) errors["unitId"] = [$"Unknown unit '{request.UnitId}'."];
        if (errors.Count > 0) throw new InputException(errors);

        var unitId = request.UnitId!;
        var query = new StatisticsQuery(fromDate!.Value, toDate!.Value, unitId, [], new Dictionary<string, IReadOnlyList<string>>(), ReviewFigures.GroupBy,
            request.Lineage == true);
        var read = await StatisticsPosition.QueryCaughtUpAsync(db, reader, query, history, CatchUpTimeout, ct);
        // The unit as it was at the period's end: its name, ancestors and subtree then.
        var tree = ReportLineage.TreeAtEnd(history, unitId, query.To);
        // Microseconds: what timestamptz keeps, so the stored time and the JSON's agree.
        var now = StatisticsProjection.ToMicroseconds(clock.GetUtcNow());
        var unit = tree.Find(unitId)!;
        var report = new IssuedReport(
            Guid.CreateVersion7(now), "review", unitId,
            tree.SelfAndAncestors(unitId).Reverse().ToArray(), tree.Subtree(unitId).ToArray(),
            query.From, query.To, read.Position, now, Caller.From(http.User).Client,
            ReportHeading.Resolve(heading, tree, unitId, VietnamCalendar.DateAt(now)),
            ReportLineage.Add(ReviewReport.Build(unitId, unit.Name, query.From, query.To, ReviewFigures.From(read.Statistics)), read.Statistics));
        var hash = await IssuedReportStore.InsertAsync(db, report, ct);
        return TypedResults.Created($"/api/v1/reports/{report.ReportId}", new IssuedReportSummary(report.ReportId, report.Kind, unitId,
            report.From, report.To, report.Heading.Number, report.Position, report.IssuedAt, report.IssuedBy, hash));
    }
}

/// <summary><c>GET /api/v1/reports/{reportId}</c>: an issued report, byte for byte as issued.</summary>
public static class GetIssuedReportEndpoint
{
    [WolverineGet("/api/v1/reports/{reportId}", Name = "IssuedReport"), Authorize(Policy = Policies.Read), Tags("Reports")]
    [EndpointSummary("An issued report, byte for byte as it was issued, whatever was recorded, corrected or rebuilt since: format=json (the default: parameters, position, issuer, heading and figures), markdown or docx (also by Accept). Repr-Digest carries the SHA-256 of the bytes.")]
    [ProducesResponseType<IssuedReport>(200, "application/json", "text/markdown", ReviewDocx.MediaType)]
    public static async Task<IResult> Get(string reportId, HttpContext http, NpgsqlDataSource db, CancellationToken ct, string? format = null)
    {
        format ??= ReportFormats.FromAccept(http);
        var errors = new Dictionary<string, string[]>();
        if (!ReportFormats.IsKnown(format)) errors["format"] = ["'format' is json (the default), markdown or docx."];
        if (!Guid.TryParse(reportId, out var id)) errors["reportId"] = ["'reportId' is a report's id (a UUID)."];
        if (errors.Count > 0) throw new InputException(errors);
        var stored = await IssuedReportStore.LoadBytesAsync(db, id, format ?? "json", ct)
            ?? throw new ProblemException(404, "Not found", $"Report {id} does not exist.");
        http.Response.Headers["Repr-Digest"] = $"sha-256=:{Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(stored.Bytes))}:";
        http.Response.Headers["X-Content-Hash"] = stored.Hash;
        return format switch
        {
            "markdown" => Results.Bytes(stored.Bytes, "text/markdown; charset=utf-8"),
            "docx" => ReportFormats.Docx(http, stored.Bytes, stored.FileName),
            _ => Results.Bytes(stored.Bytes, "application/json; charset=utf-8"),
        };
    }
}

/// <summary><c>GET /api/v1/reports?unitId=&amp;from=&amp;to=</c>: the issued reports, newest first.</summary>
public static class ListIssuedReportsEndpoint
{
    [WolverineGet("/api/v1/reports", Name = "IssuedReports"), Authorize(Policy = Policies.Read), Tags("Reports")]
    [EndpointSummary("The issued reports, newest first (at most limit, default 100): of one unit when unitId is given, overlapping the period when from or to is given.")]
    [ProducesResponseType<IssuedReportList>(200, "application/json")]
    public static async Task<Ok<IssuedReportList>> Get(UnitDirectory units, NpgsqlDataSource db, CancellationToken ct,
        string? unitId = null, string? from = null, string? to = null, int? limit = null)
    {
        var errors = new Dictionary<string, string[]>();
        var (fromDate, toDate) = VietnamCalendar.ParsePeriod(from, to, errors, required: false);
        if (limit is < 1 or > 1000) errors["limit"] = ["'limit' is between 1 and 1000."];
        var history = await units.GetKnowingAsync([unitId], ct);
        if (unitId is not null && !history.Knows(unitId)) errors["unitId"] = [$"Unknown unit '{unitId}'."];
        if (errors.Count > 0) throw new InputException(errors);
        return TypedResults.Ok(new IssuedReportList(await IssuedReportStore.ListAsync(db, unitId, fromDate, toDate, limit ?? 100, ct)));
    }
}
