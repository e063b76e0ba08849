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
        services.AddHostedService<ActivitySnapshotBackfill>();
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
    /// The events under their stable names, the read model kept inline (a GET after a POST sees the write), and the
    /// write model kept inline too, as a snapshot (<c>mt_doc_activity</c>): a correction or a retraction loads it
    /// (Marten's FetchForWriting on an Inline aggregate reads the document and the stream's version, never the events),
    /// so an activity corrected 2,000 times costs what one corrected once does (issue 21). Its version is counted by
    /// <see cref="Activity.Next"/>, and Marten sets it from the appended events, which FetchForWriting and StartStream
    /// number even in Quick append mode (expected version + 1 …).
    /// </summary>
    public static void ConfigureStore(StoreOptions options)
    {
        ActivityEventTypes.Map(options);
        options.Projections.Add(new ActivityViewProjection(), ProjectionLifecycle.Inline);
        options.Projections.Add(new ActivityAggregation(), ProjectionLifecycle.Inline);
        ActivityView.Configure(options);
        // The activities counters (Core/Telemetry.cs), after every commit.
        options.Listeners.Add(new ActivityCounters());
    }
}
