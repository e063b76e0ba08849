using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization;
using CoordinationEvents.Contracts.V1;

namespace CoordinationEvents.Api.Activities;

/// <summary>
/// Reading an activity from JSON, with JSON-shape errors keyed like validation errors: System.Text.Json's path
/// <c>$.occurredOn</c> becomes <c>occurredOn</c>, <c>$.partnerUnitIds[0]</c> becomes <c>partnerUnitIds[0]</c>,
/// and a body that is not JSON at all (or not an object) is keyed <c>$</c>.
/// </summary>
public static class ActivityJson
{
    /// <summary>The key of errors about the body as a whole: not JSON, or not an object.</summary>
    public const string BodyKey = "$";

    /// <summary>
    /// Web defaults (camelCase, case-insensitive names) that refuse an unknown field (a misspelt
    /// <c>occuredOn</c> must not be silently dropped) and a field given twice.
    /// </summary>
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        AllowDuplicateProperties = false,
    };

    static readonly HashSet<string> StringFields = new(StringComparer.OrdinalIgnoreCase)
        { "externalId", "kind", "unitId", "summary", "location.communeId", "location.placeName" };

    static readonly HashSet<string> KnownFields = new(StringComparer.OrdinalIgnoreCase)
    {
        "externalId", "kind", "unitId", "partnerUnitIds", "occurredOn", "endsOn", "location", "summary", "details",
        "location.communeId", "location.placeName", "location.markers",
    };

    /// <summary>Parses and reads a whole body; a syntax error is reported under <see cref="BodyKey"/>.</summary>
    public static bool TryRead(string json, [NotNullWhen(true)] out ActivityRequest? request, out IReadOnlyDictionary<string, string[]> errors)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return TryRead(document.RootElement, out request, out errors);
        }
        catch (JsonException e)
        {
            request = null;
            errors = One(BodyKey, $"The body is not valid JSON: {WithoutPath(e.Message)}");
            return false;
        }
    }

    /// <summary>Reads one activity (a body, or one item of a batch).</summary>
    public static bool TryRead(JsonElement body, [NotNullWhen(true)] out ActivityRequest? request, out IReadOnlyDictionary<string, string[]> errors)
    {
        request = null;
        if (body.ValueKind != JsonValueKind.Object)
        {
            errors = One(BodyKey, "The body must be a JSON object holding one activity.");
            return false;
        }
        try
        {
            request = body.Deserialize<ActivityRequest>(Options)!;
            errors = new Dictionary<string, string[]>();
            return true;
        }
        catch (JsonException e)
        {
            var key = ErrorKey(e);
            errors = One(key, Describe(key, e));
            return false;
        }
    }

    /// <summary>
    /// The unit ids an activity body names (<c>unitId</c>, <c>partnerUnitIds</c>, <c>location.communeId</c>), so
    /// that the caller can make sure a unit created a moment ago is known before validating. Never throws on odd
    /// input: anything that is not a JSON string of valid text (a number, an unpaired surrogate escape, bytes
    /// that are not UTF-8) is skipped, for validation to report under its key.
    /// </summary>
    public static IEnumerable<string> UnitIdsIn(JsonElement item)
    {
        if (item.ValueKind != JsonValueKind.Object) yield break;
        if (item.TryGetProperty("unitId", out var unit) && TryGetString(unit, out var unitId)) yield return unitId;
        if (item.TryGetProperty("partnerUnitIds", out var partners) && partners.ValueKind == JsonValueKind.Array)
            foreach (var partner in partners.EnumerateArray())
                if (TryGetString(partner, out var partnerId)) yield return partnerId;
        if (item.TryGetProperty("location", out var location) && location.ValueKind == JsonValueKind.Object
            && location.TryGetProperty("communeId", out var commune) && TryGetString(commune, out var communeId)) yield return communeId;
    }

    /// <summary>The string a JSON value holds, if it is a string of valid text; false for anything else.</summary>
    public static bool TryGetString(JsonElement value, [NotNullWhen(true)] out string? s)
    {
        s = null;
        if (value.ValueKind != JsonValueKind.String)
            return false;
        try
        {
            s = value.GetString()!;
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;   // an unpaired surrogate escape, or bytes that are not UTF-8
        }
    }

    /// <summary>The error key for a <see cref="JsonException"/>: its path without the leading <c>$.</c>.</summary>
    public static string ErrorKey(JsonException e) =>
        e.Path is null or "$" or "" ? BodyKey
        : e.Path.StartsWith("$.", StringComparison.Ordinal) ? e.Path[2..]
        : e.Path.StartsWith('$') ? e.Path[1..]
        : e.Path;

    static string Describe(string key, JsonException e)
    {
        var field = key.Contains('[') ? key[..key.IndexOf('[')] : key;
        var name = field.Contains('.') ? field[(field.LastIndexOf('.') + 1)..] : field;
        if (key == BodyKey)
            return $"The body could not be read: {WithoutPath(e.Message)}";
        if (e.InnerException is InvalidOperationException { Message: var reading } && KnownFields.Contains(field)
            && (reading.Contains("UTF-16", StringComparison.Ordinal) || reading.Contains("UTF-8", StringComparison.Ordinal)))
            return Text.NotStorable(key);   // an unpaired surrogate escape, or bytes that are not UTF-8
        if (!KnownFields.Contains(field))
            return $"'{name}' is not a field of {(field.StartsWith("location.", StringComparison.OrdinalIgnoreCase) ? "a location" : "an activity")}.";
        if (e.Message.StartsWith("Duplicate", StringComparison.Ordinal))
            return $"'{key}' holds a field given more than once.";
        if (field is "occurredOn" or "endsOn")
            return $"'{name}' must be a real calendar date written YYYY-MM-DD.";
        if (field is "partnerUnitIds")
            return key == field ? "'partnerUnitIds' must be an array of unit ids (strings)." : $"'{key}' must be a unit id (a string).";
        if (field is "location.markers")
            return key == field ? "'markers' must be an array of border marker numbers (strings)." : $"'{key}' must be a string, such as \"79\".";
        if (field is "location")
            return "'location' must be an object with communeId, placeName and markers.";
        if (StringFields.Contains(field))
            return $"'{name}' must be a string.";
        return $"'{key}' could not be read: {WithoutPath(e.Message)}";
    }

    static IReadOnlyDictionary<string, string[]> One(string key, string message) =>
        new Dictionary<string, string[]>(StringComparer.Ordinal) { [key] = [message] };

    static string WithoutPath(string message)
    {
        var at = message.IndexOf(" Path: ", StringComparison.Ordinal);
        return at < 0 ? message : message[..at];
    }
}
