using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CoordinationEvents.Contracts.V1;

namespace CoordinationEvents.Api.Activities;

/// <summary>
/// An activity as the service records it: validated and normalized, what the events carry.
/// Built by <see cref="ActivityRules.Check(ActivityRequest, CoordinationEvents.Api.Core.UnitTree, DateOnly)"/>, never by hand
/// from a request.
/// </summary>
/// <param name="PartnerUnitIds">De-duplicated, in the order the posting system gave them. A set as far as
/// content goes: <see cref="CanonicalJson"/> (so the hash and equality) sorts it, so a repeat or a correction
/// that lists the same partners in another order is the same content.</param>
/// <param name="Location">Null when the request had none (or only empty fields); otherwise its
/// <c>Markers</c> is never null.</param>
/// <param name="Summary">Empty when the request had none.</param>
/// <param name="Details">Only the fields of <paramref name="Kind"/>, in ordinal key order, with the kind's own
/// count defaulted to 1 when absent; other absent metrics are absent, not 0. Counts and VND are JSON integers,
/// decimals JSON numbers without trailing zeros, dimension values and texts JSON strings.</param>
public sealed record ActivityContent(
    string ExternalId,
    string Kind,
    string UnitId,
    IReadOnlyList<string> PartnerUnitIds,
    DateOnly OccurredOn,
    DateOnly? EndsOn,
    ActivityLocation? Location,
    string Summary,
    IReadOnlyDictionary<string, JsonElement> Details)
{
    /// <summary>
    /// The value of a metric in this activity: <c>activities</c> is always 1; a metric of the kind that the
    /// record left out, or a metric of another kind, is 0.
    /// </summary>
    public decimal Metric(string name)
    {
        if (name == KindCatalog.ActivitiesMetric)
            return 1m;
        return Details.TryGetValue(name, out var value)
            && value.ValueKind == JsonValueKind.Number
            && value.TryGetDecimal(out var number)
                ? number
                : 0m;
    }

    /// <summary>The value of a dimension (<c>mode</c>, <c>category</c> …); null if the kind has no such dimension.</summary>
    public string? DimensionValue(string name) =>
        KindCatalog.TryGet(Kind, out var kind)
        && kind.Dimension(name) is not null
        && Details.TryGetValue(name, out var value)
        && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    /// <summary>
    /// SHA-256 (lower-case hex) of <see cref="CanonicalJson"/>: equal for two requests that mean the same thing,
    /// different otherwise. Used to tell a repeated post (200) from a conflicting one (409).
    /// </summary>
    public string ContentHash()
    {
        // Every new activity is hashed once (its read model keeps the hash), so this is written into a reused
        // builder and a pooled buffer rather than a string and its bytes. Chunks encode on their own: the canonical
        // form escapes every surrogate, so no character pair straddles two chunks.
        var json = hashBuilder ??= new StringBuilder(4_096);
        json.Clear();
        WriteCanonical(json);
        var bytes = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(json.Length));
        try
        {
            var length = 0;
            foreach (var chunk in json.GetChunks()) length += Encoding.UTF8.GetBytes(chunk.Span, bytes.AsSpan(length));
            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(bytes.AsSpan(0, length), hash);
            return Convert.ToHexStringLower(hash);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
            if (json.Capacity > 64 * 1_024) hashBuilder = null; // a rare huge activity does not stay pinned to the thread
        }
    }

    [ThreadStatic] static StringBuilder? hashBuilder;

    /// <summary>Value equality by canonical content (the lists and the details dictionary included), not by reference.</summary>
    public bool Equals(ActivityContent? other) => other is not null && CanonicalJson() == other.CanonicalJson();

    public override int GetHashCode() => CanonicalJson().GetHashCode(StringComparison.Ordinal);

    /// <summary>
    /// One fixed serialization of the content: camelCase, fields in declaration order, every optional field
    /// written (null or empty), partner ids as a set (distinct, ordinal order), detail keys in ordinal order, numbers without trailing zeros, strings escaped
    /// only where JSON requires it plus every UTF-16 surrogate as <c>\uXXXX</c> (so the form does not depend on
    /// an encoder's Unicode tables, which change between runtime versions).
    /// </summary>
    public string CanonicalJson()
    {
        var json = new StringBuilder(1_024);
        WriteCanonical(json);
        return json.ToString();
    }

    void WriteCanonical(StringBuilder json)
    {
        json.Append('{');
        Property(json, "externalId", first: true); String(json, ExternalId);
        Property(json, "kind"); String(json, Kind);
        Property(json, "unitId"); String(json, UnitId);
        Property(json, "partnerUnitIds"); StringArray(json, PartnerUnitIds.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray());
        Property(json, "occurredOn"); Date(json, OccurredOn);
        Property(json, "endsOn"); Date(json, EndsOn);
        Property(json, "location");
        if (Location is null)
        {
            json.Append("null");
        }
        else
        {
            json.Append('{');
            Property(json, "communeId", first: true); String(json, Location.CommuneId);
            Property(json, "placeName"); String(json, Location.PlaceName);
            Property(json, "markers"); StringArray(json, Location.Markers ?? []);
            json.Append('}');
        }
        Property(json, "summary"); String(json, Summary);
        Property(json, "details");
        json.Append('{');
        var first = true;
        foreach (var key in Details.Keys.Order(StringComparer.Ordinal))
        {
            Property(json, key, first);
            first = false;
            Value(json, Details[key]);
        }
        json.Append("}}");
    }

    static void Property(StringBuilder json, string name, bool first = false)
    {
        if (!first)
            json.Append(',');
        String(json, name);
        json.Append(':');
    }

    static void Date(StringBuilder json, DateOnly? date)
    {
        if (date is { } d)
            json.Append('"').Append(d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).Append('"');
        else
            json.Append("null");
    }

    static void StringArray(StringBuilder json, IReadOnlyList<string> items)
    {
        json.Append('[');
        for (var i = 0; i < items.Count; i++)
        {
            if (i > 0)
                json.Append(',');
            String(json, items[i]);
        }
        json.Append(']');
    }

    static void Value(StringBuilder json, JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                String(json, value.GetString());
                break;
            case JsonValueKind.Number when value.TryGetDecimal(out var number):
                json.Append(DetailValues.Normalize(number).ToString(CultureInfo.InvariantCulture));
                break;
            default:
                // Never produced by validation; written as given so that a hash is still defined.
                json.Append(value.GetRawText());
                break;
        }
    }

    static void String(StringBuilder json, string? s)
    {
        if (s is null)
        {
            json.Append("null");
            return;
        }
        json.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': json.Append("\\\""); break;
                case '\\': json.Append("\\\\"); break;
                case '\n': json.Append("\\n"); break;
                case '\r': json.Append("\\r"); break;
                case '\t': json.Append("\\t"); break;
                case '\b': json.Append("\\b"); break;
                case '\f': json.Append("\\f"); break;
                default:
                    if (c < ' ' || char.IsSurrogate(c))
                        json.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else
                        json.Append(c);
                    break;
            }
        }
        json.Append('"');
    }
}
