using System.IO.Pipelines;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Auth;
using CoordinationEvents.Api.Http;
using CoordinationEvents.Contracts.V1;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;
using Npgsql;
using NpgsqlTypes;
using Wolverine;
using Wolverine.Http;

namespace CoordinationEvents.Api.Imports;

/// <summary>
/// Backfills as a durable job. <c>POST /api/v1/imports</c> streams an NDJSON body (one activity per line, as the
/// body of a single POST) into <c>import_lines</c> by binary COPY, one COPY per chunk of <see cref="ChunkSize"/>
/// lines, never holding more than one line in memory; then commits the job row and the message for its first chunk
/// together (Wolverine's outbox in Marten's transaction) and answers 202. <see cref="ImportChunkHandler"/> works
/// through the chunks on Wolverine's durable local queue. <c>GET /api/v1/imports/{id}</c> gives the state.
/// </summary>
public static class ImportEndpoints
{
    public const int MaxLines = 1_000_000;
    public const string MaxLinesSetting = "Imports:MaxLines";
    /// <summary>
    /// A chunk holds this many lines, or fewer when they reach <see cref="MaxChunkBytes"/>: what one transaction
    /// records. Small because the transaction holds its event sequence numbers from the append until the commit,
    /// and the daemon projects nothing after them meanwhile: 1,000 lines made the lag p99 during an import
    /// 701–1,008 ms; 250 made it 306 ms, at the same import rate (make bench).
    /// </summary>
    public const int ChunkSize = 250;
    public const long MaxChunkBytes = 16 * 1024 * 1024;
    /// <summary>A line holds one activity: the limit of a single POST.</summary>
    public const int MaxLineBytes = JsonBody.SingleLimit;
    /// <summary>The whole body: a million lines of about a kilobyte each.</summary>
    public const long MaxBodyBytes = 1L << 30;
    public const int DefaultInvalidLimit = 100;
    public const int MaxInvalidLimit = 1_000;

    public static readonly string[] MediaTypes = ["application/x-ndjson", "application/jsonl"];
    const string Tag = "Imports";

    [WolverinePost("/api/v1/imports", Name = "StartImport"), Authorize(Policy = Policies.Record), Tags(Tag), AcceptsNdjson]
    [EndpointSummary("Import up to 1,000,000 activities as NDJSON (application/x-ndjson or application/jsonl): one activity per line, each exactly as the body of POST /api/v1/activities. Answers 202 with the job's Location; the lines are recorded in the background, idempotently, as a batch would record them.")]
    [ProducesResponseType<ImportAccepted>(202)]
    [ResponseHeader(202, "Location")]
    [ProducesResponseType<ProblemDetails>(400, "application/problem+json"), ProducesResponseType<ProblemDetails>(413, "application/problem+json"), ProducesResponseType<ProblemDetails>(415, "application/problem+json")]
    public static async Task<Accepted<ImportAccepted>> Start(HttpContext http, NpgsqlDataSource db, IDocumentSession session, IMessageBus bus, TimeProvider clock, IConfiguration configuration, CancellationToken ct)
    {
        if (!IsNdjson(http.Request.ContentType))
            throw new ProblemException(415, "Unsupported media type", $"Send the lines as {string.Join(" or ", MediaTypes)}: one activity per line.");
        if (http.Request.ContentLength > MaxBodyBytes) throw TooLarge();
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = MaxBodyBytes;

        var caller = Caller.From(http.User);
        var importId = Guid.CreateVersion7();
        var committed = false;
        try
        {
            // Imports:MaxLines may lower the limit (the tests do), never raise it.
            var maxLines = Math.Clamp(configuration.GetValue(MaxLinesSetting, MaxLines), 1, MaxLines);
            var (lines, chunks) = await UploadAsync(http.Request.BodyReader, db, importId, maxLines, ct);
            if (lines == 0) throw InputException.For(ActivityJson.BodyKey, "The body holds no lines; send one activity per line.");

            session.QueueSqlCommand($"""
                insert into {ImportStore.Jobs} (import_id, client, role, scope, correlation_id, lines, chunks, submitted_at)
                values (?, ?, ?, ?, ?, ?, ?, ?)
                """, importId, caller.Client, caller.Role, caller.IsScoped ? caller.Scope.ToArray() : Array.Empty<string>(),
                CorrelationId(http, importId), lines, chunks, clock.GetUtcNow());
            await bus.PublishAsync(new ImportChunk(importId, 0));
            await session.SaveChangesAsync(ct);
            committed = true;
            return TypedResults.Accepted($"/api/v1/imports/{importId}", new ImportAccepted(importId, ImportStatus.Queued, lines, chunks));
        }
        finally
        {
            if (!committed) await ImportStore.DeleteLinesAsync(db, importId);
        }
    }

