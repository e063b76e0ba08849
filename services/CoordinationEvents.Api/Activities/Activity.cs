using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CoordinationEvents.Api.Core;
using JasperFx.Events;
using Marten;

namespace CoordinationEvents.Api.Activities;

// ---- Events: past tense, positional, carrying the stream id and when. Stored under stable names. ----

public abstract record ActivityEvent(Guid ActivityId);

public sealed record ActivityRecorded(Guid ActivityId, string SourceSystem, ActivityContent Content, DateTimeOffset RecordedAt) : ActivityEvent(ActivityId);

public sealed record ActivityCorrected(Guid ActivityId, ActivityContent Content, DateTimeOffset CorrectedAt) : ActivityEvent(ActivityId);

public sealed record ActivityRetracted(Guid ActivityId, string Reason, DateTimeOffset RetractedAt) : ActivityEvent(ActivityId);

/// <summary>
/// The one registry of the activity events: the stable names they are stored under (mt_events.type), never .NET type
/// names (renaming a class must not break five years of data). Marten maps them from here, readers of raw events
/// (the feed, verify) read them by these names, and <see cref="Wrap"/> gives an event its metadata.
/// </summary>
public static class ActivityEventTypes
{
    public const string Recorded = "activity-recorded";
    public const string Corrected = "activity-corrected";
    public const string Retracted = "activity-retracted";

    public const string ClientHeader = "client";

    sealed record Entry(string Name, Type Type, Func<ActivityEvent, IEvent> Wrap);

    static Entry Of<T>(string name) where T : ActivityEvent => new(name, typeof(T), e => new Event<T>((T)e));

    static readonly Entry[] Entries = [Of<ActivityRecorded>(Recorded), Of<ActivityCorrected>(Corrected), Of<ActivityRetracted>(Retracted)];

    static readonly Dictionary<string, Entry> ByName = Entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
    static readonly Dictionary<Type, Entry> ByType = Entries.ToDictionary(e => e.Type);

    public static readonly IReadOnlyList<string> All = Entries.Select(e => e.Name).ToArray();

    public static void Map(StoreOptions options)
    {
        foreach (var entry in Entries) options.Events.MapEventType(entry.Type, entry.Name);
    }

    /// <summary>An activity event from its stored type name and data.</summary>
    public static ActivityEvent Read(string type, string json) =>
        ByName.TryGetValue(type, out var entry)
            ? (ActivityEvent)JsonSerializer.Deserialize(json, entry.Type, StoreJson.Options)!
            : throw new InvalidOperationException($"Unknown event type '{type}'.");

    /// <summary>
    /// An event with its metadata: who sent it (a header) and the request's correlation id. Set per event, not
    /// per session, because one session may hold the posts of several clients (group commit).
    /// </summary>
    public static IEvent Wrap(ActivityEvent data, string client, string? correlationId)
    {
        var e = ByType[data.GetType()].Wrap(data);
        e.SetHeader(ClientHeader, client);
        e.CorrelationId = correlationId;
        return e;
    }
}

// ---- Commands: each carries its own Now; Decide never reads a clock or a database. ----

public abstract record ActivityCommand(Guid ActivityId);

public sealed record RecordActivity(Guid ActivityId, string SourceSystem, ActivityContent Content, DateTimeOffset Now) : ActivityCommand(ActivityId);

public sealed record CorrectActivity(Guid ActivityId, ActivityContent Content, DateTimeOffset Now) : ActivityCommand(ActivityId);

public sealed record RetractActivity(Guid ActivityId, string Reason, DateTimeOffset Now) : ActivityCommand(ActivityId);

// ---- Domain errors, mapped to problem documents in one place (Http/Problems.cs). ----

public sealed class ActivityNotFoundException(Guid id) : ProblemException(404, "Not found", $"Activity {id} does not exist.");

/// <summary>A command that the activity's rules forbid (409 or 422).</summary>
public sealed class ActivityRuleViolation(string title, string detail, int status) : ProblemException(status, title, detail);

/// <summary>A correction or retraction whose If-Match names a version the activity is no longer at.</summary>
public sealed class StaleVersionException(long expected)
    : ProblemException(412, "Precondition failed", $"The activity is no longer at version {expected}: read it again and resend the correction with its new ETag.");

/// <summary>An activity's state: the fold of its events.</summary>
public sealed record Activity(Guid Id, int Version, string? SourceSystem, ActivityContent? Content, bool Retracted, string? RetractionReason)
{
    public static readonly Activity Initial = new(Guid.Empty, 0, null, null, false, null);

    public bool Exists => Version > 0;

    // Named Next, not Evolve: JasperFx's source generator takes a static Evolve on an aggregate for its own convention.
    public static Activity Next(Activity state, ActivityEvent @event) => @event switch
    {
        ActivityRecorded e => state with { Id = e.ActivityId, Version = state.Version + 1, SourceSystem = e.SourceSystem, Content = e.Content },
        ActivityCorrected e => state with { Version = state.Version + 1, Content = e.Content },
        ActivityRetracted e => state with { Version = state.Version + 1, Retracted = true, RetractionReason = e.Reason },
        _ => throw new ArgumentOutOfRangeException(nameof(@event), @event.GetType().Name, "Unknown activity event."),
    };

    public static Activity Fold(IEnumerable<ActivityEvent> events) => events.Aggregate(Initial, Next);

    /// <summary>
    /// What a command changes. A command that is already done returns no events (a correction to the content
    /// the activity already has, a second retraction); an impossible one throws.
    /// </summary>
    public static ActivityEvent[] Decide(ActivityCommand command, Activity state) => (command, state) switch
    {
        (RecordActivity c, { Exists: false }) => [new ActivityRecorded(c.ActivityId, c.SourceSystem, c.Content, c.Now)],
        (RecordActivity, _) => [],

        (_, { Exists: false }) => throw new ActivityNotFoundException(command.ActivityId),

        (CorrectActivity, { Retracted: true }) => throw new ActivityRuleViolation(
            "Activity retracted", "A retracted activity cannot be corrected.", 409),
        (CorrectActivity c, _) when c.Content.ExternalId != state.Content!.ExternalId => throw new ActivityRuleViolation(
            "externalId cannot change", $"A correction keeps the activity's externalId '{state.Content.ExternalId}'.", 422),
        (CorrectActivity c, _) when c.Content.ContentHash() == state.Content!.ContentHash() => [],
        (CorrectActivity c, _) => [new ActivityCorrected(c.ActivityId, c.Content, c.Now)],

        (RetractActivity, { Retracted: true }) => [],
        (RetractActivity c, _) => [new ActivityRetracted(c.ActivityId, c.Reason, c.Now)],

        _ => throw new ArgumentOutOfRangeException(nameof(command), command.GetType().Name, "Unknown activity command."),
    };
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
