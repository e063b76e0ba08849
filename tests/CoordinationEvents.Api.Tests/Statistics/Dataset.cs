using System.Globalization;
using System.Text.Json.Nodes;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Units;

namespace CoordinationEvents.Api.Tests.Statistics;

/// <summary>
/// A generated, seeded dataset of activities and an independent oracle: the statistics computed here,
/// straight from what was posted (and corrected, and retracted), by plain loops over the records.
/// It reads domain.md's rules, not the service's tables or code.
/// </summary>
public sealed class Dataset
{
    public sealed class Record
    {
        public required string ExternalId { get; init; }
        public required JsonObject Body { get; set; }
        public Guid ActivityId { get; set; }
        public int Version { get; set; } = 1;
        public bool Retracted { get; set; }
        public int PostOrder { get; init; }

        public string Kind => Body["kind"]!.GetValue<string>();
        public string UnitId => Body["unitId"]!.GetValue<string>();
        public DateOnly OccurredOn => DateOnly.ParseExact(Body["occurredOn"]!.GetValue<string>(), "yyyy-MM-dd", CultureInfo.InvariantCulture);
        public JsonObject Details => Body["details"]!.AsObject();
    }

    public static readonly DateOnly Start = new(2019, 1, 1), End = new(2024, 12, 31);
    public static readonly Dictionary<string, string?> Parents = UnitSeed.Units.ToDictionary(u => u.UnitId, u => u.ParentId);
    public static readonly string[] UnitIds = [.. Parents.Keys];

    public List<Record> Records { get; } = [];
    readonly Random random;
    readonly HashSet<(string, DateOnly)> stockDays = [];

    public Dataset(int seed) => random = new Random(seed);

    public Record NewRecord(string prefix)
    {
        var kind = KindCatalog.All[random.Next(KindCatalog.All.Count)];
        var unit = UnitIds[random.Next(UnitIds.Length)];
        var date = RandomDate();
        if (kind.IsStock)
            while (!stockDays.Add((unit, date))) date = RandomDate(); // one declaration per unit and day: "later" is then unambiguous
        var record = new Record
        {
            ExternalId = $"{prefix}-{Records.Count:D5}",
            Body = new JsonObject
            {
                ["externalId"] = $"{prefix}-{Records.Count:D5}",
                ["kind"] = kind.Name,
                ["unitId"] = unit,
                ["occurredOn"] = date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                ["summary"] = $"Hoạt động phối hợp số {Records.Count} – {kind.VietnameseName}",
                ["details"] = RandomDetails(kind),
            },
            PostOrder = Records.Count,
        };
        Records.Add(record);
        return record;
    }

    public DateOnly RandomDate() => Start.AddDays(random.Next(End.DayNumber - Start.DayNumber + 1));

    public JsonObject RandomDetails(KindDefinition kind)
    {
        var details = new JsonObject();
        foreach (var d in kind.Dimensions) details[d.Name] = d.Values[random.Next(d.Values.Count)];
        var aggregate = random.Next(4) == 0; // a monthly aggregate rather than one event
        foreach (var m in kind.Metrics)
        {
            if (m.IsKindCount)
            {
                if (aggregate) details[m.Name] = random.Next(2, 60);
                else if (random.Next(2) == 0) details[m.Name] = 1; // else left out: defaults to 1
                continue;
            }
            if (random.Next(3) == 0) continue; // absent metrics count 0
            details[m.Name] = m.Type switch
            {
                MetricType.Count => random.Next(0, aggregate ? 5_000 : 200),
                MetricType.Decimal => Math.Round((decimal)random.NextDouble() * 900m, random.Next(0, 4)),
                _ => (long)(random.NextDouble() * 9_000_000_000_000), // VND: totals pass 10^13
            };
        }
        return details;
    }

    public void Correct(Record record)
    {
        var body = record.Body.DeepClone().AsObject();
        switch (random.Next(4))
        {
            case 0: body["occurredOn"] = RandomDate().ToString("yyyy-MM-dd", CultureInfo.InvariantCulture); break;
            case 1: body["unitId"] = UnitIds[random.Next(UnitIds.Length)]; break;
            default: body["details"] = RandomDetails(KindCatalog.Get(record.Kind)); break;
        }
        if (KindCatalog.Get(record.Kind).IsStock)
        {
            // Keep each unit's declarations on distinct days.
            body["occurredOn"] = record.Body["occurredOn"]!.DeepClone();
            body["unitId"] = record.Body["unitId"]!.DeepClone();
        }
        record.Body = body;
    }

    // ---------------- The oracle ----------------

    public sealed record Query(DateOnly From, DateOnly To, string? UnitId, string[] Kinds, Dictionary<string, string[]> Filters, string[] GroupBy)
    {
        public string ToQueryString()
        {
            var parts = new List<string> { $"from={From:yyyy-MM-dd}", $"to={To:yyyy-MM-dd}" };
            if (UnitId is not null) parts.Add($"unitId={UnitId}");
            if (Kinds.Length > 0) parts.Add($"kind={string.Join(',', Kinds)}");
            if (GroupBy.Length > 0) parts.Add($"groupBy={string.Join(',', GroupBy)}");
            parts.AddRange(Filters.Select(f => $"{f.Key}={string.Join(',', f.Value)}"));
            return string.Join('&', parts);
        }
    }

