using Marten;

namespace CoordinationEvents.Api.Imports;

/// <summary>The Imports feature's wiring: its tables (jobs, raw lines, chunk results, problem lines).</summary>
public static class ImportsFeature
{
    public static void ConfigureStore(StoreOptions options)
    {
        foreach (var table in ImportStore.Tables()) options.Storage.ExtendedSchemaObjects.Add(table);
    }
}
