using System.Security.Cryptography;
using System.Text;
using JasperFx.Events;
using Marten;
using Marten.Exceptions;

namespace CoordinationEvents.Api.Activities;

/// <summary>The result of recording one valid activity.</summary>
public enum RecordStatus { Created, Duplicate, Conflict }

public sealed record RecordResult(RecordStatus Status, Guid ActivityId, int Version);

/// <summary>A valid activity to record, with who sent it.</summary>
public sealed record RecordRequest(ActivityContent Content, string SourceSystem, string? CorrelationId);

/// <summary>The expected version (If-Match) is not the activity's version: a 412.</summary>
public sealed class StaleVersionException(Guid id, long expected, long actual)
    : Exception($"Activity {id} is at version {actual}, not {expected}.")
{
    public long Expected { get; } = expected;
}

/// <summary>
/// The idempotency key: an activity's stream id is a name-based UUID (RFC 9562 version 5) of the posting
/// system and its externalId. Marten's <c>mt_streams</c> primary key is then the guard that the database
/// enforces: of racing posts of one key, exactly one starts the stream; the others fail to, and find it.
/// No table of keys of our own, and no lookup before a write that could race.
/// </summary>
public static class ActivityIds
{
    static readonly Guid Namespace = new("6f1d6c1e-8c59-4c39-9d49-0b6a1f0c2e71");

    public static Guid For(string sourceSystem, string externalId)
    {
        var name = Encoding.UTF8.GetBytes($"{sourceSystem}\n{externalId}");
        var input = new byte[16 + name.Length];
        Namespace.TryWriteBytes(input, bigEndian: true, out _);
        name.CopyTo(input, 16);
        var hash = SHA1.HashData(input);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash.AsSpan(0, 16), bigEndian: true);
    }
}

/// <summary>
/// Records activities, idempotent per posting system and externalId: one Marten session and transaction per
/// call (a batch, a group of concurrent posts, an import chunk). Corrections and retractions go through
/// Wolverine's aggregate handler workflow instead (ActivityEndpoints).
/// </summary>
public sealed class ActivityCommands(IDocumentStore store, TimeProvider clock, ILogger<ActivityCommands> log)
{
    public const string ClientHeader = "client";

    /// <summary>
    /// Records many activities in one transaction (a batch, or a group of concurrent posts). Existing keys
    /// answer duplicate or conflict from the read model; new ones start their streams. If another transaction
    /// started one of them first, the whole call is decided again: the loser now finds the stream.
    /// </summary>
    public async Task<IReadOnlyList<RecordResult>> RecordAsync(IReadOnlyList<RecordRequest> requests, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await TryRecordAsync(requests, ct);
            }
            catch (Marten.Exceptions.ExistingStreamIdCollisionException) when (attempt < 3)
            {
                log.LogDebug("A racing post started one of {Count} activities first; deciding again", requests.Count);
            }
        }
    }

    async Task<IReadOnlyList<RecordResult>> TryRecordAsync(IReadOnlyList<RecordRequest> requests, CancellationToken ct)
    {
        await using var session = store.LightweightSession();
        var results = await AppendAsync(session, requests, clock.GetUtcNow(), ct);
        if (results.Any(r => r.Status == RecordStatus.Created)) await session.SaveChangesAsync(ct);
        return results;
    }

    /// <summary>
    /// The decisions of <see cref="RecordAsync"/> inside a session that the caller commits (an import's chunk
    /// commits its counts in the same transaction): existing keys answer duplicate or conflict from the read
    /// model; new ones start their streams in <paramref name="session"/>. A stream that another transaction starts
    /// first makes the commit fail with <see cref="ExistingStreamIdCollisionException"/>: decide again.
    /// </summary>
    public static async Task<IReadOnlyList<RecordResult>> AppendAsync(IDocumentSession session, IReadOnlyList<RecordRequest> requests,
        DateTimeOffset now, CancellationToken ct)
    {
        var results = new RecordResult?[requests.Count];
        var ids = requests.Select(r => ActivityIds.For(r.SourceSystem, r.Content.ExternalId)).ToArray();
        // Hashed only to compare with a stored or an earlier key: a new activity's hash is taken once, by the read model.
        var hashes = new string?[requests.Count];
        string Hash(int i) => hashes[i] ??= requests[i].Content.ContentHash();

        // Within one call, the first occurrence of a key stands for the others.
        var firsts = new Dictionary<Guid, int>();
        for (var i = 0; i < requests.Count; i++) firsts.TryAdd(ids[i], i);

        var existing = (await session.LoadManyAsync<ActivityView>(ct, firsts.Keys)).ToDictionary(v => v.Id);
        foreach (var (id, i) in firsts)
        {
            if (existing.TryGetValue(id, out var view))
            {
                results[i] = new RecordResult(view.RecordedContentHash == Hash(i) ? RecordStatus.Duplicate : RecordStatus.Conflict, id, view.Version);
                continue;
            }
            var request = requests[i];
            var events = Activity.Decide(new RecordActivity(id, request.SourceSystem, request.Content, now), Activity.Initial);
            session.Events.StartStream<Activity>(id, events.Select(e => Wrap(e, request.SourceSystem, request.CorrelationId)).ToArray());
            results[i] = new RecordResult(RecordStatus.Created, id, events.Length);
        }

        // Repeats within the call answer like their first occurrence.
        for (var i = 0; i < requests.Count; i++)
        {
            if (results[i] is not null) continue;
            var first = firsts[ids[i]];
            results[i] = results[first]! with { Status = Hash(i) == Hash(first) ? RecordStatus.Duplicate : RecordStatus.Conflict };
        }
        return results!;
    }

    /// <summary>
    /// An event with its metadata: who sent it (a header) and the request's correlation id. Set per event, not
    /// per session, because one session may hold the posts of several clients (group commit).
    /// </summary>
    public static IEvent Wrap(ActivityEvent data, string client, string? correlationId)
    {
        IEvent e = data switch
        {
            ActivityRecorded r => new Event<ActivityRecorded>(r),
            ActivityCorrected c => new Event<ActivityCorrected>(c),
            ActivityRetracted r => new Event<ActivityRetracted>(r),
            _ => throw new ArgumentOutOfRangeException(nameof(data), data.GetType().Name, "Unknown activity event."),
        };
        e.SetHeader(ClientHeader, client);
        e.CorrelationId = correlationId;
        return e;
    }
}
