using CoordinationEvents.Api.Auth;
using Microsoft.OpenApi;

namespace CoordinationEvents.Api.Http;

public static class Swagger
{
    public static IServiceCollection AddSwagger(this IServiceCollection services) => services.AddSwaggerGen(c =>
    {
        c.SwaggerDoc("v1", new OpenApiInfo
        {
            Title = "CoordinationEvents API",
            Version = "v1",
            Description = "Coordination activities of Vietnam's border guard and border districts: record them, and read exact statistics and review reports for any unit and period.",
        });
        c.AddSecurityDefinition(ApiKeyHandler.SchemeName, new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Header,
            Name = ApiKeyHandler.Header,
            Description = "An API key. In Development: dev-reporter-key, dev-analyst-key or dev-admin-key.",
        });
        c.AddSecurityRequirement(document => new OpenApiSecurityRequirement
        {
            [new OpenApiSecuritySchemeReference(ApiKeyHandler.SchemeName, document)] = [],
        });
        c.OperationFilter<RequestBodiesFilter>();
        c.OperationFilter<ActivityExamplesFilter>();
        c.OperationFilter<StatisticsParameterDocs>();
        c.CustomSchemaIds(t => t.FullName!.Replace("CoordinationEvents.", "").Replace("Contracts.V1.", "").Replace('+', '.'));
    });

    /// <summary>
    /// The JSON body of each endpoint whose body <see cref="StrictJsonBodyStrategy"/> reads (Wolverine describes only
    /// the bodies it reads itself): the type comes from the endpoint's accepts metadata.
    /// </summary>
    sealed class RequestBodiesFilter : Swashbuckle.AspNetCore.SwaggerGen.IOperationFilter
    {
        public void Apply(OpenApiOperation operation, Swashbuckle.AspNetCore.SwaggerGen.OperationFilterContext context)
        {
            if (operation.RequestBody is not null) return;
            var accepts = context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>()
                .FirstOrDefault(a => a.RequestType is not null);
            if (accepts is null) return;
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/json"] = new() { Schema = context.SchemaGenerator.GenerateSchema(accepts.RequestType!, context.SchemaRepository) },
                },
            };
        }
    }

    /// <summary>One example body per activity kind on POST and PUT of an activity, and on the batch.</summary>
    sealed class ActivityExamplesFilter : Swashbuckle.AspNetCore.SwaggerGen.IOperationFilter
    {
        public void Apply(OpenApiOperation operation, Swashbuckle.AspNetCore.SwaggerGen.OperationFilterContext context)
        {
            var path = context.ApiDescription.RelativePath?.TrimEnd('/');
            var method = context.ApiDescription.HttpMethod;
            var single = (path == "api/v1/activities" && method == "POST") || (path == "api/v1/activities/{activityId}" && method == "PUT");
            var batch = path == "api/v1/activities/batch" && method == "POST";
            if (!(single || batch) || operation.RequestBody?.Content is not { } content || !content.TryGetValue("application/json", out var media)) return;

            var examples = new Dictionary<string, IOpenApiExample>();
            foreach (var (kind, json) in Activities.ActivityExamples.ByKind)
            {
                var body = System.Text.Json.Nodes.JsonNode.Parse(json)!;
                if (batch) body = new System.Text.Json.Nodes.JsonObject { ["activities"] = new System.Text.Json.Nodes.JsonArray(body) };
                examples[kind] = new OpenApiExample { Summary = Activities.KindCatalog.Get(kind).VietnameseName, Value = body };
            }
            media.Examples = examples;
        }
    }

    public static WebApplication UseSwaggerUi(this WebApplication app)
    {
        app.UseSwagger();
        app.UseSwaggerUI(o =>
        {
            o.SwaggerEndpoint("/swagger/v1/swagger.json", "CoordinationEvents v1");
            o.EnablePersistAuthorization();
        });
        return app;
    }
}
