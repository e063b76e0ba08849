using Marten;

namespace CoordinationEvents.Api.Reports;

/// <summary>The Reports feature's wiring: the table of issued reports.</summary>
public static class ReportsFeature
{
    public static void ConfigureStore(StoreOptions options) =>
        options.Storage.ExtendedSchemaObjects.Add(IssuedReportStore.Definition());
}
