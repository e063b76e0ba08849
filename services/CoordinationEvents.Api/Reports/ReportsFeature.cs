using CoordinationEvents.Api.Core;
using Marten;

namespace CoordinationEvents.Api.Reports;

/// <summary>The Reports feature's wiring: its OpenAPI tag and the table of issued reports.</summary>
public static class ReportsFeature
{
    public static IServiceCollection AddReports(this IServiceCollection services)
    {
        OpenApiTags.Describe(services, "Reports", "The review report (sơ kết, tổng kết) of a unit and period, as JSON, Markdown or Word, and the reports issued and kept as issued.");
        return services;
    }

    public static void ConfigureStore(StoreOptions options) =>
        options.Storage.ExtendedSchemaObjects.Add(IssuedReportStore.Definition());
}
