using Marten;

namespace CoordinationEvents.Api.Activities;

// ---- Events: past tense, positional, carrying the stream id and when. Stored under stable names. ----

public abstract record ActivityEvent(Guid ActivityId);

public sealed record ActivityRecorded(Guid ActivityId, string SourceSystem, ActivityContent Content, DateTimeOffset RecordedAt) : ActivityEvent(ActivityId);

public sealed record ActivityCorrected(Guid ActivityId, ActivityContent Content, DateTimeOffset CorrectedAt) : ActivityEvent(ActivityId);

public sealed record ActivityRetracted(Guid ActivityId, string Reason, DateTimeOffset RetractedAt) : ActivityEvent(ActivityId);

/// <summary>
/// The stable names the events are stored under (mt_events.type), never .NET type names: renaming a class
/// must not break five years of data.
/// </summary>
public static class ActivityEventTypes
{
    public const string Recorded = "activity-recorded";
    public const string Corrected = "activity-corrected";
    public const string Retracted = "activity-retracted";

    public static readonly IReadOnlyList<string> All = [Recorded, Corrected, Retracted];

    public static void Map(StoreOptions options)
    {
        options.Events.MapEventType<ActivityRecorded>(Recorded);
        options.Events.MapEventType<ActivityCorrected>(Corrected);
        options.Events.MapEventType<ActivityRetracted>(Retracted);
    }
}

// ---- Commands: each carries its own Now; Decide never reads a clock or a database. ----

public abstract record ActivityCommand(Guid ActivityId);

public sealed record RecordActivity(Guid ActivityId, string SourceSystem, ActivityContent Content, DateTimeOffset Now) : ActivityCommand(ActivityId);

public sealed record CorrectActivity(Guid ActivityId, ActivityContent Content, DateTimeOffset Now) : ActivityCommand(ActivityId);

public sealed record RetractActivity(Guid ActivityId, string Reason, DateTimeOffset Now) : ActivityCommand(ActivityId);

// ---- Domain errors, mapped to problem documents in one place (Http/Problems.cs). ----

public sealed class ActivityNotFoundException(Guid id) : Exception($"Activity {id} does not exist.");

/// <summary>A command that the activity's rules forbid (409 or 422).</summary>
public sealed class ActivityRuleViolation(string title, string detail, int status) : Exception(detail)
{
    public string Title { get; } = title;
    public int Status { get; } = status;
}

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
