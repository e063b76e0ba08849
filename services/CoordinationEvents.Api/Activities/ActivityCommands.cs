using CoordinationEvents.EventStore;
using Npgsql;

namespace CoordinationEvents.Api.Activities;

/// <summary>The result of recording one valid activity.</summary>
public enum RecordStatus { Created, Duplicate, Conflict }

public sealed record RecordResult(RecordStatus Status, Guid ActivityId, int Version);

/// <summary>A valid activity to record, with who sent it.</summary>
public sealed record RecordRequest(ActivityContent Content, string SourceSystem, string? CorrelationId);

/// <summary>
/// Writes activities: records (idempotent per posting system and externalId), corrections and retractions.
/// Load, fold, decide, append with the expected version — the one command-handling path.
/// </summary>
public sealed class ActivityCommands(EventStore.EventStore store, TimeProvider clock)
{
    /// <summary>
    /// Records many activities in one transaction. The (source system, externalId) key is claimed first with
    /// ON CONFLICT DO NOTHING: of racing posts of the same key one claims it, the others wait for its commit
    /// and then find it — a duplicate when the content hash matches, a conflict when it does not.
    /// </summary>
    public async Task<IReadOnlyList<RecordResult>> RecordAsync(IReadOnlyList<RecordRequest> requests, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var results = new RecordResult?[requests.Count];
        var hashes = requests.Select(r => r.Content.ContentHash()).ToArray();

        // Within one call, the first occurrence of a key stands for the others.
        var firsts = new Dictionary<(string, string), int>();
        for (var i = 0; i < requests.Count; i++)
            firsts.TryAdd((requests[i].SourceSystem, requests[i].Content.ExternalId), i);
        var claims = firsts.Values.OrderBy(i => requests[i].SourceSystem, StringComparer.Ordinal)
            .ThenBy(i => requests[i].Content.ExternalId, StringComparer.Ordinal).ToArray();
        var newIds = claims.ToDictionary(i => i, _ => Guid.CreateVersion7(now));

        await using var session = await store.OpenSessionAsync(ct);
        var claimed = new HashSet<(string, string)>();
        await using (var cmd = new NpgsqlCommand("""
            insert into activity_keys (source_system, external_id, activity_id, content_hash)
            select * from unnest($1::text[], $2::text[], $3::uuid[], $4::text[])
            on conflict do nothing
            returning source_system, external_id
            """, session.Connection))
        {
            cmd.Parameters.AddWithValue(claims.Select(i => requests[i].SourceSystem).ToArray());
            cmd.Parameters.AddWithValue(claims.Select(i => requests[i].Content.ExternalId).ToArray());
            cmd.Parameters.AddWithValue(claims.Select(i => newIds[i]).ToArray());
            cmd.Parameters.AddWithValue(claims.Select(i => hashes[i]).ToArray());
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) claimed.Add((reader.GetString(0), reader.GetString(1)));
        }

        var known = claims.Where(i => !claimed.Contains((requests[i].SourceSystem, requests[i].Content.ExternalId))).ToArray();
        if (known.Length > 0)
        {
            await using var cmd = new NpgsqlCommand("""
                select k.source_system, k.external_id, k.activity_id, k.content_hash, coalesce(s.version, 0)
                from unnest($1::text[], $2::text[]) as q(source_system, external_id)
                join activity_keys k using (source_system, external_id)
                left join streams s on s.stream_id = k.activity_id
                """, session.Connection);
            cmd.Parameters.AddWithValue(known.Select(i => requests[i].SourceSystem).ToArray());
            cmd.Parameters.AddWithValue(known.Select(i => requests[i].Content.ExternalId).ToArray());
            var existing = new Dictionary<(string, string), (Guid Id, string Hash, int Version)>();
            await using (var reader = await cmd.ExecuteReaderAsync(ct))
                while (await reader.ReadAsync(ct))
                    existing[(reader.GetString(0), reader.GetString(1))] = (reader.GetGuid(2), reader.GetString(3), reader.GetInt32(4));
            foreach (var i in known)
            {
                var (id, hash, version) = existing[(requests[i].SourceSystem, requests[i].Content.ExternalId)];
                results[i] = new RecordResult(hash == hashes[i] ? RecordStatus.Duplicate : RecordStatus.Conflict, id, version);
            }
        }

        var appends = claims.Where(i => results[i] is null).Select(i =>
        {
            var command = new RecordActivity(newIds[i], requests[i].SourceSystem, requests[i].Content, now);
            var events = Activity.Decide(command, Activity.Initial);
            return new StreamAppend(newIds[i], ActivityEventTypes.StreamType, 0, events,
                new EventMetadata(requests[i].SourceSystem, requests[i].CorrelationId, now));
        }).ToArray();
        var outcomes = await session.AppendAsync(appends, ct);
        foreach (var (i, outcome) in claims.Where(i => results[i] is null).Zip(outcomes))
            results[i] = outcome.Appended
                ? new RecordResult(RecordStatus.Created, outcome.StreamId, outcome.NextVersion)
                : throw new ConcurrencyException(outcome.StreamId, 0); // a fresh id cannot exist: a bug if it does
        await session.CommitAsync(ct);

        // Repeats within the call answer like their first occurrence.
        for (var i = 0; i < requests.Count; i++)
        {
            if (results[i] is not null) continue;
            var first = results[firsts[(requests[i].SourceSystem, requests[i].Content.ExternalId)]]!;
            var same = hashes[i] == hashes[firsts[(requests[i].SourceSystem, requests[i].Content.ExternalId)]];
            results[i] = first with { Status = same ? RecordStatus.Duplicate : RecordStatus.Conflict };
        }
        return results!;
    }

    public async Task<Activity> LoadAsync(Guid id, CancellationToken ct)
    {
        var events = await store.ReadStreamAsync(id, ct);
        return Activity.Fold(events.Select(e => (ActivityEvent)e.Data));
    }

    /// <summary>
    /// Load, fold, decide, append at the version decided on. With <paramref name="expectedVersion"/>
    /// (If-Match) a moved stream is a <see cref="ConcurrencyException"/>; without it, the command is decided
    /// again on the newer state.
    /// </summary>
    public async Task<Activity> HandleAsync(Guid id, int? expectedVersion, Func<DateTimeOffset, ActivityCommand> command,
        string actor, string? correlationId, Func<Activity, Task>? authorize, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            var state = await LoadAsync(id, ct);
            if (!state.Exists) throw new ActivityNotFoundException(id);
            if (authorize is not null) await authorize(state);
            if (expectedVersion is { } expected && expected != state.Version)
                throw new ConcurrencyException(id, expected);

            var now = clock.GetUtcNow();
            var events = Activity.Decide(command(now), state);
            if (events.Length == 0) return state;
            try
            {
                await store.AppendAsync(new StreamAppend(id, ActivityEventTypes.StreamType, state.Version, events,
                    new EventMetadata(actor, correlationId, now)), ct);
                return events.Aggregate(state, Activity.Evolve);
            }
            catch (ConcurrencyException) when (expectedVersion is null && attempt < 3)
            {
                // Someone else wrote first; decide again on what they wrote.
            }
        }
    }
}
