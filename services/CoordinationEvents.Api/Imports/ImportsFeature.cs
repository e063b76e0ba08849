using CoordinationEvents.Api.Core;
using Marten;

namespace CoordinationEvents.Api.Imports;

/// <summary>The Imports feature's wiring: its tables (jobs, raw lines, chunk results, problem lines).</summary>
public static class ImportsFeature
{
    public static IServiceCollection AddImports(this IServiceCollection services)
    {
        OpenApiTags.Describe(services, "Imports", "Backfills: up to a million activities as NDJSON, recorded in the background as a durable job.");
        return services;
    }

    public static void ConfigureStore(StoreOptions options)
    {
        foreach (var table in ImportStore.Tables()) options.Storage.ExtendedSchemaObjects.Add(table);
    }
}
