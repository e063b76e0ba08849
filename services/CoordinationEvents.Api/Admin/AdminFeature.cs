namespace CoordinationEvents.Api.Admin;

/// <summary>The Admin feature's wiring: the projection lag monitor behind the lag gauges (its endpoints are found by Wolverine).</summary>
public static class AdminFeature
{
    public static IServiceCollection AddAdmin(this IServiceCollection services)
    {
        services.AddHostedService<ProjectionLagMonitor>();
        return services;
    }
}
