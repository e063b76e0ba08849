using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Core;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Wolverine.Http;

namespace CoordinationEvents.Api.Catalog;

/// <summary>A metric: its name in the API, its Vietnamese label and unit, and how it adds up.</summary>
/// <param name="Type"><c>count</c> (whole), <c>decimal</c> (up to 3 places) or <c>vnd</c> (whole đồng).</param>
/// <param name="IsKindCount">The kind's own count (patrols, meetings …): 1 when a record leaves it out.</param>
/// <param name="IsStock">A stock (self-management): the statistics give its value at the end of each period, never a sum.</param>
public sealed record CatalogMetric(string Name, string Label, string Unit, string Type, bool IsKindCount, bool IsStock);

public sealed record CatalogDimensionValue(string Name, string Label);

/// <summary>A dimension of a kind with the values that kind allows, in display order.</summary>
public sealed record CatalogDimension(string Name, string Label, IReadOnlyList<CatalogDimensionValue> Values);

/// <summary>An activity kind: its Vietnamese label, dimensions, metrics (in the officials' order) and text fields.</summary>
/// <param name="IsStock">Its metrics are stocks (self-management).</param>
public sealed record CatalogKind(string Name, string Label, bool IsStock, IReadOnlyList<CatalogDimension> Dimensions,
    IReadOnlyList<CatalogMetric> Metrics, IReadOnlyList<string> TextFields);

public sealed record CatalogUnitType(string Name, string Label);

/// <summary>
/// What the statistics can hold, in Vietnamese (NFC): the metric <c>activities</c> that every activity counts in,
/// the 13 kinds, and the unit types. Metric names are unique across kinds; a dimension name (<c>level</c>) may be
/// shared by two kinds, each with its own values.
/// </summary>
public sealed record CatalogAnswer(CatalogMetric Activities, IReadOnlyList<CatalogKind> Kinds, IReadOnlyList<CatalogUnitType> UnitTypes);

/// <summary><c>GET /api/v1/catalog</c>: <see cref="KindCatalog"/> as data, for the dashboard and any other client.</summary>
public static class GetCatalog
{
    static readonly (string Name, string Label)[] UnitTypeLabels =
    [
        (UnitTypes.Province, "Tỉnh"),
        (UnitTypes.District, "Huyện"),
        (UnitTypes.BorderPost, "Đồn Biên phòng"),
        (UnitTypes.Commune, "Xã"),
    ];

    /// <summary>Built once: the catalog is fixed for the life of the process.</summary>
    public static readonly CatalogAnswer Answer = new(
        Metric(KindCatalog.Activities),
        KindCatalog.All.Select(k => new CatalogKind(k.Name, k.VietnameseName, k.IsStock,
            k.Dimensions.Select(d => new CatalogDimension(d.Name, d.Label, d.ValueLabels.Select(v => new CatalogDimensionValue(v.Name, v.Label)).ToArray())).ToArray(),
            k.Metrics.Select(Metric).ToArray(),
            k.TextFields)).ToArray(),
        UnitTypeLabels.Select(t => new CatalogUnitType(t.Name, t.Label)).ToArray());

    static CatalogMetric Metric(MetricDefinition m) =>
        new(m.Name, m.Label, m.Unit, m.Type.ToString().ToLowerInvariant(), m.IsKindCount, m.IsStock);

    [WolverineGet("/api/v1/catalog", Name = "Catalog"), Authorize(Policy = Policies.ReadOwn), Tags("Catalog")]
    [EndpointSummary("The activity kinds with their Vietnamese labels, their metrics (label, unit of measure, count/decimal/vnd, stock or flow) and dimensions (label and values), and the unit types: what the statistics can hold. Any valid key.")]
    public static Ok<CatalogAnswer> Get() => TypedResults.Ok(Answer);
}
