using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Units;
using CoordinationEvents.Contracts.V1;
using Marten;
using Npgsql;

namespace CoordinationEvents.Benchmarks;

/// <summary>The unit trees the benchmark posts to: the seed, and the seed grown to about 400 units.</summary>
public static class BenchUnits
{
    public const int PostsPerDistrict = 5;
    public const int CommunesPerDistrict = 16;

    public static IReadOnlyList<Unit> Seed { get; } = UnitSeed.Units.Select(u => new Unit(u.UnitId, u.Name, u.Type, u.ParentId)).ToArray();

    /// <summary>
    /// The seed plus border posts and communes under every district, up to <see cref="PostsPerDistrict"/> and
    /// <see cref="CommunesPerDistrict"/> each: what a province's real tree looks like.
    /// </summary>
    public static IReadOnlyList<Unit> Grown()
    {
        var units = Seed.ToList();
        foreach (var district in Seed.Where(u => u.Type == UnitTypes.District).ToArray())
        {
            var posts = units.Count(u => u.ParentId == district.UnitId && u.Type == UnitTypes.BorderPost);
            for (var i = posts + 1; i <= PostsPerDistrict; i++)
                units.Add(new Unit($"{district.UnitId}-don-{i}", $"Đồn Biên phòng số {i} ({district.Name})", UnitTypes.BorderPost, district.UnitId));
            var communes = units.Count(u => u.ParentId == district.UnitId && u.Type == UnitTypes.Commune);
            for (var i = communes + 1; i <= CommunesPerDistrict; i++)
                units.Add(new Unit($"{district.UnitId}-xa-{i}", $"Xã biên giới số {i} ({district.Name})", UnitTypes.Commune, district.UnitId));
        }
        return units;
    }

    /// <summary>
    /// Establishes the units that the database does not have yet, as the service's seed does (a <c>unit-established</c>
    /// event per unit, recorded from the unit's beginning): before the service first starts, its seed then finds the
    /// organisation already there and adds nothing.
    /// </summary>
    public static async Task InsertAsync(IDocumentStore store, IReadOnlyList<Unit> units)
    {
        await using var session = store.LightweightSession();
        var existing = (await session.Query<UnitRecord>().Select(r => r.UnitId).ToListAsync()).ToHashSet(StringComparer.Ordinal);
        var now = DateTimeOffset.UtcNow;
        foreach (var u in units.Where(u => !existing.Contains(u.UnitId)))
            session.Events.StartStream(UnitEventTypes.StreamIdOf(u.UnitId), new UnitEstablished
            {
                UnitId = u.UnitId, Name = u.Name.Normalize(NormalizationForm.FormC), Type = u.Type, ParentId = u.ParentId,
                RecordedAt = now, By = "bench",
            });
        await session.SaveChangesAsync();
    }
}

/// <summary>
/// Realistic activities: the 13 example bodies of <see cref="ActivityExamples.ByKind"/> with their dimensions and
/// figures varied, spread over the units of a tree (mostly border posts and communes), the kinds (patrols and
/// outreach most often) and every day of 2019–2024. Every body and every content passes the service's validation.
/// </summary>
public sealed class ActivityFactory
{
    public static readonly DateOnly FirstDay = new(2019, 1, 1);
    public static readonly DateOnly LastDay = new(2024, 12, 31);

    static readonly (string Kind, int Weight)[] KindWeights =
    [
        ("patrol", 25), ("outreach", 15), ("meeting", 10), ("crime-bust", 10), ("political-base", 6), ("welfare", 6),
        ("foreign-affairs", 6), ("twinning", 4), ("rescue", 4), ("commendation", 4), ("weapons-recovery", 4),
        ("border-day", 3), ("self-management", 3),
    ];

    static readonly JsonSerializerOptions JsonOut = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    readonly UnitTree tree;
    readonly Unit[] leaves, districts, provinces;
    readonly string[] kindByTicket;
    readonly Dictionary<string, ActivityContent[]> contents = new(StringComparer.Ordinal);
    readonly DateOnly today = VietnamCalendar.DateAt(DateTimeOffset.UtcNow);

    public ActivityFactory(IReadOnlyList<Unit> units, int seed = 42)
    {
        tree = new UnitTree(units);
        leaves = units.Where(u => u.Type is UnitTypes.BorderPost or UnitTypes.Commune).ToArray();
        districts = units.Where(u => u.Type == UnitTypes.District).ToArray();
        provinces = units.Where(u => u.Type == UnitTypes.Province).ToArray();
        kindByTicket = KindWeights.SelectMany(k => Enumerable.Repeat(k.Kind, k.Weight)).ToArray();

        // Per kind, validated contents with varied dimensions and figures; each activity then gets its own
        // externalId, unit, partners and date.
        var random = new Random(seed);
        foreach (var (kind, _) in KindWeights)
            contents[kind] = Enumerable.Range(0, 24).Select(_ =>
            {
                var body = VariedBody(kind, random);
                return Validate(body.ToJsonString(JsonOut));
            }).ToArray();
    }

    public UnitTree Tree => tree;

