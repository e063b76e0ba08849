using CoordinationEvents.Api.Auth;
using CoordinationEvents.Api.Statistics;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Authorization;
using Npgsql;
using Wolverine.Http;

namespace CoordinationEvents.Api.Admin;

/// <param name="Position">The last event (Marten sequence) the projection has applied.</param>
/// <param name="Lag">Events committed after <paramref name="Position"/>: not applied yet.</param>
public sealed record ProjectionStatus(
    string Name,
    long Position,
    long Lag,
    DateTimeOffset? UpdatedAt,
    bool Rebuilding,
    DateTimeOffset? RebuildRequestedAt,
    DateTimeOffset? LastRebuildCompletedAt,
    string? LastError);

/// <param name="Head">The highest event sequence in the store.</param>
/// <param name="HighWaterMark">The daemon's high water mark: every event at or below it is committed.</param>
/// <param name="RunsProjectionsHere">Whether the instance that answered runs the async projections (HotCold: exactly one does).</param>
public sealed record ProjectionsResponse(long Head, long HighWaterMark, bool RunsProjectionsHere, IReadOnlyList<ProjectionStatus> Projections);

public sealed record RebuildAccepted(string Name, string Status);

/// <summary>What administrators watch: projections, their lag, rebuilds and the consistency check.</summary>
public static class AdminEndpoints
{
    public static async Task<ProjectionsResponse> StatusAsync(NpgsqlDataSource db, bool runsHere, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand($"""
            select coalesce((select max(seq_id) from mt_events), 0),
                   coalesce((select last_seq_id from mt_event_progression where name = 'HighWaterMark'), 0),
                   coalesce(p.last_seq_id, 0),
                   -- Counted, not subtracted (sequence gaps are no events), but at most 1,000,000: the endpoint is polled.
                   (select count(*) from (select from mt_events e where e.seq_id > coalesce(p.last_seq_id, 0) limit 1000000) behind),
                   p.last_updated,
                   r.started_at is not null and (r.completed_at is null or r.started_at > r.completed_at),
                   r.requested_at, r.completed_at, r.last_error
            from (select 1) one
            left join mt_event_progression p on p.name = $1
            left join {StatisticsRebuild.RequestTable} r on r.name = $2
            """);
        cmd.Parameters.AddWithValue(StatisticsProjection.ShardName);
        cmd.Parameters.AddWithValue(StatisticsProjection.ProjectionName);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        DateTimeOffset? Time(int i) => reader.IsDBNull(i) ? null : reader.GetFieldValue<DateTimeOffset>(i);
        var status = new ProjectionStatus(StatisticsProjection.ProjectionName, reader.GetInt64(2), reader.GetInt64(3), Time(4),
            reader.GetBoolean(5), Time(6), Time(7), reader.IsDBNull(8) ? null : reader.GetString(8));
        return new ProjectionsResponse(reader.GetInt64(0), reader.GetInt64(1), runsHere, [status]);
    }

    [WolverineGet("/api/v1/admin/projections", Name = "Projections"), Authorize(Policy = Policies.Admin), Tags("Admin")]
    [EndpointSummary("Each async projection's position (last applied event), the store's head, the daemon's high water mark, the lag, and whether this instance runs the projections.")]
    public static async Task<Ok<ProjectionsResponse>> Projections(NpgsqlDataSource db, StatisticsRebuild rebuild, CancellationToken ct) =>
        TypedResults.Ok(await StatusAsync(db, rebuild.RunsHere(), ct));

    [WolverinePost("/api/v1/admin/projections/{name}/rebuild", Name = "RebuildProjection"), Authorize(Policy = Policies.Admin), Tags("Admin")]
    [EndpointSummary("Refills the projection's tables from the events in one pass and hands the position back to the daemon; the old figures are served until the swap.")]
    [Http.ResponseHeader(202, "Location")]
    public static async Task<Results<Accepted<RebuildAccepted>, ProblemHttpResult>> Rebuild(string name, StatisticsRebuild rebuild, CancellationToken ct)
    {
        if (!await rebuild.RequestAsync(name, ct))
            return TypedResults.Problem($"There is no projection '{name}'. Known: {StatisticsProjection.ProjectionName}.", statusCode: 404, title: "Not found");
        return TypedResults.Accepted("/api/v1/admin/projections", new RebuildAccepted(name, "requested"));
    }

    [WolverineGet("/api/v1/admin/verify", Name = "Verify"), Authorize(Policy = Policies.Admin), Tags("Admin")]
    [EndpointSummary("Recomputes the statistics from the raw events and compares them with the projection at its position. Zero differences expected.")]
    public static async Task<Ok<ConsistencyReport>> Verify(ConsistencyCheck check, CancellationToken ct) =>
        TypedResults.Ok(await check.RunAsync(ct));
}
