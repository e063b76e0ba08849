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
        c.CustomSchemaIds(t => t.FullName!.Replace("CoordinationEvents.", "").Replace("Contracts.V1.", "").Replace('+', '.'));
    });

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
