using System.IO.Pipelines;
using CoordinationEvents.Api.Core;
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
public static class StartImportEndpoint
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
    public const int MaxLineBytes = JsonInput.SingleLimit;
    /// <summary>The whole body: a million lines of about a kilobyte each.</summary>
    public const long MaxBodyBytes = 1L << 30;

    public static readonly string[] MediaTypes = ["application/x-ndjson", "application/jsonl"];
    const string Tag = "Imports";

    [WolverinePost("/api/v1/imports", Name = "StartImport"), Authorize(Policy = Policies.Record), Tags(Tag), AcceptsNdjson]
    [EndpointSummary("Import up to 1,000,000 activities as NDJSON (application/x-ndjson or application/jsonl): one activity per line, each exactly as the body of POST /api/v1/activities. Answers 202 with the job's Location; the lines are recorded in the background, idempotently, as a batch would record them.")]
    [ProducesResponseType<ImportAccepted>(202), ResponseHeader(202, "Location")]
    [ResponseHeader(202, "Location")]
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
            // The body is first spooled to a temporary file while its lines are counted, at the speed it arrives: a body
            // over the limit is refused as soon as it crosses it, before anything is written to the database (COPY
            // is the slower part: a million tiny lines took 22-26 s to reach their 413 when counted while copied).
            await using var spool = await SpoolAsync(http.Request.BodyReader, maxLines, ct);
            var (lines, chunks) = await UploadAsync(PipeReader.Create(spool, new StreamPipeReaderOptions(bufferSize: 64 * 1024, leaveOpen: true)), db, importId, maxLines, ct);
            if (lines == 0) throw InputException.For(JsonInput.BodyKey, "The body holds no lines; send one activity per line.");

            session.QueueSqlCommand($"""
                insert into {ImportStore.Jobs} (import_id, client, role, scope, correlation_id, lines, chunks, submitted_at)
                values (?, ?, ?, ?, ?, ?, ?, ?)
                """, importId, caller.Client, caller.Role, caller.IsScoped ? caller.Scope.ToArray() : Array.Empty<string>(),
                RequestHeaders.CorrelationId(http, $"import:{importId}"), lines, chunks, clock.GetUtcNow());
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

    /// <summary>
    /// Copies the body to a temporary file (deleted when closed) and counts its lines (not blank) as
    /// <see cref="UploadAsync"/> will: throws the 413 at the first line over <paramref name="maxLines"/> or byte over
    /// <see cref="MaxBodyBytes"/>. Returns the file, rewound.
    /// </summary>
    static async Task<FileStream> SpoolAsync(PipeReader body, int maxLines, CancellationToken ct)
    {
        var file = new FileStream(Path.Combine(Path.GetTempPath(), $"import-{Guid.NewGuid():N}.ndjson"), FileMode.CreateNew, FileAccess.ReadWrite,
            FileShare.None, 64 * 1024, FileOptions.Asynchronous | FileOptions.DeleteOnClose);
        try
        {
            using var splitter = new NdjsonLines(MaxLineBytes);
            long bytes = 0;
            var count = 0;
            void Count(NdjsonLine line)
            {
                if (line.IsBlank) return;
                if (++count > maxLines) throw TooManyLines(maxLines);
            }
            while (true)
            {
                var read = await body.ReadAsync(ct);
                var data = read.Buffer;
                bytes += data.Length;
                if (bytes > MaxBodyBytes) throw TooLarge();
                foreach (var segment in data) await file.WriteAsync(segment, ct);
                while (splitter.TryTake(ref data, out var line)) Count(line);
                body.AdvanceTo(data.End);
                if (read.IsCompleted)
                {
                    if (splitter.TryFinish(out var last)) Count(last);
                    break;
                }
            }
            await file.FlushAsync(ct);
            file.Position = 0;
            return file;
        }
        catch
        {
            await file.DisposeAsync();
            throw;
        }
    }

    static ProblemException TooManyLines(int maxLines) =>
        new(413, "Too many lines", $"An import holds at most {maxLines:N0} lines; split the file.");

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
                if (count == maxLines) throw TooManyLines(maxLines);
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

    static bool IsNdjson(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var type)
        && MediaTypes.Any(m => type.MediaType.Equals(m, StringComparison.OrdinalIgnoreCase))
        && (!type.Charset.HasValue || type.Charset.Length == 0 || type.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase));

    static ProblemException TooLarge() =>
        new(413, "Payload too large", $"An import body is at most {MaxBodyBytes >> 30} GiB and {MaxLines:N0} lines; split the file.");
}

/// <summary>
/// Marks the import endpoint as taking NDJSON lines of <see cref="ActivityRequest"/>, for OpenAPI (the endpoint reads
/// the body itself): the schema of one line, the limits in words, and an example of two lines.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class AcceptsNdjsonAttribute : Attribute, IRequestBodyDoc
{
    public IReadOnlyList<string> ContentTypes => StartImportEndpoint.MediaTypes;
    public Type? RequestType => typeof(ActivityRequest);
    public bool IsOptional => false;

    public string Description =>
        $"NDJSON: one activity per line (UTF-8, lines end with \\n), each exactly as the body of POST /api/v1/activities (the schema ActivityRequest); blank lines are skipped; at most {StartImportEndpoint.MaxLines:N0} lines.";

    public string SchemaDescription => "NDJSON lines, each an ActivityRequest.";

    public string? Example => string.Join("\n", new[] { "patrol", "crime-bust" }.Select((kind, i) =>
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(Activities.ActivityExamples.ByKind[kind])!.AsObject();
        node["externalId"] = $"backfill-{i + 1}";
        return node.ToJsonString();
    })) + "\n";
}
