using CoordinationEvents.Contracts.V1;
using JasperFx.Events;
using Marten;
using Marten.Events.Aggregation;

namespace CoordinationEvents.Api.Activities;

/// <summary>
/// The current state of one activity, as a Marten document (<c>mt_doc_activityview</c>), kept by an inline
/// projection: it commits with the events, so a GET after a POST always sees the write. Its id is the stream id.
/// It is also the write model's one stored state: a correction or a retraction loads it with Marten's FetchForWriting
/// (an Inline aggregate: the document and the stream's version, never the events), so an activity corrected 2,000
/// times costs what one corrected once does, and a new activity writes one document, not two.
/// </summary>
public sealed record ActivityView
{
    public Guid Id { get; init; }
    public int Version { get; init; }
    public string SourceSystem { get; init; } = "";
    public string ExternalId { get; init; } = "";
    public string Kind { get; init; } = "";
    public string UnitId { get; init; } = "";
    public DateOnly OccurredOn { get; init; }
    public string Status { get; init; } = ActivityStatus.Active;

    /// <summary>Of the content first recorded: a repeated post is a duplicate when it has the same hash, a conflict otherwise.</summary>
    public string RecordedContentHash { get; init; } = "";
    public DateTimeOffset RecordedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public string? RetractionReason { get; init; }
    public ActivityContent Content { get; init; } = null!;

    /// <summary>Its table, for the readers that read it in SQL (its indexed columns: <c>unit_id</c>, <c>kind</c>, <c>occurred_on</c>).</summary>
    public const string TableName = "mt_doc_activityview";

    /// <summary>The write model's state (what <see cref="Activity.Decide"/> judges a command on), read from this document.</summary>
    public Activity State() => new(Id, Version, SourceSystem, Content, Status == ActivityStatus.Retracted, RetractionReason);

    public ActivityResponse ToResponse() => new(
        Id, Content.ExternalId, Content.Kind, Content.UnitId, Content.PartnerUnitIds, Content.OccurredOn, Content.EndsOn,
        Content.Location, Content.Summary, Content.Details, Version, SourceSystem, RecordedAt, UpdatedAt, Status, RetractionReason);

    /// <summary>Indexes for the list: by unit, kind and date, newest first (duplicated columns, not json paths).</summary>
    public static void Configure(StoreOptions options) => options.Schema.For<ActivityView>()
        .Duplicate(x => x.UnitId)
        .Duplicate(x => x.Kind)
        .Duplicate(x => x.OccurredOn);
}

public static class ActivityStatus
{
    public const string Active = "active";
    public const string Retracted = "retracted";
}

/// <summary>
/// The inline projection of <see cref="ActivityView"/>. Versions are counted here rather than read from the
/// event: with Quick append, an inline projection does not see the versions the database assigns.
/// Timestamps come from the events, never from the clock, so a rebuild gives the same documents.
/// </summary>
public sealed class ActivityViewProjection : SingleStreamProjection<ActivityView, Guid>
{
    public override ActivityView? Evolve(ActivityView? snapshot, Guid id, IEvent e) => (snapshot, e.Data) switch
    {
        (_, ActivityRecorded r) => new ActivityView
        {
            Id = id, Version = 1, SourceSystem = r.SourceSystem, ExternalId = r.Content.ExternalId, Kind = r.Content.Kind,
            UnitId = r.Content.UnitId, OccurredOn = r.Content.OccurredOn, RecordedContentHash = r.Content.ContentHash(),
            RecordedAt = r.RecordedAt, UpdatedAt = r.RecordedAt, Content = r.Content,
        },
        ({ } view, ActivityCorrected c) => view with
        {
            Version = view.Version + 1, Kind = c.Content.Kind, UnitId = c.Content.UnitId, OccurredOn = c.Content.OccurredOn,
            UpdatedAt = c.CorrectedAt, Content = c.Content,
        },
        ({ } view, ActivityRetracted r) => view with
        {
            Version = view.Version + 1, Status = ActivityStatus.Retracted, RetractionReason = r.Reason, UpdatedAt = r.RetractedAt,
        },
        _ => snapshot,
    };
}
