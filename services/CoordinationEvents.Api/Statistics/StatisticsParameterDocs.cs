using CoordinationEvents.Api.Activities;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace CoordinationEvents.Api.Statistics;

/// <summary>
/// GET /api/v1/statistics reads its query string itself (any dimension name is a filter), so nothing tells
/// Swagger its parameters: this lists them, so that "Try it out" can send from and to. A parameter the
/// endpoint already declares is left as it is. Each dimension name of <see cref="KindCatalog.DimensionNames"/> is a filter.
/// </summary>
public sealed class StatisticsParameterDocs : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        if (context.ApiDescription.HttpMethod != "GET" || context.ApiDescription.RelativePath?.TrimEnd('/') != "api/v1/statistics") return;
        operation.Parameters ??= [];
        void Add(string name, bool required, string description, string? example = null)
        {
            if (operation.Parameters.Any(p => p.Name == name)) return;
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = name,
                In = ParameterLocation.Query,
                Required = required,
                Description = description,
                Schema = new OpenApiSchema { Type = JsonSchemaType.String },
                Example = example is null ? null : System.Text.Json.Nodes.JsonValue.Create(example),
            });
        }
        Add("from", true, "First day, inclusive (YYYY-MM-DD).", "2019-01-01");
        Add("to", true, "Last day, inclusive (YYYY-MM-DD).", "2024-12-31");
        Add("unitId", false, "The unit whose subtree is counted, as it was on each activity's date (a unit that has ended too); leave out for every unit. The answer's `units` gives the name (at `to`) and dates (validFrom, validTo) of every unit id it uses.", "phong-tho");
        Add("lineage", false, "true: carry figures forward (needs unitId): the figures of the units merged into unitId (transitively) are added for the days before each ended, merged into the same row keys (under groupBy=unit each carried unit is a row of its own). The answer then lists them in `lineage` [{unitId, name, until: their last day}], and the predecessors that were split in `notCarried` [{unitId, name, validTo, reason}]: a split unit is never divided by a guess. Stocks at a period end count the units within unitId or within a carried unit that still existed that day, each once.", "false");
        Add("kind", false, $"Kinds, comma-separated: {string.Join(", ", KindCatalog.All.Select(k => k.Name))}.");
        Add("groupBy", false, $"Comma-separated: kind, unit, year, quarter or month, and dimension names ({string.Join(", ", KindCatalog.DimensionNames)}). unit: one row for each child of unitId (each root without it) that held activities during the period, with its figures for the days it was a child (as it was, over a period that straddles a reorganisation); unitId's own row keeps the rest.", "kind");
        // No example: Swagger UI fills a parameter's example into "Try it out", and an instant there would turn every
        // tried query into figures as known then (the description shows the form).
        Add(StatisticsAsOf.Parameter, false, StatisticsAsOf.Description);
        // Any dimension name filters on its values (StatisticsQuery.Parse).
        foreach (var dimension in KindCatalog.DimensionNames)
        {
            var kinds = KindCatalog.All.Where(k => k.Dimensions.Any(d => d.Name == dimension)).ToArray();
            var values = kinds.SelectMany(k => k.Dimensions).Where(d => d.Name == dimension).SelectMany(d => d.Values).Distinct();
            Add(dimension, false, $"Filter on the dimension {dimension} (of {string.Join(", ", kinds.Select(k => k.Name))}): comma-separated values from {string.Join(", ", values)}.");
        }
    }
}
