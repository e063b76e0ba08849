using CoordinationEvents.Api.Core;

namespace CoordinationEvents.Api.Feed;

/// <summary>The Feed feature's wiring.</summary>
public static class FeedFeature
{
    public static IServiceCollection AddFeed(this IServiceCollection services)
    {
        OpenApiTags.Describe(services, "Feed", "Every stored event in one global order, for consumers that follow the store.");
        return services;
    }
}
