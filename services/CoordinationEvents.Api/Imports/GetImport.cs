using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;
using Wolverine.Http;

namespace CoordinationEvents.Api.Imports;

/// <summary><c>GET /api/v1/imports/{importId}</c>: an import's state, counts and one page of its problem lines.</summary>
public static class GetImportEndpoint
{
    public const int DefaultInvalidLimit = 100;
    public const int MaxInvalidLimit = 1_000;

    [WolverineGet("/api/v1/imports/{importId}", Name = "GetImport"), Authorize(Policy = Policies.ReadOwn), Tags("Imports")]
    [EndpointSummary("An import's state (queued, running, completed, failed), its chunks done, its counts (created, duplicate, invalid, conflict) and one page of the lines not recorded with their errors, by line number (invalidLimit, default 100, at most 1,000; next page: invalidAfter=nextInvalidAfter). The client that posted it, analysts and admins may read it.")]
    public static async Task<Results<Ok<ImportState>, ProblemHttpResult>> Get(
        Guid importId, HttpContext http, NpgsqlDataSource db, CancellationToken ct, int? invalidAfter = null, int? invalidLimit = null)
    {
        if (invalidAfter is < 0) throw InputException.For("invalidAfter", "'invalidAfter' must be a line number (0 or more).");
        if (invalidLimit is < 1 or > MaxInvalidLimit) throw InputException.For("invalidLimit", $"'invalidLimit' must be from 1 to {MaxInvalidLimit}.");
        var job = await ImportStore.LoadJobAsync(db, importId, ct);
        if (job is null) return TypedResults.Problem($"Import {importId} does not exist.", statusCode: 404, title: "Not found");
        var caller = Caller.From(http.User);
        if (caller.Role == Roles.Reporter && caller.Client != job.Client)
            throw new ProblemException(403, "Forbidden", "This import was posted by another client.");

        await using var batch = db.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand($"""
            select count(*)::int, coalesce(sum(created), 0)::int, coalesce(sum(duplicate), 0)::int, coalesce(sum(invalid), 0)::int,
                   coalesce(sum(conflict), 0)::int, max(completed_at)
            from {ImportStore.Chunks} where import_id = $1
            """) { Parameters = { new() { Value = importId } } });
        var limit = invalidLimit ?? DefaultInvalidLimit;
        batch.BatchCommands.Add(new NpgsqlBatchCommand($"""
            select line, status, errors from {ImportStore.Problems} where import_id = $1 and line > $2 order by line limit $3
            """) { Parameters = { new() { Value = importId }, new() { Value = invalidAfter ?? 0 }, new() { Value = limit + 1 } } });
        await using var reader = await batch.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        var done = reader.GetInt32(0);
        var counts = new ImportCounts(reader.GetInt32(1), reader.GetInt32(2), reader.GetInt32(3), reader.GetInt32(4));
        DateTimeOffset? lastDone = reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5);
        await reader.NextResultAsync(ct);
        var problems = new List<ImportLineProblem>();
        while (await reader.ReadAsync(ct))
            problems.Add(new ImportLineProblem(reader.GetInt32(0), reader.GetString(1), ImportStore.ErrorsFrom(reader.GetString(2))));
        int? next = null;
        if (problems.Count > limit) { problems.RemoveAt(limit); next = problems[^1].Line; }

        var status = done == job.Chunks ? ImportStatus.Completed
            : job.FailedAt is not null ? ImportStatus.Failed
            : done > 0 ? ImportStatus.Running
            : ImportStatus.Queued;
        return TypedResults.Ok(new ImportState(importId, status, job.Lines, job.Chunks, done, counts, problems, next,
            job.SubmittedAt, status == ImportStatus.Completed ? lastDone : job.FailedAt, job.Failure));
    }
}
