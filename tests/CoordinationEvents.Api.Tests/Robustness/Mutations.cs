using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Activities;

namespace CoordinationEvents.Api.Tests.Robustness;

/// <summary>
/// Seeded mutations of valid request bodies and query strings: field deletion, type swaps, odd numbers, long
/// strings, text PostgreSQL cannot store, calendar-edge dates, unknown fields, nested junk, duplicated
/// parameters. Everything is drawn from one <see cref="Random"/>, so a seed replays the same requests.
/// <para>Text that a JsonNode cannot carry (an unpaired surrogate escape, bytes that are not UTF-8) is written
/// as a marker (<c>§HIGH§</c>) and substituted in the serialized text (<c>\ud800</c>) or bytes (0xFF).</para>
/// </summary>
public sealed class Mutations(Random random)
{
    static readonly JsonSerializerOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, MaxDepth = 512 };

    // Markers replaced in the JSON text: escapes that System.Text.Json's writer would refuse or normalize.
    static readonly (string Marker, string Escape)[] TextMarkers =
    [
        ("§NUL§", "\\u0000"), ("§HIGH§", "\\ud800"), ("§LOW§", "\\udc00"), ("§REVERSED§", "\\udc00\\ud800"),
    ];

    // Markers replaced in the UTF-8 bytes: sequences that are not UTF-8.
    static readonly (string Marker, byte[] Bytes)[] ByteMarkers =
    [
        ("§FF§", [0xFF]), ("§OVERLONG-NUL§", [0xC0, 0x80]), ("§CESU-SURROGATE§", [0xED, 0xA0, 0x80]),
        ("§TRUNCATED§", [0xE1, 0xBA]), ("§C1§", [0xC2]),
    ];

    public static readonly string[] Dates =
    [
        "0001-01-01", "0001-01-02", "9999-12-31", "9999-12-30", "9999-12-01", "9999-01-01", "2024-02-30", "2023-02-29",
        "2024-02-29", "10000-01-01", "0000-01-01", "-0001-01-01", "2024-13-01", "2024-00-10", "2024-04-31",
        "2024-04-12T08:00:00+07:00", "2024-04-12T23:59:59Z", "08:00", "08:00:00", "2024-W15", "20240412", "2024-4-12",
        " 2024-04-12", "2024-04-12 ", "1899-12-31", "1900-01-01", "2099-01-01", "2024-04-12", "2019-01-01", "2024-06-30",
        "", "null", "§NUL§", "2024-04-1§NUL§",
    ];

    static readonly string[] RawNumbers =
    [
        "0", "-0", "-1", "1", "2", "1.5", "0.0001", "1e3", "1E+2", "1e-7", "1e308", "-1e308", "1e400", "-1e400", "1e-400",
        "123456789012345678901234567890", "9223372036854775807", "9223372036854775808", "-9223372036854775809",
        "2147483647", "2147483648", "1000000", "1000001", "10000000000000", "10000000000001", "97.2290", "12.3456",
        "1.0", "3e0", "0.5e1", "79228162514264337593543950335", "79228162514264337593543950336", "1e28", "1e29",
        "0.00000000000000000000000000001", "1000000.0001",
    ];

    static readonly string[] KnownIds =
        ["phong-tho", "lai-chau", "huoi-luong", "don-ma-lu-thang", "si-lo-lau", "muong-te", "don-si-lo-lau"];

    public static string[] Strings { get; } = BuildStrings();

    static string[] BuildStrings()
    {
        var list = new List<string>
        {
            "", " ", "\t", "\n", "§NUL§", "a§NUL§b", "§NUL§phong-tho", "§HIGH§", "x§LOW§y", "§REVERSED§", "ab§HIGH§",
            "§FF§", "a§OVERLONG-NUL§b", "§CESU-SURROGATE§", "x§TRUNCATED§", "§C1§",
            "\u0001\u001f\u007f", "\u0085\u009f", "\u2028\u2029", "\ufeffTuần tra", "\ufffe\uffff", "a\ufffeb", "\u200b",
            "Tuần tra đường biên mốc 79".Normalize(NormalizationForm.FormD), "\u0301\u0301\u0301", "🇻🇳 Biên giới 🏔️",
            "Đồn Biên phòng Ma Lù Thàng", "null", "true", "1", "%00", "'; drop table events; --", "<script>alert(1)</script>",
            "../../etc/passwd", "${jndi:ldap://x}", "{{7*7}}", "\\u0000", "patrol", "PATROL", "joint", "Joint",
            new string('x', 200), new string('x', 201), new string('ạ', 501), new string('ạ', 4_000), new string('ạ', 4_001),
            new string('x', 60_000), string.Concat(Enumerable.Repeat("e\u0301", 2_500)),
        };
        list.AddRange(Dates);
        list.AddRange(KnownIds);
        list.AddRange(KindCatalog.All.Select(k => k.Name));
        list.AddRange(KindCatalog.All.SelectMany(k => k.Dimensions).SelectMany(d => d.Values).Distinct());
        return list.ToArray();
    }

    static readonly string[] UnknownFields =
        ["zzz", "Kind", "EXTERNALID", "activityId", "version", "$type", "__proto__", "occuredOn", "details", "", "§NUL§", "§HIGH§", "a.b", "patrols"];

    public T Pick<T>(IReadOnlyList<T> items) => items[random.Next(items.Count)];

    public bool Chance(double p) => random.NextDouble() < p;

    public int Next(int max) => random.Next(max);

    /// <summary>A Guid from the seed, so that a replay asks for the same unknown ids.</summary>
    public Guid NewGuid()
    {
        var bytes = new byte[16];
        random.NextBytes(bytes);
        return new Guid(bytes);
    }

    // ---------- JSON values ----------

    public JsonNode? JunkValue(int depth = 0)
    {
        switch (random.Next(depth > 2 ? 3 : 6))
        {
            case 0: return JsonNode.Parse(Pick(RawNumbers));
            case 1: return JsonValue.Create(Pick(Strings));
            case 2: return Pick<JsonNode?>([null, JsonValue.Create(true), JsonValue.Create(false)]);
            case 3:
                return random.Next(4) switch
                {
                    0 => new JsonArray(),
                    1 => new JsonArray(JunkValue(depth + 1), JunkValue(depth + 1)),
                    2 => new JsonArray(Enumerable.Range(0, random.Next(40, 3_000)).Select(i => (JsonNode?)JsonValue.Create(i.ToString())).ToArray()),
                    _ => new JsonArray(JsonValue.Create(Pick(KnownIds)), JsonValue.Create(Pick(KnownIds)), JsonValue.Create(Pick(KnownIds))),
                };
            case 4:
                return new JsonObject { [Pick(UnknownFields)] = JunkValue(depth + 1), ["patrols"] = JunkValue(depth + 1) };
            default:
                return Deep(random.Next(2) == 0 ? 10 : 70);
        }
    }

    static JsonNode Deep(int levels)
    {
        JsonNode node = new JsonArray(1);
        for (var i = 0; i < levels; i++) node = i % 2 == 0 ? new JsonArray(node) : new JsonObject { ["a"] = node };
        return node;
    }

    /// <summary>A value of the same JSON type as <paramref name="current"/>, but odd (for a date: a calendar edge).</summary>
    JsonNode? OddOfSameType(JsonNode? current, string name)
    {
        if (current is JsonValue v && v.GetValueKind() == JsonValueKind.String)
        {
            if (name is "occurredOn" or "endsOn" || Chance(0.15)) return JsonValue.Create(Pick(Dates));
            var s = v.GetValue<string>();
            return JsonValue.Create(random.Next(8) switch
            {
                0 => s + "§NUL§",
                1 => s[..(s.Length / 2)] + "§HIGH§" + s[(s.Length / 2)..],
                2 => !s.Contains('\uFFFE') && s.IsNormalized(NormalizationForm.FormC) ? s.Normalize(NormalizationForm.FormD) : s + "\u0301",
                3 => s.ToUpperInvariant(),
                4 => "  " + s + "\t",
                5 => string.Concat(Enumerable.Repeat(s, random.Next(2, 400))),
                6 => s + "§FF§",
                _ => Pick(Strings),
            });
        }
        if (current is JsonValue n && n.GetValueKind() == JsonValueKind.Number) return JsonNode.Parse(Pick(RawNumbers));
        if (current is JsonArray a)
        {
            var copy = (JsonArray)a.DeepClone();
            switch (random.Next(4))
            {
                case 0: copy.Add(JsonValue.Create(Pick(Strings))); break;
                case 1: if (copy.Count > 0) copy.Add(copy[0]?.DeepClone()); break;
                case 2: Shuffle(copy); break;
                default: copy.Add(JsonValue.Create(Pick(KnownIds))); break;
            }
            return copy;
        }
        return JunkValue();
    }

    void Shuffle(JsonArray array)
    {
        var items = array.Select(n => n?.DeepClone()).ToList();
        array.Clear();
        foreach (var item in items.OrderBy(_ => random.Next())) array.Add(item);
    }

    /// <summary>1 to 3 changes anywhere in the tree: remove, replace by junk or an odd value of its type, add an
    /// unknown field, wrap in an array.</summary>
    public void Mutate(JsonNode root)
    {
        var count = 1 + random.Next(3);
        for (var i = 0; i < count; i++)
        {
            var slots = new List<(JsonNode Parent, string? Name, int Index)>();
            Collect(root, slots);
            if (slots.Count == 0) return;
            var (parent, name, index) = Pick(slots);
            var current = name is not null ? parent[name] : parent[index];
            var op = random.Next(10);
            if (op == 0 && parent is JsonObject o1) { o1.Remove(name!); continue; }
            if (op == 0 && parent is JsonArray a1) { a1.RemoveAt(index); continue; }
            if (op == 1 && parent is JsonObject o2) { o2[Pick(UnknownFields) + (Chance(0.5) ? "" : random.Next(9))] = JunkValue(); continue; }
            JsonNode? replacement = op switch
            {
                2 => JunkValue(),
                3 => new JsonArray(current?.DeepClone()),
                4 => new JsonObject { ["value"] = current?.DeepClone() },
                _ => OddOfSameType(current, name ?? ""),
            };
            if (name is not null) parent[name] = replacement;
            else parent[index] = replacement;
        }
    }

    static void Collect(JsonNode node, List<(JsonNode, string?, int)> slots)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (name, child) in o.ToArray())
                {
                    slots.Add((o, name, -1));
                    if (child is not null) Collect(child, slots);
                }
                break;
            case JsonArray a:
                for (var i = 0; i < Math.Min(a.Count, 50); i++)
                {
                    slots.Add((a, null, i));
                    if (a[i] is { } child) Collect(child, slots);
                }
                break;
        }
    }

    /// <summary>The node as JSON text, markers turned into escapes, sometimes broken at the text level
    /// (a field given twice, truncated, trailing junk, a BOM).</summary>
    public string ToJson(JsonNode? node, bool breakText = true)
    {
        var json = node?.ToJsonString(Compact) ?? "null";
        foreach (var (marker, escape) in TextMarkers) json = json.Replace(marker, escape, StringComparison.Ordinal);
        if (!breakText || !Chance(0.12)) return json;
        return random.Next(6) switch
        {
            0 when json.StartsWith('{') && json.Length > 2 => "{\"kind\":\"patrol\"," + json[1..],            // a field twice
            1 => json[..random.Next(json.Length)],                                                           // truncated
            2 => json + Pick(new[] { "}", "]", " x", ",", "\u0000", "{}" }),
            3 => "\ufeff" + json,
            4 => json.Replace(":", ": /* c */ ", StringComparison.Ordinal),
            _ => json.Replace("\"", "'", StringComparison.Ordinal),
        };
    }

    /// <summary>UTF-8 bytes of <paramref name="json"/>, byte markers turned into bytes that are not UTF-8.</summary>
    public static byte[] ToBytes(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        foreach (var (marker, raw) in ByteMarkers)
        {
            var m = Encoding.UTF8.GetBytes(marker);
            bytes = ReplaceBytes(bytes, m, raw);
        }
        return bytes;
    }

    static byte[] ReplaceBytes(byte[] source, byte[] find, byte[] with)
    {
        var at = source.AsSpan().IndexOf(find);
        if (at < 0) return source;
        var result = new List<byte>(source.Length);
        var span = source.AsSpan();
        while ((at = span.IndexOf(find)) >= 0)
        {
            result.AddRange(span[..at].ToArray());
            result.AddRange(with);
            span = span[(at + find.Length)..];
        }
        result.AddRange(span.ToArray());
        return result.ToArray();
    }

    // ---------- query strings ----------

    static readonly string[] QueryInts =
        ["0", "1", "2", "50", "500", "501", "1000", "1001", "-1", "2147483647", "2147483648", "99999999999999999999", "1e2", "1.5", " 5", "0x10", "５", "", "abc", "%00", "1%00"];

    static readonly string[] RawQueryValues =
    [
        "%00", "a%00b", "%FF", "%ED%A0%80", "%C0%80", "%E2%80%A8", "%", "%zz", "+", "%2C%2C", ",,,", "%20,%20", "%EF%BB%BF",
        "%F0%9F%87%BB%F0%9F%87%B3", "phong-tho%00", "patrol,%00", "kind,kind,kind",
    ];

    /// <summary>A query value: a raw percent-encoded token, or an escaped string from the pools.</summary>
    public string QueryValue(IReadOnlyList<string>? typical = null)
    {
        var r = random.Next(10);
        if (r < 2) return Pick(RawQueryValues);
        if (r < 4) return Pick(QueryInts);
        if (r < 6) return Escape(Pick(Dates));
        if (r < 8 && typical is not null) return Escape(Pick(typical));
        var s = Pick(Strings);
        return Escape(s.Length > 3_000 ? s[..3_000] : s);
    }

    /// <summary>Escapes for a query string; markers become the bytes they stand for, percent-encoded.</summary>
    public static string Escape(string s)
    {
        foreach (var (marker, _) in TextMarkers) s = s.Replace(marker, marker == "§NUL§" ? "\0" : "\uFFFD", StringComparison.Ordinal);
        var escaped = Uri.EscapeDataString(s);
        foreach (var (marker, raw) in ByteMarkers)
            escaped = escaped.Replace(Uri.EscapeDataString(marker), string.Concat(raw.Select(b => $"%{b:X2}")), StringComparison.Ordinal);
        return escaped;
    }

    /// <summary>A mutated query string from a valid one: parameters dropped, doubled, emptied, renamed, odd values,
    /// unknown parameters.</summary>
    public string Query(IReadOnlyList<(string Name, string Value)> valid, IReadOnlyDictionary<string, string[]> typical)
    {
        var pairs = valid.Select(p => (p.Name, Value: Escape(p.Value))).ToList();
        var count = 1 + random.Next(3);
        for (var i = 0; i < count; i++)
        {
            var names = typical.Keys.ToArray();
            var name = pairs.Count > 0 && Chance(0.6) ? Pick(pairs).Name : Pick(names);
            var values = typical.GetValueOrDefault(name);
            switch (random.Next(8))
            {
                case 0: pairs.RemoveAll(p => p.Name == name); break;
                case 1: pairs.Add((name, QueryValue(values))); break;                                  // doubled
                case 2: pairs.RemoveAll(p => p.Name == name); pairs.Add((name, "")); break;
                case 3: pairs.RemoveAll(p => p.Name == name); pairs.Add((name, "")); pairs[^1] = (name + "", ""); break;
                case 4: pairs.Add((Pick(new[] { "zzz", "From", "UNITID", "limit[]", "%00", "%FF", "a%00b", "groupBy%00", "format", "after", "cursor", "mode", "hazard" }), QueryValue(values))); break;
                case 5 when values is not null:
                    pairs.RemoveAll(p => p.Name == name);
                    pairs.Add((name, string.Join(",", Enumerable.Range(0, random.Next(1, 6)).Select(_ => Escape(Pick(values))))));
                    break;
                default:
                    pairs.RemoveAll(p => p.Name == name);
                    pairs.Add((name, QueryValue(values)));
                    break;
            }
        }
        if (Chance(0.05)) return "?" + string.Join("&", pairs.Select(p => p.Name)) + "&&=&";   // names without values
        return pairs.Count == 0 ? "" : "?" + string.Join("&", pairs.Select(p => $"{p.Name}={p.Value}"));
    }
}
