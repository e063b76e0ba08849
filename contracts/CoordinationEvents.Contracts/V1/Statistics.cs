namespace CoordinationEvents.Contracts.V1;

public sealed record StatisticsRow(IReadOnlyDictionary<string, string?> Key, IReadOnlyDictionary<string, decimal> Metrics);

public sealed record StatisticsResponse(
    DateOnly From,
    DateOnly To,
    string? UnitId,
    IReadOnlyList<string> Kinds,
    IReadOnlyDictionary<string, IReadOnlyList<string>> Filters,
    IReadOnlyList<string> GroupBy,
    IReadOnlyList<StatisticsRow> Rows,
    IReadOnlyDictionary<string, decimal> Totals);
