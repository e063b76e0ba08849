using CoordinationEvents.Api.Core;
using JasperFx.Events.Projections;
using Marten;

namespace CoordinationEvents.Api.Statistics;

/// <summary>The Statistics feature's wiring: the async projection and its tables, the reader, the rebuild, the query's OpenAPI parameters.</summary>
public static class StatisticsFeature
{
    public static IServiceCollection AddStatistics(this IServiceCollection services)
    {
        services.AddSingleton<StatisticsProjection>();
        services.AddSingleton<StatisticsReader>();
        services.AddSingleton<StatisticsRebuild>();
        services.AddHostedService(sp => sp.GetRequiredService<StatisticsRebuild>());
        services.ConfigureSwaggerGen(c => c.OperationFilter<StatisticsParameterDocs>());
        OpenApiTags.Describe(services, "Statistics", "Exact figures for any unit's subtree and period, grouped by kind, unit, time or dimension; JSON or CSV.");
        return services;
    }

    /// <summary>
    /// The statistics projection runs asynchronously in Marten's daemon (never inline: Quick append does not tell an
    /// inline projection what a correction replaces, and the hot province cells deadlock under group commit; README).
    /// </summary>
    public static void ConfigureStore(StoreOptions options, StatisticsProjection statistics)
    {
        options.Projections.Add(statistics, ProjectionLifecycle.Async, StatisticsProjection.ProjectionName, async =>
        {
            // Up to 2,500 events per batch when behind (under batch ingest): the cells of a batch are summed in memory
            // first, so the more events a batch holds, the fewer rows each adds to (PostgreSQL's cell upsert per batched
            // activity 0.044-0.045 ms against 0.051-0.066 with 1,000, make bench --ingest-only). Lag stays under 1 s.
            async.BatchSize = 2_500;
            // Marten's own rebuild (the `projections` command) starts from empty tables.
            async.DeleteDataInTableOnTeardown(StatisticsProjection.Cells);
            async.DeleteDataInTableOnTeardown(StatisticsProjection.Stocks);
            async.DeleteDataInTableOnTeardown(StatisticsProjection.Position);
        });
        foreach (var table in StatisticsProjection.Tables()) options.Storage.ExtendedSchemaObjects.Add(table);
        foreach (var guard in StatisticsProjection.GuardObjects()) options.Storage.ExtendedSchemaObjects.Add(guard);
        options.Storage.ExtendedSchemaObjects.Add(StatisticsRebuild.Table());
        options.Storage.ExtendedSchemaObjects.Add(StatisticsProjection.LayoutTable());
    }
}
