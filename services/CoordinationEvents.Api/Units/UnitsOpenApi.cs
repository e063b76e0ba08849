using CoordinationEvents.Contracts.V1;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace CoordinationEvents.Api.Units;

/// <summary>
/// The OpenAPI words of the Units feature: <c>into</c> is a unit id (a merge) or a list of them (a split), and the
/// reorganisation's and the dated unit changes' examples (Lai Châu's reform of 2025-07-01).
/// </summary>
public sealed class UnitsOpenApi : ISchemaFilter, IOperationFilter
{
    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (context.Type != typeof(ReorganisationChange) && context.Type != typeof(UnitChangeResponse)) return;
        if (schema.Properties?.TryGetValue("into", out var into) != true || into is not OpenApiSchema concrete) return;
        concrete.Type = null;
        concrete.Description = "merge: the id of the unit that succeeds them (a string); split: the ids of the units that succeed it (an array).";
        concrete.OneOf =
        [
            new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null },   // null where the change has none (OpenAPI 3.0: nullable needs a type)
            new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String } },
        ];
        if (context.Type == typeof(ReorganisationChange) && schema is OpenApiSchema change && change.Properties!.TryGetValue("op", out var op) && op is OpenApiSchema opSchema)
            opSchema.Description = "establish, rename, move, merge, split or dissolve.";
    }

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var path = context.ApiDescription.RelativePath?.TrimEnd('/');
        var method = context.ApiDescription.HttpMethod;
        var examples = (path, method) switch
        {
            ("api/v1/reorganisations", "POST") => new Dictionary<string, string> { ["lai-chau-2025"] = RecordReorganisationEndpoint.Example },
            ("api/v1/units", "POST") => new Dictionary<string, string>
            {
                ["always"] = """{"unitId":"xa-moi","name":"Xã Mới","type":"commune","parentId":"phong-tho"}""",
                ["from-a-date"] = """{"unitId":"bch-bdbp-lai-chau","name":"Ban Chỉ huy Bộ đội Biên phòng tỉnh Lai Châu","type":"border-guard-command","parentId":"lai-chau","validFrom":"2025-07-01"}""",
            },
            ("api/v1/units/{unitId}", "PUT") => new Dictionary<string, string>
            {
                ["dated-move"] = """{"name":"Đồn Biên phòng Ma Lù Thàng","type":"border-post","parentId":"bch-bdbp-lai-chau","effectiveFrom":"2025-07-01"}""",
                ["correction"] = """{"name":"Phong Thổ","type":"district","parentId":"lai-chau"}""",
            },
            _ => null,
        };
        if (examples is null || operation.RequestBody?.Content is not { } content || !content.TryGetValue("application/json", out var media)) return;
        media.Examples = examples.ToDictionary(e => e.Key, e => (IOpenApiExample)new OpenApiExample { Value = System.Text.Json.Nodes.JsonNode.Parse(e.Value) });
    }
}
