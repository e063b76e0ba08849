using CoordinationEvents.Api.Core;

namespace CoordinationEvents.Api.Admin;

/// <summary>The Admin feature's wiring.</summary>
public static class AdminFeature
{
    public static IServiceCollection AddAdmin(this IServiceCollection services)
    {
        OpenApiTags.Describe(services, "Admin", "Projections, their lag and rebuilds, and the consistency check of the statistics.");
        services.AddHostedService<ProjectionLagMonitor>();
        return services;
    }
}
