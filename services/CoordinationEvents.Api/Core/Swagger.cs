using Microsoft.OpenApi;

namespace CoordinationEvents.Api.Core;

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
        c.OperationFilter<RateLimitDocs>();
        c.CustomSchemaIds(t => t.FullName!.Replace("CoordinationEvents.", "").Replace("Contracts.V1.", "").Replace('+', '.'));
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
                    .ToDictionary(type => type, type => new OpenApiMediaType
                    {
                        Schema = schema,
                        Example = doc?.Example is { } example ? System.Text.Json.Nodes.JsonValue.Create(example) : null,
                    }),
            };
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

/// <summary>
/// Accepts metadata of a body that the endpoint reads itself (so Wolverine does not describe it), with the words
/// and example that the OpenAPI document gives it (the NDJSON lines of an import).
/// </summary>
public interface IRequestBodyDoc : Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata
{
    string Description { get; }
    string? Example { get; }
}
