using System.Text.Json;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;
using Marten;

namespace CoordinationEvents.Api.Activities;

/// <summary>The result of recording one valid activity.</summary>
public enum RecordStatus { Created, Duplicate, Conflict }

public sealed record RecordResult(RecordStatus Status, Guid ActivityId, int Version);

/// <summary>A valid activity to record, with who sent it.</summary>
public sealed record RecordRequest(ActivityContent Content, string SourceSystem, string? CorrelationId);

/// <summary>
/// Records new activities, idempotent per posting system and externalId: the code that a single post (through
/// <see cref="GroupCommit"/>), a batch and an import chunk share. Corrections and retractions go through
/// Wolverine's aggregate handler workflow instead (<see cref="CorrectActivityEndpoint"/>).
/// </summary>
public sealed class ActivityRecorder(IDocumentStore store, UnitDirectory units, TimeProvider clock, ILogger<ActivityRecorder> log)
{
    /// <summary>The error of an item (of a batch, or a line of an import) whose externalId holds other content.</summary>
    public const string ConflictMessage = "This externalId was already recorded with other content.";

    /// <summary>
    /// Records many activities in one transaction of its own (a batch, or a group of concurrent posts). If another
    /// transaction started one of the streams first, the whole call is decided again: the loser now finds the stream.
    /// </summary>
    public async Task<IReadOnlyList<RecordResult>> RecordAsync(IReadOnlyList<RecordRequest> requests, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var session = store.LightweightSession();
                var results = await AppendAsync(session, requests, clock.GetUtcNow(), ct);
                if (results.Any(r => r.Status == RecordStatus.Created)) await session.SaveChangesAsync(ct);
                return results;
            }
            catch (Marten.Exceptions.ExistingStreamIdCollisionException) when (attempt < 3)
            {
                log.LogDebug("A racing post started one of {Count} activities first; deciding again", requests.Count);
            }
        }
    }

    /// <summary>
    /// Items as a batch or an import sends them (JSON, or the error already found in reading a line): each is checked
    /// against every rule and the caller's unit scope, and the valid ones are appended to <paramref name="session"/>
    /// (which the caller commits; <c>null</c>: a transaction of their own, retried on a race). One result per item.
    /// </summary>
    public async Task<IReadOnlyList<BatchItemResult>> RecordItemsAsync(IReadOnlyList<ItemInput> items, Caller caller, string? correlationId,
        IDocumentSession? session, CancellationToken ct)
    {
        var results = new BatchItemResult?[items.Count];
        var history = await units.GetKnowingAsync(items.Where(i => i.Body is not null).SelectMany(i => UnitIdsIn(i.Body!.Value)), ct);
        var today = VietnamCalendar.Today(clock);
        var valid = new List<(int Index, RecordRequest Request)>();
        for (var i = 0; i < items.Count; i++)
        {
            var outcome = items[i].Body is { } body ? Check(body, caller, history, today) : new ValidationOutcome(null, items[i].Errors!);
            if (outcome.IsValid) valid.Add((i, new RecordRequest(outcome.Content, caller.Client, correlationId)));
            else results[i] = new BatchItemResult(i, BatchItemStatus.Invalid, Errors: outcome.Errors);
        }

        await RecheckRecordedAsync(items, results, valid, caller, correlationId, history, today, ct);

        var requests = valid.Select(v => v.Request).ToArray();
        var recorded = requests.Length == 0 ? []
            : session is null ? await RecordAsync(requests, ct)
            : await AppendAsync(session, requests, clock.GetUtcNow(), ct);
        foreach (var ((index, _), result) in valid.Zip(recorded))
            results[index] = new BatchItemResult(index, result.Status switch
            {
                RecordStatus.Created => BatchItemStatus.Created,
                RecordStatus.Duplicate => BatchItemStatus.Duplicate,
                _ => BatchItemStatus.Conflict,
            }, result.ActivityId, result.Version,
            result.Status == RecordStatus.Conflict ? new Dictionary<string, string[]> { ["externalId"] = [ConflictMessage] } : null);
        return results!;
    }

    /// <summary>
    /// Items refused on their units whose externalId this client already recorded (a resend whose answer was lost,
    /// after a reorganisation recorded since ended one of their units) are checked again as that activity was accepted
    /// (<see cref="ActivityRules.Check(ActivityRequest, UnitHistory, DateOnly, ActivityContent?)"/> with its content): they then answer duplicate
    /// (or conflict), as a single post does, never invalid for an activity that is stored (organisation.md: accepted
    /// activities are never rejected afterwards). The read model is read only when some item was refused.
    /// </summary>
    async Task RecheckRecordedAsync(IReadOnlyList<ItemInput> items, BatchItemResult?[] results, List<(int Index, RecordRequest Request)> valid,
        Caller caller, string? correlationId, UnitHistory history, DateOnly today, CancellationToken ct)
    {
        var refused = new Dictionary<int, (ActivityRequest Request, Guid Id)>();
        for (var i = 0; i < items.Count; i++)
            if (results[i] is { Status: BatchItemStatus.Invalid } && items[i].Body is { } body
                && JsonInput.TryRead<ActivityRequest>(body, out var request, out _) && Text.Clean(request.ExternalId) is { Length: > 0 } externalId)
                refused[i] = (request, ActivityIds.For(caller.Client, externalId));
        if (refused.Count == 0) return;
        await using var session = store.QuerySession();
        var recorded = (await session.LoadManyAsync<ActivityView>(ct, refused.Values.Select(r => r.Id).Distinct())).ToDictionary(v => v.Id);
        foreach (var (i, (request, id)) in refused)
        {
            if (!recorded.TryGetValue(id, out var view)) continue;
            var outcome = ActivityRules.Check(request, history, today, view.Content);
            if (!outcome.IsValid || !caller.MayWrite(history, outcome.Content.UnitId, outcome.Content.OccurredOn)) continue;
            results[i] = null;
            valid.Add((i, new RecordRequest(outcome.Content, caller.Client, correlationId)));
        }
        valid.Sort((a, b) => a.Index.CompareTo(b.Index));
    }

    /// <summary>
    /// One item: every rule of the activity (its units judged on its <c>occurredOn</c>), then the poster's unit scope on
    /// that day: the same errors as a single post's 400 and 403, keyed by field.
    /// </summary>
    static ValidationOutcome Check(JsonElement item, Caller caller, UnitHistory history, DateOnly today)
    {
        var outcome = ActivityRules.Check(item, history, today);
        return outcome.IsValid && !caller.MayWrite(history, outcome.Content.UnitId, outcome.Content.OccurredOn)
            ? new ValidationOutcome(null, new Dictionary<string, string[]> { ["unitId"] = [Caller.OutOfScope(outcome.Content.UnitId, outcome.Content.OccurredOn)] })
            : outcome;
    }

    /// <summary>
    /// The decisions of <see cref="RecordAsync"/> inside a session that the caller commits: existing keys answer
    /// duplicate or conflict from the read model; new ones start their streams in <paramref name="session"/>. A stream
    /// that another transaction starts first makes the commit fail with
    /// <see cref="Marten.Exceptions.ExistingStreamIdCollisionException"/>: decide again.
    /// </summary>
    static async Task<IReadOnlyList<RecordResult>> AppendAsync(IDocumentSession session, IReadOnlyList<RecordRequest> requests,
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
            session.Events.StartStream<ActivityView>(id, events.Select(e => ActivityEventTypes.Wrap(e, request.SourceSystem, request.CorrelationId)).ToArray());
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
    /// The unit ids an activity body names (<c>unitId</c>, <c>partnerUnitIds</c>, <c>location.communeId</c>), so that
    /// a unit created a moment ago is known before validating. Never throws on odd input: anything that is not a
    /// JSON string of valid text is skipped, for validation to report under its key.
    /// </summary>
    public static IEnumerable<string> UnitIdsIn(JsonElement item)
    {
        if (item.ValueKind != JsonValueKind.Object) yield break;
        if (item.TryGetProperty("unitId", out var unit) && JsonInput.TryGetString(unit, out var unitId)) yield return unitId;
        if (item.TryGetProperty("partnerUnitIds", out var partners) && partners.ValueKind == JsonValueKind.Array)
            foreach (var partner in partners.EnumerateArray())
                if (JsonInput.TryGetString(partner, out var partnerId)) yield return partnerId;
        if (item.TryGetProperty("location", out var location) && location.ValueKind == JsonValueKind.Object
            && location.TryGetProperty("communeId", out var commune) && JsonInput.TryGetString(commune, out var communeId)) yield return communeId;
    }
}

/// <summary>One item of a batch or one line of an import: its JSON, or the errors of reading it.</summary>
public sealed record ItemInput(JsonElement? Body, IReadOnlyDictionary<string, string[]>? Errors = null);
