using System.Text.Json;
using CoordinationEvents.Api.Activities;

namespace CoordinationEvents.Api.Storage;

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
        return options;
    }

    static readonly Dictionary<string, Type> EventTypes = new(StringComparer.Ordinal)
    {
        [ActivityEventTypes.Recorded] = typeof(ActivityRecorded),
        [ActivityEventTypes.Corrected] = typeof(ActivityCorrected),
        [ActivityEventTypes.Retracted] = typeof(ActivityRetracted),
    };

    /// <summary>An activity event from its stored type name and data.</summary>
    public static ActivityEvent Read(string type, string json) =>
        EventTypes.TryGetValue(type, out var t)
            ? (ActivityEvent)JsonSerializer.Deserialize(json, t, Options)!
            : throw new InvalidOperationException($"Unknown event type '{type}'.");
}