    static IEnumerable<string> Ancestry(string unit)
    {
        for (string? u = unit; u is not null; u = Parents[u]) yield return u;
    }

    static decimal Num(JsonNode n) => decimal.Parse(n.ToJsonString(), CultureInfo.InvariantCulture);

    static string? DimensionOf(KindDefinition kind, JsonObject details, string name) =>
        kind.Dimensions.Any(d => d.Name == name) ? details[name]!.GetValue<string>() : null;

    static string TimeLabel(string key, DateOnly d) => key switch
    {
        "year" => d.Year.ToString(CultureInfo.InvariantCulture),
        "quarter" => $"{d.Year}-Q{(d.Month - 1) / 3 + 1}",
        _ => d.ToString("yyyy-MM", CultureInfo.InvariantCulture),
    };

    /// <summary>Which row an activity of this unit falls in, for groupBy unit; null when outside the filter.</summary>
    static string? RowUnit(Query q, string unit)
    {
        var chain = Ancestry(unit).ToList();
        if (q.UnitId is null) return chain[^1];
        var at = chain.IndexOf(q.UnitId);
        return at < 0 ? null : at == 0 ? q.UnitId : chain[at - 1];
    }

    bool Passes(Query q, Record r)
    {
        var kind = KindCatalog.Get(r.Kind);
        if (q.Kinds.Length > 0 && !q.Kinds.Contains(r.Kind)) return false;
        return q.Filters.All(f => DimensionOf(kind, r.Details, f.Key) is { } v && f.Value.Contains(v));
    }

    public (Dictionary<string, Dictionary<string, decimal>> Rows, Dictionary<string, decimal> Totals) Expected(Query q)
    {
        var rows = new Dictionary<string, Dictionary<string, decimal>>();
        var totals = new Dictionary<string, decimal>();
        var active = Records.Where(r => !r.Retracted && Passes(q, r) && RowUnit(q, r.UnitId) is not null).ToList();
        var timeKey = q.GroupBy.FirstOrDefault(g => g is "year" or "quarter" or "month");

        void Add(Dictionary<string, decimal> into, string metric, decimal value)
        {
            if (value != 0) into[metric] = into.GetValueOrDefault(metric) + value;
        }
        Dictionary<string, decimal> Row(string key) => rows.TryGetValue(key, out var r) ? r : rows[key] = new Dictionary<string, decimal>();

        // Flows: every activity in the period, by what its row key says.
        foreach (var r in active.Where(r => r.OccurredOn >= q.From && r.OccurredOn <= q.To))
        {
            var kind = KindCatalog.Get(r.Kind);
            var key = RowKey(q, kind, r.Details, RowUnit(q, r.UnitId)!, timeKey is null ? null : TimeLabel(timeKey, r.OccurredOn));
            foreach (var target in new[] { Row(key), totals })
            {
                Add(target, "activities", 1);
                if (kind.IsStock) continue;
                foreach (var m in kind.Metrics)
                    Add(target, m.Name, r.Details[m.Name] is { } v ? Num(v) : m.IsKindCount ? 1 : 0);
            }
        }

        // Stocks: per unit, its latest declaration on or before each end, summed into the unit's row.
        var stockKind = KindCatalog.All.Single(k => k.IsStock);
        var ends = new List<(string? Label, DateOnly End)>();
        if (timeKey is null) ends.Add((null, q.To));
        else
        {
            var months = timeKey switch { "year" => 12, "quarter" => 3, _ => 1 };
            var bucket = new DateOnly(q.From.Year, timeKey == "year" ? 1 : (q.From.Month - 1) / months * months + 1, 1);
            for (; bucket <= q.To; bucket = bucket.AddMonths(months))
            {
                var end = bucket.AddMonths(months).AddDays(-1);
                ends.Add((TimeLabel(timeKey, bucket), end < q.To ? end : q.To));
            }
        }
        foreach (var unitGroup in active.Where(r => KindCatalog.Get(r.Kind).IsStock).GroupBy(r => r.UnitId))
        {
            foreach (var (label, end) in ends)
            {
                var latest = unitGroup.Where(r => r.OccurredOn <= end).MaxBy(r => (r.OccurredOn, r.PostOrder));
                if (latest is null) continue;
                foreach (var m in stockKind.Metrics)
                    Add(Row(RowKey(q, stockKind, latest.Details, RowUnit(q, unitGroup.Key)!, label)), m.Name,
                        latest.Details[m.Name] is { } v ? Num(v) : 0);
            }
            var atTo = unitGroup.Where(r => r.OccurredOn <= q.To).MaxBy(r => (r.OccurredOn, r.PostOrder));
            if (atTo is not null)
                foreach (var m in stockKind.Metrics)
                    Add(totals, m.Name, atTo.Details[m.Name] is { } v ? Num(v) : 0);
        }

        foreach (var key in rows.Where(r => r.Value.Count == 0).Select(r => r.Key).ToList()) rows.Remove(key);
        return (rows, totals);
    }

    static string RowKey(Query q, KindDefinition kind, JsonObject details, string unit, string? time) =>
        string.Join("|", q.GroupBy.Select(g => g switch
        {
            "kind" => kind.Name,
            "unit" => unit,
            "year" or "quarter" or "month" => time,
            _ => DimensionOf(kind, details, g),
        } ?? "∅"));
}
