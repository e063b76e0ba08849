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
        Add("unitId", false, "The unit whose subtree is counted; leave out for every unit.", "phong-tho");
        Add("kind", false, $"Kinds, comma-separated: {string.Join(", ", KindCatalog.All.Select(k => k.Name))}.");
        Add("groupBy", false, $"Comma-separated: kind, unit, year, quarter or month, and dimension names ({string.Join(", ", KindCatalog.DimensionNames)}).", "kind");
        // Any dimension name filters on its values (StatisticsQuery.Parse).
        foreach (var dimension in KindCatalog.DimensionNames)
        {
            var kinds = KindCatalog.All.Where(k => k.Dimensions.Any(d => d.Name == dimension)).ToArray();
            var values = kinds.SelectMany(k => k.Dimensions).Where(d => d.Name == dimension).SelectMany(d => d.Values).Distinct();
            Add(dimension, false, $"Filter on the dimension {dimension} (of {string.Join(", ", kinds.Select(k => k.Name))}): comma-separated values from {string.Join(", ", values)}.");
        }
    }
}