    /// <summary>Streams the body into <c>import_lines</c>; returns how many lines (not blank) it held, in how many chunks.</summary>
    static async Task<(int Lines, int Chunks)> UploadAsync(PipeReader body, NpgsqlDataSource db, Guid importId, int maxLines, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        using var splitter = new NdjsonLines(MaxLineBytes);
        NpgsqlBinaryImporter? copy = null;
        int count = 0, chunk = 0, inChunk = 0;
        long bytes = 0, chunkBytes = 0;
        try
        {
            async Task AddAsync(NdjsonLine line)
            {
                if (line.IsBlank) return;
                if (count == maxLines)
                    throw new ProblemException(413, "Too many lines", $"An import holds at most {maxLines:N0} lines; split the file.");
                if (copy is null || inChunk == ChunkSize || chunkBytes >= MaxChunkBytes)
                {
                    // One COPY, and so one short transaction, per chunk: an upload never holds a transaction open for long.
                    if (copy is not null) { await copy.CompleteAsync(ct); await copy.DisposeAsync(); copy = null; chunk++; }
                    copy = await connection.BeginBinaryImportAsync($"copy {ImportStore.Lines} (import_id, chunk, line, body) from stdin (format binary)", ct);
                    inChunk = 0;
                    chunkBytes = 0;
                }
                await copy!.StartRowAsync(ct);
                await copy.WriteAsync(importId, NpgsqlDbType.Uuid, ct);
                await copy.WriteAsync(chunk, NpgsqlDbType.Integer, ct);
                await copy.WriteAsync(line.Number, NpgsqlDbType.Integer, ct);
                if (line.TooLong) await copy.WriteNullAsync(ct);
                else await copy.WriteAsync(line.Bytes, NpgsqlDbType.Bytea, ct);
                count++;
                inChunk++;
                chunkBytes += line.Bytes.Count;
            }

            while (true)
            {
                var read = await body.ReadAsync(ct);
                var data = read.Buffer;
                bytes += data.Length;
                if (bytes > MaxBodyBytes) throw TooLarge();
                while (splitter.TryTake(ref data, out var line)) await AddAsync(line);
                body.AdvanceTo(data.End);
                if (read.IsCompleted)
                {
                    if (splitter.TryFinish(out var last)) await AddAsync(last);
                    break;
                }
            }
            if (copy is not null) await copy.CompleteAsync(ct);
            return (count, count == 0 ? 0 : chunk + 1);
        }
        finally
        {
            if (copy is not null) await copy.DisposeAsync();
        }
    }

    [WolverineGet("/api/v1/imports/{importId}", Name = "GetImport"), Authorize(Policy = Policies.ReadOwn), Tags(Tag)]
    [EndpointSummary("An import's state (queued, running, completed, failed), its chunks done, its counts (created, duplicate, invalid, conflict) and one page of the lines not recorded with their errors, by line number (invalidLimit, default 100, at most 1,000; next page: invalidAfter=nextInvalidAfter). The client that posted it, analysts and admins may read it.")]
    [ProducesResponseType<ProblemDetails>(404, "application/problem+json")]
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

    static bool IsNdjson(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var type)
        && MediaTypes.Any(m => type.MediaType.Equals(m, StringComparison.OrdinalIgnoreCase))
        && (!type.Charset.HasValue || type.Charset.Length == 0 || type.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase));

    static string CorrelationId(HttpContext http, Guid importId) =>
        http.Request.Headers.TryGetValue("X-Correlation-Id", out var id) && id.ToString().Length is > 0 and <= 200 && Text.IsStorable(id.ToString())
            ? id.ToString() : $"import:{importId}";

    static ProblemException TooLarge() =>
        new(413, "Payload too large", $"An import body is at most {MaxBodyBytes >> 30} GiB and {MaxLines:N0} lines; split the file.");
}

/// <summary>
/// Marks the import endpoint as taking NDJSON lines of <see cref="ActivityRequest"/>, for OpenAPI
/// (<c>Swagger.RequestBodiesFilter</c>); the endpoint reads the body itself.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class AcceptsNdjsonAttribute : Attribute, IAcceptsMetadata
{
    public IReadOnlyList<string> ContentTypes => ImportEndpoints.MediaTypes;
    public Type? RequestType => typeof(ActivityRequest);
    public bool IsOptional => false;
}
