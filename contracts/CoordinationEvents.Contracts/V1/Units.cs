namespace CoordinationEvents.Contracts.V1;

public sealed record UnitRequest
{
    public string? UnitId { get; init; }
    public string? Name { get; init; }
    public string? Type { get; init; }
    public string? ParentId { get; init; }
}

public sealed record UnitResponse(string UnitId, string Name, string Type, string? ParentId);

public sealed record UnitNode(string UnitId, string Name, string Type, string? ParentId, IReadOnlyList<UnitNode> Children);
