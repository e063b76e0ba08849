using System.Buffers;
using System.Collections.Immutable;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

using CoordinationEvents.Api.Core;

namespace CoordinationEvents.Api.Activities;

/// <summary>
/// The rules for one kind's <c>details</c>, built once per kind from <see cref="KindCatalog"/>: only the kind's
/// fields, every dimension present and one of its values, counts whole and within limits, decimals with at most
/// <see cref="KindCatalog.DecimalPlaces"/> places, texts within <see cref="KindCatalog.MaxTextLength"/>.
/// Reading and checking are one pass, so what is validated is exactly what is stored.
/// </summary>
public sealed class KindDetailsRules
{
    static readonly Dictionary<string, KindDetailsRules> ByKind =
        KindCatalog.All.ToDictionary(k => k.Name, k => new KindDetailsRules(k), StringComparer.Ordinal);

    static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static KindDetailsRules For(KindDefinition kind) => ByKind[kind.Name];

    enum FieldType { Dimension, Count, Decimal, Vnd, Text }

    sealed record Field(string Name, FieldType Type, bool IsKindCount, IReadOnlyList<string> Values, string Rule);

    readonly KindDefinition kind;
    readonly Dictionary<string, Field> fields = new(StringComparer.Ordinal);
    readonly string fieldList;

    KindDetailsRules(KindDefinition kind)
    {
        this.kind = kind;
        foreach (var d in kind.Dimensions)
            fields.Add(d.Name, new(d.Name, FieldType.Dimension, false, d.Values,
                $"'{d.Name}' must be one of: {string.Join(", ", d.Values)}."));
        foreach (var m in kind.Metrics)
        {
            var (type, rule) = m.Type switch
            {
                MetricType.Count => (FieldType.Count,
                    $"'{m.Name}' must be a whole number from {(m.IsKindCount ? 1 : 0)} to {Thousands(KindCatalog.MaxCount)}."),
                MetricType.Decimal => (FieldType.Decimal,
                    $"'{m.Name}' must be a number from 0 to {Thousands(KindCatalog.MaxDecimal)} with at most {KindCatalog.DecimalPlaces} decimal places."),
                MetricType.Vnd => (FieldType.Vnd,
                    $"'{m.Name}' must be a whole number of đồng from 0 to {Thousands(KindCatalog.MaxVnd)}."),
                _ => throw new InvalidOperationException($"Unknown metric type {m.Type}."),
            };
            fields.Add(m.Name, new(m.Name, type, m.IsKindCount, [], rule));
        }
        foreach (var t in kind.TextFields)
            fields.Add(t, new(t, FieldType.Text, false, [], $"'{t}' must be text of at most {KindCatalog.MaxTextLength} characters."));
        fieldList = fields.Count == 0 ? "(none)" : string.Join(", ", fields.Keys);
    }

    /// <summary>
    /// Checks <paramref name="details"/> (a JSON object, or null/undefined for "no fields given") and returns
    /// the normalized fields, or null after reporting each problem through <paramref name="error"/> as
    /// (<c>details.&lt;field&gt;</c>, message). A value that is not an object is the caller's to report.
    /// </summary>
    public ImmutableSortedDictionary<string, JsonElement>? Validate(JsonElement? details, Action<string, string> error)
    {
        var values = new SortedDictionary<string, object>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var failed = false;
        void Fail(string key, string message)
        {
            failed = true;
            error(key, message);
        }

        if (details is { ValueKind: JsonValueKind.Object } obj)
        {
            foreach (var property in obj.EnumerateObject())
            {
                string name;
                try
                {
                    name = property.Name;
                }
                catch (InvalidOperationException)
                {
                    Fail("details", "'details' has a field name that is not valid Unicode text.");
                    continue;
                }
                var key = "details." + name;
                if (!seen.Add(name))
                    Fail(key, $"'{name}' appears more than once in 'details'.");
                else if (!fields.TryGetValue(name, out var field))
                    Fail(key, $"'{name}' is not a field of kind '{kind.Name}'; its fields are: {fieldList}.");
                else if (Read(field, property.Value, out var value, out var message))
                {
                    if (value is not null)
                        values[name] = value;
                }
                else
                    Fail(key, message);
            }
        }

        foreach (var dimension in kind.Dimensions)
        {
            if (!seen.Contains(dimension.Name))
                Fail("details." + dimension.Name,
                    $"'{dimension.Name}' is required for kind '{kind.Name}': one of {string.Join(", ", dimension.Values)}.");
        }
        if (failed)
            return null;

        foreach (var metric in kind.Metrics)
        {
            if (metric.IsKindCount && !values.ContainsKey(metric.Name))
                values[metric.Name] = 1L;
        }
        return ToElements(values);
    }

