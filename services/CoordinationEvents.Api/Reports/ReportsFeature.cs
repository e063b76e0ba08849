using CoordinationEvents.Api.Core;

namespace CoordinationEvents.Api.Reports;

/// <summary>The Reports feature's wiring.</summary>
public static class ReportsFeature
{
    public static IServiceCollection AddReports(this IServiceCollection services)
    {
        OpenApiTags.Describe(services, "Reports", "The review report (sơ kết, tổng kết) of a unit and period, as JSON or Markdown.");
        return services;
    }
}