    /// <summary>A post, commune, district or province: 85% leaves, 13% districts, 2% provinces.</summary>
    public Unit NextUnit(Random random)
    {
        var roll = random.Next(100);
        var pool = roll < 85 && leaves.Length > 0 ? leaves : roll < 98 ? districts : provinces;
        return pool[random.Next(pool.Length)];
    }

    public string NextKind(Random random) => kindByTicket[random.Next(kindByTicket.Length)];

    public static DateOnly NextDate(Random random) => FirstDay.AddDays(random.Next(LastDay.DayNumber - FirstDay.DayNumber + 1));

    /// <summary>A valid content, as the service would have made it from a posted body.</summary>
    public ActivityContent NextContent(Random random, string externalId)
    {
        var kind = NextKind(random);
        var template = contents[kind][random.Next(contents[kind].Length)];
        var unit = NextUnit(random);
        var date = NextDate(random);
        return template with
        {
            ExternalId = externalId,
            UnitId = unit.UnitId,
            PartnerUnitIds = unit.ParentId is null ? [] : [unit.ParentId],
            OccurredOn = date,
            EndsOn = template.EndsOn is { } ends ? date.AddDays(ends.DayNumber - template.OccurredOn.DayNumber) : null,
            Location = Relocate(template.Location, unit),
        };
    }

    /// <summary>A valid POST body (JSON, UTF-8 text as a posting system sends it).</summary>
    public string NextBody(Random random, string externalId)
    {
        var kind = NextKind(random);
        var body = VariedBody(kind, random);
        var unit = NextUnit(random);
        var date = NextDate(random);
        var original = DateOnly.ParseExact(body["occurredOn"]!.GetValue<string>(), "yyyy-MM-dd", CultureInfo.InvariantCulture);
        body["externalId"] = externalId;
        body["unitId"] = unit.UnitId;
        body["partnerUnitIds"] = unit.ParentId is null ? new JsonArray() : new JsonArray(unit.ParentId);
        body["occurredOn"] = Date(date);
        if (body["endsOn"] is JsonNode endsOn)
            body["endsOn"] = Date(date.AddDays(DateOnly.ParseExact(endsOn.GetValue<string>(), "yyyy-MM-dd", CultureInfo.InvariantCulture).DayNumber - original.DayNumber));
        if (body["location"] is JsonObject location)
        {
            if (unit.Type == UnitTypes.Commune) location["communeId"] = unit.UnitId;
            else location.Remove("communeId");
            if (location.Count == 0) body.Remove("location");
        }
        return body.ToJsonString(JsonOut);
    }

    /// <summary>Checks a body with the service's own validation; throws on any error (a bug of this factory).</summary>
    public ActivityContent Validate(string body)
    {
        using var document = JsonDocument.Parse(body);
        var outcome = ActivityRules.Check(document.RootElement, tree, today);
        return outcome.Content ?? throw new InvalidOperationException(
            $"The benchmark made an invalid activity: {string.Join("; ", outcome.Errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}"))}\n{body}");
    }

    static ActivityLocation? Relocate(ActivityLocation? location, Unit unit)
    {
        if (location is null) return null;
        if (unit.Type == UnitTypes.Commune) return location with { CommuneId = unit.UnitId };
        return location.PlaceName is null && (location.Markers?.Count ?? 0) == 0 ? null : location with { CommuneId = null };
    }

    /// <summary>The kind's example body with every dimension drawn at random and every figure scaled by 0.5–1.5.</summary>
    static JsonObject VariedBody(string kind, Random random)
    {
        var body = JsonNode.Parse(ActivityExamples.ByKind[kind])!.AsObject();
        var definition = KindCatalog.Get(kind);
        var details = body["details"]!.AsObject();
        foreach (var dimension in definition.Dimensions)
            details[dimension.Name] = dimension.Values[random.Next(dimension.Values.Count)];
        foreach (var metric in definition.Metrics)
        {
            if (details[metric.Name] is not JsonNode node) continue;
            var value = node.GetValue<double>();
            var scale = 0.5 + random.NextDouble();
            details[metric.Name] = metric switch
            {
                { IsKindCount: true } => JsonValue.Create(random.Next(10) == 0 ? random.Next(2, 6) : 1),
                { Type: MetricType.Decimal } => JsonValue.Create(Math.Round((decimal)(value * scale), 1)),
                { Type: MetricType.Vnd } => JsonValue.Create((long)(value * scale) / 1000 * 1000),
                _ => JsonValue.Create((long)Math.Round(value * scale)),
            };
        }
        return body;
    }

    static string Date(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}

/// <summary>
/// Ready POST bodies with a placeholder for the externalId, so that the load clients spend their CPU on
/// requests, not on building JSON (they share the machine with the service and the database).
/// </summary>
public sealed class BodyPool
{
    const string Placeholder = "__EXTERNAL_ID__";
    readonly string[] templates;

    public BodyPool(ActivityFactory factory, int size, int seed = 7)
    {
        var random = new Random(seed);
        templates = Enumerable.Range(0, size).Select(_ =>
        {
            var body = factory.NextBody(random, Placeholder);
            factory.Validate(body.Replace(Placeholder, "check"));
            return body;
        }).ToArray();
    }

    public string Body(long index, string externalId) => templates[index % templates.Length].Replace(Placeholder, externalId);
}
