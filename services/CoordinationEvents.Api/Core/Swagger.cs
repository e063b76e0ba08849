using Microsoft.OpenApi;

namespace CoordinationEvents.Api.Core;

public static class Swagger
{
    /// <summary>The document's frame; the conventions last, after every feature's own filters (PostConfigure), so they see every parameter and body.</summary>
    public static IServiceCollection AddSwagger(this IServiceCollection services) => services
        .PostConfigure<Swashbuckle.AspNetCore.SwaggerGen.SwaggerGenOptions>(c =>
        {
            c.OperationFilter<OpenApiConventions>();
            c.DocumentFilter<OpenApiConventions>();
        })
        .AddSwaggerGen(c =>
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
        // A property whose type is a component and may be null (an activity's location) is allOf [the component] with
        // nullable: in OpenAPI 3.0 a bare $ref cannot say "or null", and the service does answer null there.
        c.UseAllOfToExtendReferenceSchemas();
        c.CustomSchemaIds(t => t.FullName!.Replace("CoordinationEvents.", "").Replace("Contracts.V1.", "")
            .Replace("Microsoft.AspNetCore.Mvc.", "").Replace("Microsoft.AspNetCore.Http.", "").Replace('+', '.'));
        c.OperationFilter<RateLimitDocs>();
    });

    /// <summary>
    /// The body of each endpoint whose body Wolverine does not read itself (it describes only those): the JSON bodies
    /// that <see cref="StrictJsonBodyStrategy"/> reads, and bodies described by an <see cref="IRequestBodyDoc"/> (the
    /// NDJSON lines of an import, whose schema is that of one line). The type and media types come from the endpoint's
    /// accepts metadata.
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
            var doc = accepts as IRequestBodyDoc;
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Description = doc?.Description,
                Content = (accepts.ContentTypes.Count > 0 ? accepts.ContentTypes : ["application/json"])
                    .ToDictionary(type => type, type => doc is null
                        ? new OpenApiMediaType { Schema = schema }
                        // Text the endpoint reads itself (NDJSON lines): OpenAPI 3.0 has no schema for a sequence of JSON documents.
                        : new OpenApiMediaType
                        {
                            Schema = new OpenApiSchema { Type = JsonSchemaType.String, Description = doc.SchemaDescription },
                            Example = doc.Example is { } example ? System.Text.Json.Nodes.JsonValue.Create(example) : null,
                        }),
            };
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

/// <summary>
/// Accepts metadata of a body that the endpoint reads itself (so Wolverine does not describe it), with the words
/// and example that the OpenAPI document gives it (the NDJSON lines of an import).
/// </summary>
public interface IRequestBodyDoc : Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata
{
    string Description { get; }
    string SchemaDescription { get; }
    string? Example { get; }
}
