using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;
using FluentValidation;
using JasperFx.Events.Projections;
using Marten;

namespace CoordinationEvents.Api.Activities;

/// <summary>The Activities feature's wiring: its services, its events and read model in the store, its Swagger examples.</summary>
public static class ActivitiesFeature
{
    public static IServiceCollection AddActivities(this IServiceCollection services)
    {
        services.AddSingleton<ActivityRecorder>();
        services.AddSingleton<GroupCommit>();
        services.AddHostedService(sp => sp.GetRequiredService<GroupCommit>());
        services.AddSingleton<IValidator<RetractionRequest>, RetractActivityEndpoint.Validator>();
        services.ConfigureSwaggerGen(c =>
        {
            c.OperationFilter<ActivityExamplesFilter>();
            c.SchemaFilter<BatchItemsFilter>();
        });
        OpenApiTags.Describe(services, "Activities", "Record, read, correct and retract coordination activities (reporters record within their units; analysts read).");
        return services;
    }

    /// <summary>
    /// The events under their stable names and the one inline document of an activity (<see cref="ActivityView"/>):
    /// a GET after a POST sees the write, and a correction or a retraction decides on it (FetchForWriting on an Inline
    /// aggregate reads the document and the stream's version, never the events: issue 21's long histories).
    /// </summary>
    public static void ConfigureStore(StoreOptions options)
    {
        ActivityEventTypes.Map(options);
        options.Projections.Add(new ActivityViewProjection(), ProjectionLifecycle.Inline);
        ActivityView.Configure(options);
        // The activities counters (Core/Telemetry.cs), after every commit.
        options.Listeners.Add(new ActivityCounters());
    }
}
