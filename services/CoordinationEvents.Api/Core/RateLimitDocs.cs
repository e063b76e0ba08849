using Microsoft.AspNetCore.Mvc;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace CoordinationEvents.Api.Core;

/// <summary>
/// Every /api/v1 operation may answer 429 (<see cref="RateLimits"/>): the OpenAPI document says so, with the
/// <c>Retry-After</c> header and the problem document.
/// </summary>
public sealed class RateLimitDocs : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var path = "/" + (context.ApiDescription.RelativePath ?? "").TrimStart('/');
        if (!path.StartsWith("/api/v1/", StringComparison.OrdinalIgnoreCase)) return;
        operation.Responses ??= new OpenApiResponses();
        if (operation.Responses.ContainsKey("429")) return;
        var problem = context.SchemaGenerator.GenerateSchema(typeof(ProblemDetails), context.SchemaRepository);
        operation.Responses["429"] = new OpenApiResponse
        {
            Description = "Too many requests: this API key is past its rate limit (RateLimits in configuration). Nothing was done; retry after the number of seconds in Retry-After.",
            Headers = new Dictionary<string, IOpenApiHeader>
            {
                ["Retry-After"] = new OpenApiHeader
                {
                    Description = "Seconds to wait before retrying.",
                    Schema = new OpenApiSchema { Type = JsonSchemaType.Integer, Minimum = "1" },
                },
            },
            Content = new Dictionary<string, OpenApiMediaType> { ["application/problem+json"] = new() { Schema = problem } },
        };
    }
}
