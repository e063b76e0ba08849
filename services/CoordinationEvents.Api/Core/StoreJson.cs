using System.Text.Json;

namespace CoordinationEvents.Api.Core;

/// <summary>
/// The JSON of events and documents in the store: camelCase (the SQL of the statistics fill reads
/// <c>data-&gt;'content'-&gt;&gt;'unitId'</c>), Vietnamese text as it is. Marten is configured with these
/// options; our own SQL readers (the feed, the consistency check) deserialize with them too.
/// </summary>
public static class StoreJson
{
    public static readonly JsonSerializerOptions Options = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    public static JsonSerializerOptions Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
        // jsonb keeps keys in its own order (shortest first), so a polymorphic document's discriminator (UnitRecord's
        // changes: "change") is rarely the first key read back.
        options.AllowOutOfOrderMetadataProperties = true;
        return options;
    }
}
