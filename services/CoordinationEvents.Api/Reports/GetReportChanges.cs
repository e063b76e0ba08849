using System.Text.Json;
using CoordinationEvents.Api.Activities;
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
/// <c>GET /api/v1/reports/{reportId}/changes</c>: what an inspector asks for. The report is computed again now (the
/// statistics caught up, at one position), its lines compared with the issued ones, and the activities with events
/// after the issued position are folded as they stood at the issue and as they stand now: those whose content
/// then or now falls in the report's unit subtree and period are the ones that make the difference.
/// </summary>
public static class GetReportChangesEndpoint
{
    [WolverineGet("/api/v1/reports/{reportId}/changes", Name = "IssuedReportChanges"), Authorize(Policy = Policies.Read), Tags("Reports")]
    [EndpointSummary("What changed since a report was issued: each line whose figures differ now ({section, line, issued, now}), and the activities recorded late, corrected or retracted after the issue that touch the report's units and period, each with its id, kind, dates, metrics before and now, and its events since the issue.")]
    [ProducesResponseType<ReportChanges>(200, "application/json")]
    [ProducesResponseType<HttpValidationProblemDetails>(400, "application/problem+json")] // a reportId that is not a UUID (no query parameter to make it conventional)
    [ProducesResponseType<ProblemDetails>(503, "application/problem+json")]
    public static async Task<Ok<ReportChanges>> Get(string reportId, UnitDirectory units, StatisticsReader reader, NpgsqlDataSource db, CancellationToken ct)
    {
        if (!Guid.TryParse(reportId, out var id)) throw new InputException(new Dictionary<string, string[]> { ["reportId"] = ["'reportId' is a report's id (a UUID)."] });
        var issued = await IssuedReportStore.LoadAsync(db, id, ct) ?? throw new ProblemException(404, "Not found", $"Report {id} does not exist.");

        var history = await units.GetAsync(ct);
        var unitId = issued.UnitId is { } u && history.Knows(u) ? u : null;
        // Issued with its figures carried forward: it says so in its lineage section.
        var lineage = unitId is not null && issued.Report.Sections.Any(s => s.Title == ReportLineage.SectionTitle);
        var query = new StatisticsQuery(issued.From, issued.To, unitId, [], new Dictionary<string, IReadOnlyList<string>>(), ReviewFigures.GroupBy, lineage);
        var read = await StatisticsPosition.QueryCaughtUpAsync(db, reader, query, history, IssueReportEndpoint.CatchUpTimeout, ct);
        var tree = ReportLineage.TreeAtEnd(history, unitId, issued.To);
        var now = unitId is null
            ? ReviewReport.Build(issued.UnitId, issued.Report.UnitName, issued.From, issued.To, ReviewFigures.Empty)
            : ReportLineage.Add(ReviewReport.Build(unitId, tree.Find(unitId)!.Name, issued.From, issued.To, ReviewFigures.From(read.Statistics)), read.Statistics);

        var subtree = issued.Subtree.Concat(unitId is null ? [] : tree.Subtree(unitId)).ToHashSet(StringComparer.Ordinal);
        var activities = await ActivitiesSinceAsync(db, issued.Position, read.Position, subtree, issued.From, issued.To, ct);
        return TypedResults.Ok(new ReportChanges(id, issued.Position, read.Position, CompareLines(issued.Report, now), activities));
    }

