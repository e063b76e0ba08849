using System.Text.Json;

namespace CoordinationEvents.Contracts.V1;

/// <summary>
/// One decision (a resolution) that changes many units on one date, all or nothing. Posting the same body under
/// the same <see cref="ReorganisationId"/> again changes nothing.
/// </summary>
public sealed record ReorganisationRequest
{
    public string? ReorganisationId { get; init; }
    public string? Title { get; init; }
    public DateOnly? EffectiveFrom { get; init; }
    public IReadOnlyList<ReorganisationChange>? Changes { get; init; }
}

/// <summary>
/// One change of a reorganisation, by <see cref="Op"/>: <c>establish</c> {unitId, name, type, parentId},
/// <c>rename</c> {unitId, name}, <c>move</c> {unitId, parentId}, <c>merge</c> {unitIds, into},
/// <c>split</c> {unitId, into: [...]}, <c>dissolve</c> {unitId, childrenTo}.
/// </summary>
public sealed record ReorganisationChange
{
    public string? Op { get; init; }
    public string? UnitId { get; init; }
    public IReadOnlyList<string>? UnitIds { get; init; }
    public string? Name { get; init; }
    public string? Type { get; init; }
    public string? ParentId { get; init; }
    /// <summary>merge: the successor's id (a string); split: the successors' ids (an array of strings).</summary>
    public JsonElement? Into { get; init; }
    public string? ChildrenTo { get; init; }
}

/// <summary>
/// A reorganisation as recorded: what was decided (its changes, normalized), the units it touched, when and by whom
/// it was recorded, and whether the figures it moves have all been moved (<see cref="Applied"/>).
/// </summary>
public sealed record ReorganisationResponse(
    string ReorganisationId,
    string Title,
    DateOnly EffectiveFrom,
    IReadOnlyList<ReorganisationChange> Changes,
    IReadOnlyList<string> Units,
    DateTimeOffset RecordedAt,
    string By,
    bool Applied);
