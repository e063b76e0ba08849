using System.Text.Json;

namespace CoordinationEvents.Contracts.V1;

/// <summary>
/// One activity as a posting system sends it (POST and PUT). Every field is nullable so that a missing
/// field is reported by validation, by name, instead of failing deserialization.
/// </summary>
public sealed record ActivityRequest
{
    public string? ExternalId { get; init; }
    public string? Kind { get; init; }
    public string? UnitId { get; init; }
    public IReadOnlyList<string>? PartnerUnitIds { get; init; }
    public DateOnly? OccurredOn { get; init; }
    public DateOnly? EndsOn { get; init; }
    public ActivityLocation? Location { get; init; }
    public string? Summary { get; init; }

    /// <summary>Kind-specific fields: dimensions, metrics and texts, flat, as domain.md lists them.</summary>
    public JsonElement? Details { get; init; }
}

public sealed record ActivityLocation
{
    public string? CommuneId { get; init; }
    public string? PlaceName { get; init; }
    public IReadOnlyList<string>? Markers { get; init; }
}

public sealed record BatchRequest
{
    public IReadOnlyList<JsonElement>? Activities { get; init; }
}

public sealed record ActivityWritten(Guid ActivityId, int Version);

public static class BatchItemStatus
{
    public const string Created = "created";
    public const string Duplicate = "duplicate";
    public const string Invalid = "invalid";
    public const string Conflict = "conflict";
}

public sealed record BatchItemResult(
    int Index,
    string Status,
    Guid? ActivityId = null,
    int? Version = null,
    IReadOnlyDictionary<string, string[]>? Errors = null);

public sealed record BatchResponse(IReadOnlyList<BatchItemResult> Results);

public sealed record RetractionRequest
{
    public string? Reason { get; init; }
}

/// <summary>The activity as it stands now (GET).</summary>
public sealed record ActivityResponse(
    Guid ActivityId,
    string ExternalId,
    string Kind,
    string UnitId,
    IReadOnlyList<string> PartnerUnitIds,
    DateOnly OccurredOn,
    DateOnly? EndsOn,
    ActivityLocation? Location,
    string Summary,
    IReadOnlyDictionary<string, JsonElement> Details,
    int Version,
    string SourceSystem,
    DateTimeOffset RecordedAt,
    DateTimeOffset UpdatedAt,
    string Status,
    string? RetractionReason);

public sealed record ActivityPage(IReadOnlyList<ActivityResponse> Items, string? NextCursor);

public sealed record ActivityHistoryEntry(
    string Type,
    int Version,
    long Position,
    DateTimeOffset RecordedAt,
    string By,
    string? CorrelationId,
    JsonElement Data);

/// <summary>An activity's events, a page at a time: <c>NextAfter</c> is the cursor of the next page (pass it as <c>after</c>), null after the last event.</summary>
public sealed record ActivityHistory(Guid ActivityId, IReadOnlyList<ActivityHistoryEntry> Events, string? NextAfter = null);
