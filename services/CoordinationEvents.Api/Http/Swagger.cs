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
            Description = "Coordination activities of Vietnam's border guard and border districts: record them, and read exact statistics and review reports for any unit and period. Every /api/v1 call needs an X-Api-Key; every error is an RFC 9457 problem document (application/problem+json).",
            // The service has no open-source licence: it is the operator's, used under its terms.
            License = new OpenApiLicense { Name = "Proprietary: all rights reserved by the operator" },
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
        c.SchemaFilter<BatchItemsFilter>();
        c.OperationFilter<OpenApiConventions>(); // last: it sees every parameter and body the others added
        c.DocumentFilter<OpenApiConventions>();
        // A property whose type is a component and may be null (an activity's location) is allOf [the component] with
        // nullable: in OpenAPI 3.0 a bare $ref cannot say "or null", and the service does answer null there.
        c.UseAllOfToExtendReferenceSchemas();
        c.CustomSchemaIds(t => t.FullName!.Replace("CoordinationEvents.", "").Replace("Contracts.V1.", "")
            .Replace("Microsoft.AspNetCore.Mvc.", "").Replace("Microsoft.AspNetCore.Http.", "").Replace('+', '.'));
    });

    /// <summary>
    /// The body of each endpoint whose body Wolverine does not read itself (it describes only those): the JSON bodies
    /// that <see cref="StrictJsonBodyStrategy"/> reads, and the NDJSON lines of an import
    /// (<see cref="Imports.AcceptsNdjsonAttribute"/>). The type and media types come from the endpoint's accepts metadata;
    /// for NDJSON the schema is that of one line.
    /// </summary>
    sealed class RequestBodiesFilter : Swashbuckle.AspNetCore.SwaggerGen.IOperationFilter
    {
        public void Apply(OpenApiOperation operation, Swashbuckle.AspNetCore.SwaggerGen.OperationFilterContext context)
        {
            if (operation.RequestBody is not null) return;
            var accepts = context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>()
                .FirstOrDefault(a => a.RequestType is not null);
            if (accepts is null) return;
            var schema = context.SchemaGenerator.GenerateSchema(accepts.RequestType!, context.SchemaRepository);
            var ndjson = accepts is Imports.AcceptsNdjsonAttribute;
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Description = ndjson
                    ? $"NDJSON: one activity per line (UTF-8, lines end with \\n), each exactly as the body of POST /api/v1/activities (the schema ActivityRequest); blank lines are skipped; at most {Imports.ImportEndpoints.MaxLines:N0} lines."
                    : null,
                Content = (accepts.ContentTypes.Count > 0 ? accepts.ContentTypes : ["application/json"])
                    .ToDictionary(type => type, type => ndjson
                        // The body is text, lines of JSON: OpenAPI 3.0 has no schema for a sequence of JSON documents.
                        ? new OpenApiMediaType
                        {
                            Schema = new OpenApiSchema { Type = JsonSchemaType.String, Description = "NDJSON lines, each an ActivityRequest." },
                            Example = System.Text.Json.Nodes.JsonValue.Create(NdjsonExample()),
                        }
                        : new OpenApiMediaType { Schema = schema }),
            };
        }

        static string NdjsonExample() => string.Join("\n", new[] { "patrol", "crime-bust" }.Select((kind, i) =>
        {
            var node = System.Text.Json.Nodes.JsonNode.Parse(Activities.ActivityExamples.ByKind[kind])!.AsObject();
            node["externalId"] = $"backfill-{i + 1}";
            return node.ToJsonString();
        })) + "\n";
    }

    /// <summary>
    /// A batch's items are read one by one (each gets its own result), so the contract type holds them as raw JSON; to
    /// a client each is an activity, as the body of POST /api/v1/activities, and there are at most 1,000.
    /// </summary>
    sealed class BatchItemsFilter : Swashbuckle.AspNetCore.SwaggerGen.ISchemaFilter
    {
        public void Apply(IOpenApiSchema schema, Swashbuckle.AspNetCore.SwaggerGen.SchemaFilterContext context)
        {
            if (context.Type != typeof(Contracts.V1.BatchRequest) || schema.Properties?.TryGetValue("activities", out var items) != true
                || items is not OpenApiSchema activities) return;
            activities.Items = context.SchemaGenerator.GenerateSchema(typeof(Contracts.V1.ActivityRequest), context.SchemaRepository);
            activities.MaxItems = Activities.ActivityEndpoints.MaxBatch;
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
        // The server is the instance that serves the document, as the client reached it: Swagger UI calls it, and a
        // generated client gets the URL it fetched the document from.
        app.UseSwagger(o => o.PreSerializeFilters.Add((document, request) =>
            document.Servers = [new OpenApiServer { Url = $"{request.Scheme}://{request.Host.Value}{request.PathBase}", Description = "This instance of the service" }]));
        app.UseSwaggerUI(o =>
        {
            o.SwaggerEndpoint("/swagger/v1/swagger.json", "CoordinationEvents v1");
            o.EnablePersistAuthorization();
        });
        return app;
    }
}
