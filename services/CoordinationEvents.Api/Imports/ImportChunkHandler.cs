using System.Text.Json;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Auth;
using CoordinationEvents.Api.Http;
using CoordinationEvents.Api.Units;
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
/// <see cref="ActivityCommands.AppendAsync"/>, with the posting client as the scope of externalId), its result row
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
        UnitDirectory units, TimeProvider clock, CancellationToken ct)
    {
        if (await ImportStore.ChunkDoneAsync(db, message.ImportId, message.Chunk, ct)) return; // a redelivery: done once already
        var job = await ImportStore.LoadJobAsync(db, message.ImportId, ct);
        if (job is null || job.FailedAt is not null) return;

        var lines = await ImportStore.LoadLinesAsync(db, message.ImportId, message.Chunk, ct);
        var bodies = new JsonElement?[lines.Count];
        var problems = new List<(int Line, string Status, IReadOnlyDictionary<string, string[]> Errors)>();
        for (var i = 0; i < lines.Count; i++)
        {
            var (number, bytes) = lines[i];
            if (bytes is null)
            {
                problems.Add((number, BatchItemStatus.Invalid, One(ActivityJson.BodyKey,
                    $"The line is larger than {ImportEndpoints.MaxLineBytes / 1024} KiB, the limit of one activity.")));
                continue;
            }
            try
            {
                bodies[i] = JsonBody.Deserialize<JsonElement>(bytes);
            }
            catch (InputException e)
            {
                problems.Add((number, BatchItemStatus.Invalid, e.Errors));
            }
        }

        // The same checks as a batch's items: every rule, then the poster's unit scope.
        var caller = new Caller(job.Client, job.Role, job.Scope);
        var tree = await units.GetKnowingAsync(bodies.Where(b => b is not null).SelectMany(b => ActivityJson.UnitIdsIn(b!.Value)), ct);
        var today = ActivityValidation.VietnamDate(clock.GetUtcNow());
        var valid = new List<(int Line, RecordRequest Request)>();
        for (var i = 0; i < lines.Count; i++)
        {
            if (bodies[i] is not { } body) continue;
            var outcome = ActivityEndpoints.ValidateItem(body, caller, tree, today);
            if (!outcome.IsValid)
                problems.Add((lines[i].Line, BatchItemStatus.Invalid, outcome.Errors));
            else
                valid.Add((lines[i].Line, new RecordRequest(outcome.Content!, job.Client, job.CorrelationId)));
        }

        var results = valid.Count == 0 ? [] : await ActivityCommands.AppendAsync(session, valid.Select(v => v.Request).ToArray(), clock.GetUtcNow(), ct);
        int created = 0, duplicate = 0, conflict = 0;
        foreach (var ((line, _), result) in valid.Zip(results))
        {
            switch (result.Status)
            {
                case RecordStatus.Created: created++; break;
                case RecordStatus.Duplicate: duplicate++; break;
                default:
                    conflict++;
                    problems.Add((line, BatchItemStatus.Conflict, One("externalId", ActivityEndpoints.ConflictMessage)));
                    break;
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
        // Wolverine's transactional middleware commits the session, then sends the outbox's message.
    }

    static IReadOnlyDictionary<string, string[]> One(string key, string message) => new Dictionary<string, string[]> { [key] = [message] };

    static string Storable(string text)
    {
        var clean = new string(text.Where(c => c != '\0' && !char.IsSurrogate(c)).ToArray());
        return clean.Length > 2_000 ? clean[..2_000] : clean;
    }
}
