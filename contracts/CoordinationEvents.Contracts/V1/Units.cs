using System.Text.Json;

namespace CoordinationEvents.Contracts.V1;

/// <summary>
/// A unit as an administrator sends it. <see cref="ValidFrom"/> (POST only): the first day the unit exists (without
/// it, it has always existed). <see cref="EffectiveFrom"/> (PUT only): the first day a rename, move or retype holds
/// (without it, the PUT corrects the record from the unit's beginning).
/// </summary>
public sealed record UnitRequest
{
    public string? UnitId { get; init; }
    public string? Name { get; init; }
    public string? Type { get; init; }
    public string? ParentId { get; init; }
    public DateOnly? ValidFrom { get; init; }
    public DateOnly? EffectiveFrom { get; init; }
}

/// <summary>
/// A unit, as it is now (or as it last was, if it has ended): its first day (<see cref="ValidFrom"/>, null: always),
/// its last day (<see cref="ValidTo"/>, null while it lasts), how it ended, and the units it succeeded and that
/// succeed it.
/// </summary>
public sealed record UnitResponse(string UnitId, string Name, string Type, string? ParentId)
{
    public DateOnly? ValidFrom { get; init; }
    public DateOnly? ValidTo { get; init; }
    /// <summary>merged, split or dissolved; null while the unit lasts.</summary>
    public string? Ending { get; init; }
    public IReadOnlyList<UnitLinkResponse> Predecessors { get; init; } = [];
    public IReadOnlyList<UnitLinkResponse> Successors { get; init; } = [];
}

/// <summary>
/// A unit of the tree on one day, with its children of that day. In a search by name (a flat list) it is as it is
/// on that day, or as it last was if it has ended, with its successors.
/// </summary>
public sealed record UnitNode(string UnitId, string Name, string Type, string? ParentId, IReadOnlyList<UnitNode> Children)
{
    public DateOnly? ValidFrom { get; init; }
    public DateOnly? ValidTo { get; init; }
    public string? Ending { get; init; }
    public IReadOnlyList<UnitLinkResponse> Successors { get; init; } = [];
}

/// <summary>
/// A predecessor or successor of a unit: its id, its name (as it last was, or as it was on that day), how the first
/// ended (merged, split), and the day from which the successor holds (the first day the predecessor no longer exists).
/// </summary>
public sealed record UnitLinkResponse(string UnitId, string Name, string How, DateOnly EffectiveFrom);

/// <summary>
/// One change of a unit, as its history answers it: <see cref="Change"/> (established, renamed, retyped, moved,
/// merged, split, dissolved), the first day it holds (null: from the unit's beginning, a correction), when it was
/// recorded and by which client, the reorganisation that made it, and the change's own fields.
/// </summary>
public sealed record UnitChangeResponse
{
    public required string Change { get; init; }
    public DateOnly? EffectiveFrom { get; init; }
    public DateTimeOffset RecordedAt { get; init; }
    public required string By { get; init; }
    public string? ReorganisationId { get; init; }
    public string? Name { get; init; }
    public string? Type { get; init; }
    public string? ParentId { get; init; }
    /// <summary>merged: the successor's id (a string); split: the successors' ids (an array).</summary>
    public JsonElement? Into { get; init; }
    public string? ChildrenTo { get; init; }
}