    static bool Read(Field field, JsonElement value, out object? result, out string message)
    {
        result = null;
        message = field.Rule;
        switch (field.Type)
        {
            case FieldType.Dimension:
                if (JsonInput.TryGetString(value, out var s) && Text.Clean(s) is { } v && field.Values.Contains(v, StringComparer.Ordinal))
                {
                    result = v;
                    return true;
                }
                return false;

            case FieldType.Count:
                if (DetailValues.TryWhole(value, field.IsKindCount ? 1 : 0, KindCatalog.MaxCount, out var count))
                {
                    result = count;
                    return true;
                }
                return false;

            case FieldType.Vnd:
                if (DetailValues.TryWhole(value, 0, KindCatalog.MaxVnd, out var amount))
                {
                    result = amount;
                    return true;
                }
                return false;

            case FieldType.Decimal:
                if (DetailValues.TryDecimal(value, out var number))
                {
                    result = number;
                    return true;
                }
                return false;

            case FieldType.Text:
                if (!JsonInput.TryGetString(value, out var text))
                    return false;
                if (!Text.IsStorable(text))
                {
                    message = Text.NotStorable(field.Name);
                    return false;
                }
                text = Text.Clean(text)!;
                if (text.Length > KindCatalog.MaxTextLength)
                {
                    message = $"{field.Rule[..^1]}; it has {text.Length}.";
                    return false;
                }
                result = text.Length == 0 ? null : text;   // an empty text says nothing: left out
                return true;

            default:
                return false;
        }
    }

    static ImmutableSortedDictionary<string, JsonElement> ToElements(SortedDictionary<string, object> values)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            foreach (var (name, value) in values)
            {
                switch (value)
                {
                    case string s: writer.WriteString(name, s); break;
                    case long l: writer.WriteNumber(name, l); break;
                    case decimal d: writer.WriteNumber(name, d); break;
                    default: throw new InvalidOperationException($"Unexpected detail value {value.GetType()}.");
                }
            }
            writer.WriteEndObject();
        }
        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        var root = document.RootElement.Clone();
        var result = ImmutableSortedDictionary.CreateBuilder<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in root.EnumerateObject())
            result.Add(property.Name, property.Value);
        return result.ToImmutable();
    }

    static string Thousands(decimal n) => n.ToString("#,0", CultureInfo.InvariantCulture);
}

/// <summary>How detail numbers are read and written.</summary>
public static class DetailValues
{
    /// <summary>
    /// A JSON number (not a string, bool or null) that is a whole number within [min, max]; <c>3.0</c> and
    /// <c>3e0</c> are the whole number 3.
    /// </summary>
    public static bool TryWhole(JsonElement value, long min, long max, out long result)
    {
        result = 0;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDecimal(out var d))
            return false;
        if (d != decimal.Truncate(d) || d < min || d > max)
            return false;
        result = (long)d;
        return true;
    }

    /// <summary>A JSON number from 0 to <see cref="KindCatalog.MaxDecimal"/> with at most
    /// <see cref="KindCatalog.DecimalPlaces"/> significant decimal places (97.2290 is 97.229), normalized.</summary>
    public static bool TryDecimal(JsonElement value, out decimal result)
    {
        result = 0;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDecimal(out var d))
            return false;
        if (d < 0 || d > KindCatalog.MaxDecimal || decimal.Round(d, KindCatalog.DecimalPlaces) != d)
            return false;
        result = Normalize(d);
        return true;
    }

    /// <summary>The same value without trailing zeros (12.500 → 12.5, 3.0 → 3) and without a negative zero.</summary>
    public static decimal Normalize(decimal d) => d == 0 ? 0m : d / 1.0000000000000000000000000000m;
}
