using System.Text.Json;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;
using Marten;
using Npgsql;
using Wolverine;
using Wolverine.ErrorHandling;
using Wolverine.Runtime.Handlers;

namespace CoordinationEvents.Api.Imports;

/// <summary>The next chunk of an import to record: a durable local message, stored with the transaction that sends it.</summary>
public sealed record ImportChunk(Guid ImportId, int Chunk);

/// <summary>
/// Records one chunk of an import, in one transaction (Wolverine's transactional middleware around the Marten
/// session, <c>AutoApplyTransactions</c>): the chunk's new activities (the batch's idempotent path,
/// <see cref="ActivityRecorder.RecordItemsAsync"/>, with the posting client as the scope of externalId), its result row
/// and its problem lines, the deletion of its raw lines, and the message for the next chunk (the outbox).
/// <para>
/// Redelivery (the process died after the commit but before the message was marked handled, or a retry): the
/// result row exists, so the chunk is skipped; its events were appended once and the next chunk's message was
/// committed with them. A crash before the commit rolls everything back and the stored message is handled again,
/// here or by the next instance. Two deliveries racing: the result row's primary key lets one commit; the other
/// rolls back, is retried, and is then skipped. An activity that a concurrent POST starts first makes the commit
/// fail on the stream id; the retry finds it (duplicate or conflict).
/// </para>
/// </summary>
public static class ImportChunkHandler
{
    static readonly TimeSpan[] Cooldowns = [TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5)];

    /// <summary>
    /// A stream that a concurrent post started first: decide again shortly (the retry finds it), up to 20 times,
    /// while posts keep racing the chunk. Anything else: retries with cooldowns; after the last one the message goes to the dead letters
    /// and the job is marked failed.
    /// </summary>
    public static void Configure(HandlerChain chain)
    {
        chain.OnException<Marten.Exceptions.ExistingStreamIdCollisionException>()
            .RetryWithCooldown(Enumerable.Range(1, 20).Select(i => TimeSpan.FromMilliseconds(Math.Min(25 * i, 250))).ToArray())
            .Then.MoveToErrorQueue().And(MarkFailedAsync, "Mark the import failed");
        chain.OnException<Exception>().RetryWithCooldown(Cooldowns)
            .Then.MoveToErrorQueue().And(MarkFailedAsync, "Mark the import failed");
    }

    static async ValueTask MarkFailedAsync(Wolverine.Runtime.IWolverineRuntime runtime, IEnvelopeLifecycle lifecycle, Exception exception)
    {
        if (lifecycle.Envelope?.Message is not ImportChunk chunk) return;
        var db = runtime.Services.GetRequiredService<NpgsqlDataSource>();
        var reason = $"Chunk {chunk.Chunk + 1} could not be recorded after {lifecycle.Envelope.Attempts} attempts ({exception.GetType().Name}: {exception.Message})";
        await ImportStore.MarkFailedAsync(db, chunk.ImportId, Storable(reason), CancellationToken.None);
    }

    public static async Task HandleAsync(ImportChunk message, IDocumentSession session, IMessageBus bus, NpgsqlDataSource db,
        ActivityRecorder recorder, CancellationToken ct)
    {
        if (await ImportStore.ChunkDoneAsync(db, message.ImportId, message.Chunk, ct)) return; // a redelivery: done once already
        var job = await ImportStore.LoadJobAsync(db, message.ImportId, ct);
        if (job is null || job.FailedAt is not null) return;

        var lines = await ImportStore.LoadLinesAsync(db, message.ImportId, message.Chunk, ct);
        var items = lines.Select(line => line.Body is null
            ? new ItemInput(null, One(JsonInput.BodyKey, $"The line is larger than {StartImportEndpoint.MaxLineBytes / 1024} KiB, the limit of one activity."))
            : Read(line.Body)).ToArray();

        // The same checks and the same recording as a batch's items, in this chunk's transaction.
        var caller = new Caller(job.Client, job.Role, job.Scope);
        var results = await recorder.RecordItemsAsync(items, caller, job.CorrelationId, session, ct);
        var problems = new List<(int Line, string Status, IReadOnlyDictionary<string, string[]> Errors)>();
        int created = 0, duplicate = 0, conflict = 0;
        for (var i = 0; i < results.Count; i++)
        {
            var result = results[i];
            switch (result.Status)
            {
                case BatchItemStatus.Created: created++; break;
                case BatchItemStatus.Duplicate: duplicate++; break;
                case BatchItemStatus.Conflict: conflict++; problems.Add((lines[i].Line, result.Status, result.Errors!)); break;
                default: problems.Add((lines[i].Line, result.Status, result.Errors!)); break;
            }
        }
        var invalid = problems.Count - conflict;

        // Written once, in the transaction of the chunk's events: the guard against counting a chunk twice.
        session.QueueSqlCommand($"""
            insert into {ImportStore.Chunks} (import_id, chunk, created, duplicate, invalid, conflict, completed_at)
            values (?, ?, ?, ?, ?, ?, now())
            """, message.ImportId, message.Chunk, created, duplicate, invalid, conflict);
        if (problems.Count > 0)
            session.QueueSqlCommand($"""
                insert into {ImportStore.Problems} (import_id, line, status, errors)
                select ?, p.line, p.status, p.errors from unnest(cast(? as integer[]), cast(? as text[]), cast(? as text[])) as p(line, status, errors)
                """, message.ImportId, problems.Select(p => p.Line).ToArray(), problems.Select(p => p.Status).ToArray(),
                problems.Select(p => ImportStore.ErrorsJson(p.Errors)).ToArray());
        session.QueueSqlCommand($"delete from {ImportStore.Lines} where import_id = ? and chunk = ?", message.ImportId, message.Chunk);
        if (message.Chunk + 1 < job.Chunks) await bus.PublishAsync(message with { Chunk = message.Chunk + 1 });
        // The lines by outcome (Core/Telemetry.cs), counted once the chunk's transaction has committed.
        session.Listeners.Add(new CountLinesAfterCommit(created, duplicate, invalid, conflict));
        // Wolverine's transactional middleware commits the session, then sends the outbox's message.
    }

    sealed class CountLinesAfterCommit(int created, int duplicate, int invalid, int conflict) : DocumentSessionListenerBase
    {
        public override Task AfterCommitAsync(IDocumentSession session, Marten.Services.IChangeSet commit, CancellationToken token)
        {
            Add(created, "created");
            Add(duplicate, "duplicate");
            Add(invalid, "invalid");
            Add(conflict, "conflict");
            return Task.CompletedTask;
        }

        static void Add(int count, string outcome)
        {
            if (count > 0) Telemetry.ImportLines.Add(count, new KeyValuePair<string, object?>("outcome", outcome));
        }
    }

    static ItemInput Read(byte[] line)
    {
        try
        {
            return new ItemInput(JsonInput.Deserialize<JsonElement>(line));
        }
        catch (InputException e)
        {
            return new ItemInput(null, e.Errors);
        }
    }

    static IReadOnlyDictionary<string, string[]> One(string key, string message) => new Dictionary<string, string[]> { [key] = [message] };

    static string Storable(string text)
    {
        var clean = new string(text.Where(c => c != '\0' && !char.IsSurrogate(c)).ToArray());
        return clean.Length > 2_000 ? clean[..2_000] : clean;
    }
}