    /// <summary>
    /// The lines that differ. A line is matched with the line of the same section that shows the same first
    /// metric (its subject: patrols, cases …), else any shared metric; a line only in one report has null on the other side.
    /// </summary>
    public static IReadOnlyList<ReportLineChange> CompareLines(ReviewReportDocument issued, ReviewReportDocument now)
    {
        static string Subject(string metric) => metric.Split('[')[0];
        var changes = new List<ReportLineChange>();
        var sections = issued.Sections.Select(s => s.Title).Concat(now.Sections.Select(s => s.Title)).Distinct().ToArray();
        foreach (var title in sections)
        {
            var before = issued.Sections.FirstOrDefault(s => s.Title == title)?.Lines ?? [];
            var after = (now.Sections.FirstOrDefault(s => s.Title == title)?.Lines ?? []).ToList();
            foreach (var line in before)
            {
                var match = after.FirstOrDefault(l => l.Metrics.Count > 0 && line.Metrics.Count > 0 && l.Metrics[0] == line.Metrics[0])
                    ?? after.FirstOrDefault(l => l.Metrics.Select(Subject).Intersect(line.Metrics.Select(Subject)).Any()
                        && l.Text.Split(' ')[0] == line.Text.Split(' ')[0]);
                if (match is not null) after.Remove(match);
                if (match is null || match.Text != line.Text || !match.Values.SequenceEqual(line.Values))
                    changes.Add(new ReportLineChange(title, match?.Text ?? line.Text, line, match));
            }
            changes.AddRange(after.Select(l => new ReportLineChange(title, l.Text, null, l)));
        }
        return changes;
    }

    static async Task<IReadOnlyList<ReportActivityChange>> ActivitiesSinceAsync(NpgsqlDataSource db, long issued, long now,
        IReadOnlySet<string> subtree, DateOnly from, DateOnly to, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            select e.stream_id, e.seq_id, e.type, e.data::text, e.timestamp
            from mt_events e
            where e.stream_id in (select distinct stream_id from mt_events where seq_id > $1 and seq_id <= $2 and type = any($3))
              and e.seq_id <= $2 and e.type = any($3)
            order by e.stream_id, e.version
            """);
        cmd.Parameters.AddWithValue(issued);
        cmd.Parameters.AddWithValue(now);
        cmd.Parameters.AddWithValue(ActivityEventTypes.All.ToArray());
        var streams = new List<(Guid Id, List<(long Seq, string Type, ActivityEvent Event, DateTimeOffset At)> Events)>();
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                var streamId = reader.GetGuid(0);
                if (streams.Count == 0 || streams[^1].Id != streamId) streams.Add((streamId, []));
                streams[^1].Events.Add((reader.GetInt64(1), reader.GetString(2), ActivityEventTypes.Read(reader.GetString(2), reader.GetString(3)),
                    reader.GetFieldValue<DateTimeOffset>(4)));
            }
        }

        bool Counts(Activity state) => state is { Exists: true, Retracted: false, Content: { } c }
            && subtree.Contains(c.UnitId) && c.OccurredOn >= from && c.OccurredOn <= to;
        bool Touches(Activity state) => state is { Content: { } c } && subtree.Contains(c.UnitId) && c.OccurredOn >= from && c.OccurredOn <= to;

        var result = new List<ReportActivityChange>();
        foreach (var (activityId, events) in streams)
        {
            var before = Activity.Fold(events.Where(e => e.Seq <= issued).Select(e => e.Event));
            var after = Activity.Fold(events.Select(e => e.Event));
            if (!Counts(before) && !Counts(after)) continue;
            if (!Touches(before) && !Touches(after)) continue;
            var since = events.Where(e => e.Seq > issued).ToArray();
            var change = !before.Exists ? "recorded" : after.Retracted ? "retracted" : "corrected";
            result.Add(new ReportActivityChange(activityId, (after.Content ?? before.Content)!.Kind, change,
                before.Content?.UnitId, after.Content?.UnitId, before.Content?.OccurredOn, after.Content?.OccurredOn,
                Metrics(before), Metrics(after),
                since.Select(e => new ReportActivityEvent(e.Seq, e.Type, e.At)).ToArray()));
        }
        return result;
    }

    /// <summary>The activity's figures as they counted: none when it did not exist or was retracted.</summary>
    static IReadOnlyDictionary<string, decimal> Metrics(Activity state)
    {
        var metrics = new SortedDictionary<string, decimal>(StringComparer.Ordinal);
        if (state is not { Exists: true, Retracted: false, Content: { } content }) return metrics;
        foreach (var (name, value) in content.Details)
            if (value.ValueKind == JsonValueKind.Number && value.TryGetDecimal(out var number)) metrics[name] = number;
        return metrics;
    }
}
