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
    IReadOnlyDictionary<string, decimal> Totals,
    IReadOnlyDictionary<string, StatisticsUnit>? Units = null,
    IReadOnlyList<StatisticsLineageUnit>? Lineage = null,
    IReadOnlyList<StatisticsNotCarried>? NotCarried = null,
    DateTimeOffset? AsOf = null);

/// <summary>A unit an answer uses (a row key, the filter unit, a carried unit): its name at the period's end (or as it last was) and its dates.</summary>
public sealed record StatisticsUnit(string Name, DateOnly? ValidFrom, DateOnly? ValidTo);

/// <summary>A unit whose figures were carried forward (<c>lineage=true</c>): up to and including <see cref="Until"/>, its last day.</summary>
public sealed record StatisticsLineageUnit(string UnitId, string Name, DateOnly Until);

/// <summary>A predecessor whose figures are not carried forward (a split unit is never divided by a guess), with its last day and why.</summary>
public sealed record StatisticsNotCarried(string UnitId, string Name, DateOnly? ValidTo, string Reason);
