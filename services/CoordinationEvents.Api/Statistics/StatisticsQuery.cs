using System.Globalization;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;
using Npgsql;

namespace CoordinationEvents.Api.Statistics;

/// <summary>A statistics request, checked: every name known, every date real.</summary>
public sealed record StatisticsQuery(
    DateOnly From,
    DateOnly To,
    string? UnitId,
    IReadOnlyList<string> Kinds,
    IReadOnlyDictionary<string, IReadOnlyList<string>> Filters,
    IReadOnlyList<string> GroupBy,
    bool Lineage = false)
{
    public const string Kind = "kind", Unit = "unit", Year = "year", Quarter = "quarter", Month = "month";
    static readonly string[] TimeKeys = [Year, Quarter, Month];
    public static readonly IReadOnlyList<string> GroupKeys = [Kind, Unit, Year, Quarter, Month, .. KindCatalog.DimensionNames];
    static readonly HashSet<string> Reserved = ["from", "to", "unitId", "kind", "groupBy", "lineage", StatisticsAsOf.Parameter];

    /// <summary>The most rows a time grouping may give (1900–2099 by month): a period from 0001-01-01 to
    /// 9999-12-31 by month would be 120,000 rows, each with the stocks of every unit looked up.</summary>
    public const int MaxTimeRows = 2_400;

    /// <summary>The most rows a query may give: periods × units × the dimension values it tells apart. The answer
    /// and the work behind it grow with this number, so one query cannot hold the service for seconds.</summary>
    public const int MaxRows = 100_000;

    /// <summary>The most (period, unit) stock look-ups a query may imply: its periods times the units of its
    /// subtree (200 years by month for a whole province of 250 units).</summary>
    public const int MaxStockCells = 600_000;

    static int TimeRows(string time, DateOnly from, DateOnly to)
    {
        static int Month(DateOnly d) => d.Year * 12 + d.Month - 1;
        return time switch
        {
            Year => to.Year - from.Year + 1,
            Quarter => Month(to) / 3 - Month(from) / 3 + 1,
            _ => Month(to) - Month(from) + 1,
        };
    }

    /// <summary>Parses the query string; every problem is reported at once, by parameter name.</summary>
    public static StatisticsQuery Parse(IQueryCollection query, UnitHistory history)
    {
        var errors = new Dictionary<string, string[]>();
        static string[] List(string? text) => (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        var (from, to) = VietnamCalendar.ParsePeriod(query["from"].ToString(), query["to"].ToString(), errors, required: true);

        string? unitId = query["unitId"].ToString() is { Length: > 0 } u ? u : null;
        // Any unit of the organisation's history is a filter, one that has ended too (its figures as it was).
        if (unitId is not null && !history.Knows(unitId)) errors["unitId"] = [$"Unknown unit '{unitId}'."];

        var lineage = false;
        if (query["lineage"].ToString() is { Length: > 0 } l)
        {
            if (!bool.TryParse(l, out lineage)) errors["lineage"] = ["'lineage' is true or false."];
            else if (lineage && unitId is null) errors["lineage"] = ["lineage=true carries the figures of former units into one unit: give unitId."];
        }

        var kinds = List(query["kind"]).Distinct().ToArray();
        var badKinds = kinds.Where(k => !KindCatalog.TryGet(k, out _)).ToArray();
        if (badKinds.Length > 0) errors["kind"] = [$"Unknown kind(s): {string.Join(", ", badKinds)}. Known: {string.Join(", ", KindCatalog.All.Select(k => k.Name))}."];

        var groupBy = List(query["groupBy"]).Distinct().ToArray();
        var badGroups = groupBy.Where(g => !GroupKeys.Contains(g)).ToArray();
        if (badGroups.Length > 0) errors["groupBy"] = [$"Unknown groupBy: {string.Join(", ", badGroups)}. Known: {string.Join(", ", GroupKeys)}."];
        else if (groupBy.Count(TimeKeys.Contains) > 1) errors["groupBy"] = ["Group by one of year, quarter and month at a time."];
        else if (groupBy.FirstOrDefault(TimeKeys.Contains) is { } time && from <= to && TimeRows(time, from!.Value, to!.Value) is var rows && rows > MaxTimeRows)
            errors["groupBy"] = [$"'groupBy={time}' from {from:yyyy-MM-dd} to {to:yyyy-MM-dd} gives {rows:#,0} time rows; at most {MaxTimeRows:#,0} per query (200 years by month): shorten the period or group by a longer time."];

        var filters = new Dictionary<string, IReadOnlyList<string>>();
        foreach (var (name, value) in query)
        {
            if (Reserved.Contains(name)) continue;
            if (!KindCatalog.DimensionNames.Contains(name))
            {
                errors[name] = [$"Unknown parameter '{name}'. Filters are dimension names: {string.Join(", ", KindCatalog.DimensionNames)}."];
                continue;
            }
            var allowed = KindCatalog.All.SelectMany(k => k.Dimensions).Where(d => d.Name == name).SelectMany(d => d.Values).ToHashSet();
            var values = List(value).Distinct().ToArray();
            var bad = values.Where(v => !allowed.Contains(v)).ToArray();
            if (values.Length == 0 || bad.Length > 0)
                errors[name] = [$"'{name}' takes values from: {string.Join(", ", allowed)}."];
            else filters[name] = values;
        }

        if (errors.Count > 0) throw new InputException(errors);
        var parsed = new StatisticsQuery(from!.Value, to!.Value, unitId, kinds, filters, groupBy, lineage);
        var units = history.TreeOn(unitId is not null && history.Life(unitId) is { } life ? life.Clamp(to.Value) : to.Value);
        if (parsed.Bound(units) is { } tooWide) throw new InputException(new Dictionary<string, string[]> { ["groupBy"] = [tooWide] });
        return parsed;
    }

    /// <summary>Why the query implies too much work (null when it does not): at most <see cref="MaxRows"/> rows,
    /// counted as the periods times the row units times the dimension values each kind can give, and at most
    /// <see cref="MaxStockCells"/> stock look-ups.</summary>
    string? Bound(UnitTree units)
    {
        var periods = TimeKey is { } time ? (long)TimeRows(time, From, To) : 1;
        var rowUnits = !GroupBy.Contains(Unit) ? 1L : UnitId is null ? Math.Max(1, units.Roots.Count) : 1 + units.ChildrenOf(UnitId).Count;
        var groupedDims = GroupBy.Where(KindCatalog.DimensionNames.Contains).ToArray();
        long values = 0;
        foreach (var kind in KindCatalog.All.Where(k => IncludesKind(k.Name)))
        {
            long combos = 1;
            foreach (var name in groupedDims)
                if (kind.Dimension(name) is { } d) combos *= Filters.TryGetValue(name, out var f) ? d.Values.Count(f.Contains) : d.Values.Count;
            values += combos;
        }
        values = groupedDims.Length == 0 && !GroupBy.Contains(Kind) ? 1 : Math.Max(1, values);
        var rows = periods * rowUnits * values;
        var by = $"'groupBy={string.Join(',', GroupBy)}' from {From:yyyy-MM-dd} to {To:yyyy-MM-dd}";
        if (rows > MaxRows)
            return $"{by} may give up to {rows:#,0} rows ({periods:#,0} periods × {rowUnits:#,0} units × {values:#,0} kind and dimension values); at most {MaxRows:#,0} per query: shorten the period, group by a longer time, choose a unitId, filter or group by fewer dimensions, or ask one kind at a time.";
        var stockKind = KindCatalog.All.First(k => k.IsStock);
        if (IncludesKind(stockKind.Name) && Passes(stockKind, "", ""))
        {
            var subtree = (UnitId is null ? units.Roots.Select(u => u.UnitId) : [UnitId]).SelectMany(units.Subtree).Distinct().Count();
            var cells = periods * subtree;
            if (cells > MaxStockCells)
                return $"{by} asks the stocks of {subtree:#,0} units at {periods:#,0} period ends ({cells:#,0}); at most {MaxStockCells:#,0} per query: shorten the period, group by a longer time, choose a unitId, or leave out the kind {stockKind.Name}.";
        }
        return null;
    }

    public bool IncludesKind(string kind) => Kinds.Count == 0 || Kinds.Contains(kind);

    /// <summary>Whether an activity of this kind and these dimension values passes the dimension filters.</summary>
    public bool Passes(KindDefinition kind, string d1, string d2) => Filters.All(f =>
    {
        var index = kind.Dimensions.ToList().FindIndex(d => d.Name == f.Key);
        return index switch { 0 => f.Value.Contains(d1), 1 => f.Value.Contains(d2), _ => false };
    });

    public string? TimeKey => GroupBy.FirstOrDefault(TimeKeys.Contains);

    /// <summary>Whether the answer tells dimension values apart: a dimension filter, or a dimension in groupBy.</summary>
    public bool NeedsDimensions => Filters.Count > 0 || GroupBy.Any(KindCatalog.DimensionNames.Contains);
}
