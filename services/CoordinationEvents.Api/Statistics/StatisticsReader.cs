using System.Globalization;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;
using Npgsql;

namespace CoordinationEvents.Api.Statistics;

/// <summary>Answers statistics queries from the projection's tables.</summary>
public sealed class StatisticsReader(NpgsqlDataSource db)
{

    public async Task<StatisticsResponse> QueryAsync(StatisticsQuery q, UnitTree tree, CancellationToken ct)
    {
        var byUnit = q.GroupBy.Contains(StatisticsQuery.Unit);
        var scope = q.UnitId is null ? tree.Roots.Select(u => u.UnitId).ToArray() : [q.UnitId];
        var children = q.UnitId is null ? [] : tree.ChildrenOf(q.UnitId).Select(u => u.UnitId).ToArray();
        var units = byUnit ? scope.Concat(children).ToArray() : scope;
        var (months, days) = Decompose(q.From, q.To);
        var timed = q.TimeKey is not null;
        var buckets = timed ? Buckets(q).ToArray() : [];

        // Stocks: each unit's latest declaration on or before the end of the row's period (or `to`). Asked on a
        // connection of its own while the flows are read: the two take about as long (a district by month at 10M:
        // 9.6 and 8.6 ms in PostgreSQL), so the answer waits for the longer, not for both.
        var stockKind = KindCatalog.All.First(k => k.IsStock);
        var ends = timed ? buckets.Select(b => b.End).ToArray() : [q.To];
        var declaredTask = q.IncludesKind(stockKind.Name) && q.Passes(stockKind, "", "")
            ? LatestStocksAsync(ends.Append(q.To).Distinct().ToArray(), scope.SelectMany(tree.Subtree).Distinct().ToArray(), ct)
            : null;

        // Flow sums, grouped by what the answer needs. Dimension filters apply to (kind, d1, d2), which every
        // row carries, so they are applied here, exactly.
        var rows = new Dictionary<RowKey, Dictionary<string, decimal>>();
        var totals = new Dictionary<string, decimal>();
        void AddTo(RowKey key, KindDefinition kind, decimal[] values, int sign)
        {
            if (!rows.TryGetValue(key, out var metrics)) rows[key] = metrics = new Dictionary<string, decimal>();
            AddSlots(metrics, kind, values, sign);
        }
        // Without a dimension filter or a dimension in groupBy, a kind's cells are summed over their dimensions
        // in the database: fewer rows to read back (a district by month: 2,466 rows become 936).
        async Task ReadFlowsAsync()
        {
            await using var cmd = db.CreateCommand($"""
                select unit_id, kind, {(q.NeedsDimensions ? "d1, d2" : "'', ''")}, {(timed ? "width_bucket(bucket, $9::date[])" : "0")},
                       {string.Join(", ", Enumerable.Range(0, StatisticsProjection.Slots).Select(i => $"sum(v{i})"))}
                from {StatisticsProjection.Cells}
                where unit_id = any($1)
                  and ($2::text[] is null or kind = any($2))
                  and ((period = 'm' and bucket between $3 and $4)
                    or (period = 'd' and (bucket between $5 and $6 or bucket between $7 and $8)))
                group by 1, 2, 3, 4, 5
                """);
            cmd.Parameters.AddWithValue(units);
            cmd.Parameters.Add(new NpgsqlParameter { Value = q.Kinds.Count == 0 ? DBNull.Value : q.Kinds.ToArray(), NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text });
            cmd.Parameters.AddWithValue(months.First);
            cmd.Parameters.AddWithValue(months.Last);
            cmd.Parameters.AddWithValue(days[0].First);
            cmd.Parameters.AddWithValue(days[0].Last);
            cmd.Parameters.AddWithValue(days[1].First);
            cmd.Parameters.AddWithValue(days[1].Last);
            // Days and months fall into the row's year, quarter or month in the database: fewer rows come back.
            if (timed) cmd.Parameters.AddWithValue(buckets.Select(b => b.Start).ToArray());
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var unit = reader.GetString(0);
                var kind = KindCatalog.Get(reader.GetString(1));
                var (d1, d2) = (reader.GetString(2), reader.GetString(3));
                if (!q.Passes(kind, d1, d2)) continue;
                var time = timed ? buckets[reader.GetInt32(4) - 1].Label : null;
                var values = new decimal[StatisticsProjection.Slots];
                for (var i = 0; i < values.Length; i++) values[i] = reader.GetDecimal(5 + i);

                if (scope.Contains(unit))
                {
                    AddSlots(totals, kind, values, +1);
                    AddTo(Key(q, byUnit ? unit : null, kind, d1, d2, time), kind, values, +1);
                }
                else
                {
                    // A child's subtree is its own row; the filter unit's row keeps only its own activities.
                    AddTo(Key(q, unit, kind, d1, d2, time), kind, values, +1);
                    AddTo(Key(q, q.UnitId, kind, d1, d2, time), kind, values, -1);
                }
            }
        }

        // Both reads finish before the answer is built, and a failure of either is the caller's, never left unobserved.
        var flows = ReadFlowsAsync();
        await (declaredTask is null ? flows : Task.WhenAll(flows, declaredTask));

        if (declaredTask is not null)
        {
            var declared = declaredTask.Result;
            string? RowUnit(string unit) => q.UnitId is null
                ? tree.SelfAndAncestors(unit).Last()
                : tree.SelfAndAncestors(unit).TakeWhile(a => a != q.UnitId).LastOrDefault() ?? q.UnitId;
            foreach (var ((end, unit), values) in declared)
            {
                if (end == q.To) AddSlots(totals, stockKind, values, +1, stocks: true);
                if (!ends.Contains(end)) continue;
                var key = new RowKey(q.GroupBy.Select(g => g switch
                {
                    StatisticsQuery.Kind => stockKind.Name,
                    StatisticsQuery.Unit => RowUnit(unit),
                    StatisticsQuery.Year or StatisticsQuery.Quarter or StatisticsQuery.Month => TimeLabel(g, end),
                    _ => null,
                }).ToArray());
                if (!rows.TryGetValue(key, out var metrics)) rows[key] = metrics = new Dictionary<string, decimal>();
                AddSlots(metrics, stockKind, values, +1, stocks: true);
            }
        }

        var ordered = rows.Where(r => r.Value.Values.Any(v => v != 0))
            .OrderBy(r => r.Key, RowKey.Comparer)
            .Select(r => new StatisticsRow(
                q.GroupBy.Select((g, i) => (g, r.Key.Values[i])).ToDictionary(x => x.g, x => x.Item2),
                Order(r.Value)))
            .ToArray();
        return new StatisticsResponse(q.From, q.To, q.UnitId, q.Kinds, q.Filters, q.GroupBy, ordered, Order(totals));
    }

    /// <summary>[from, to] as whole months plus at most two runs of days (the ragged ends). Months are counted
    /// as numbers (<see cref="MonthIndex"/>), never by date arithmetic, so the edges of the calendar (0001-01-01,
    /// 9999-12-31) do not overflow.</summary>
    public static ((DateOnly First, DateOnly Last) Months, (DateOnly First, DateOnly Last)[] Days) Decompose(DateOnly from, DateOnly to)
    {
        var none = (DateOnly.MaxValue, DateOnly.MinValue);
        var firstMonth = from.Day == 1 ? MonthIndex(from) : MonthIndex(from) + 1;
        var afterLastMonth = to == MonthEnd(MonthIndex(to)) ? MonthIndex(to) + 1 : MonthIndex(to);
        if (firstMonth >= afterLastMonth) return (none, [(from, to), none]); // no whole month inside
        var head = from.Day == 1 ? none : (from, MonthEnd(MonthIndex(from)));
        var tail = afterLastMonth == MonthIndex(to) ? (MonthStart(afterLastMonth), to) : none;
        return ((MonthStart(firstMonth), MonthStart(afterLastMonth - 1)), [head, tail]);
    }

    /// <summary>Months since year 0: January 0001 is 12, December 9999 is <see cref="LastMonth"/>.</summary>
    static int MonthIndex(DateOnly date) => date.Year * 12 + date.Month - 1;

    static readonly int LastMonth = MonthIndex(DateOnly.MaxValue);

    static DateOnly MonthStart(int month) => new(month / 12, month % 12 + 1, 1);

    static DateOnly MonthEnd(int month) => month >= LastMonth ? DateOnly.MaxValue : MonthStart(month + 1).AddDays(-1);

    /// <summary>Rows are time buckets that overlap [from, to]; a bucket's stock is taken at its end, clipped to `to`.</summary>
    static IEnumerable<(string Label, DateOnly Start, DateOnly End)> Buckets(StatisticsQuery q)
    {
        var months = q.TimeKey switch { StatisticsQuery.Year => 12, StatisticsQuery.Quarter => 3, _ => 1 };
        var first = q.From.Year * 12 + (months == 12 ? 0 : (q.From.Month - 1) / months * months);
        for (var m = first; m <= LastMonth && MonthStart(m) <= q.To; m += months)
        {
            var end = MonthEnd(m + months - 1);
            yield return (TimeLabel(q.TimeKey!, MonthStart(m)), MonthStart(m), end < q.To ? end : q.To);
        }
    }

    static string TimeLabel(string key, DateOnly date) => key switch
    {
        StatisticsQuery.Year => date.Year.ToString(CultureInfo.InvariantCulture),
        StatisticsQuery.Quarter => $"{date.Year}-Q{(date.Month - 1) / 3 + 1}",
        _ => date.ToString("yyyy-MM", CultureInfo.InvariantCulture),
    };

    async Task<Dictionary<(DateOnly End, string Unit), decimal[]>> LatestStocksAsync(DateOnly[] ends, string[] units, CancellationToken ct)
    {
        var slots = Enumerable.Range(1, StatisticsProjection.Slots - 1).ToArray();
        await using var cmd = db.CreateCommand($"""
            select e.at, u.unit_id, {string.Join(", ", slots.Select(i => $"s.v{i}"))}
            from unnest($1::date[]) as e(at) cross join unnest($2::text[]) as u(unit_id)
            cross join lateral (
                select * from {StatisticsProjection.Stocks} s
                where s.unit_id = u.unit_id and s.occurred_on <= e.at
                order by s.occurred_on desc, s.recorded_at desc, s.activity_id desc
                limit 1) s
            """);
        cmd.Parameters.AddWithValue(ends);
        cmd.Parameters.AddWithValue(units);
        var result = new Dictionary<(DateOnly, string), decimal[]>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var values = new decimal[StatisticsProjection.Slots];
            foreach (var i in slots) values[i] = reader.GetInt64(1 + i);
            result[(reader.GetFieldValue<DateOnly>(0), reader.GetString(1))] = values;
        }
        return result;
    }

    static RowKey Key(StatisticsQuery q, string? unit, KindDefinition kind, string d1, string d2, string? time) =>
        new(q.GroupBy.Select(g => g switch
        {
            StatisticsQuery.Kind => kind.Name,
            StatisticsQuery.Unit => unit,
            StatisticsQuery.Year or StatisticsQuery.Quarter or StatisticsQuery.Month => time,
            _ => kind.Dimensions.Count > 0 && kind.Dimensions[0].Name == g ? d1
               : kind.Dimensions.Count > 1 && kind.Dimensions[1].Name == g ? d2
               : null,
        }).ToArray());

    /// <summary>Adds a cell's slots under their metric names: flows, or (for a stock declaration) the stock metrics.</summary>
    static void AddSlots(Dictionary<string, decimal> metrics, KindDefinition kind, decimal[] values, int sign, bool stocks = false)
    {
        if (!stocks) Add(KindCatalog.ActivitiesMetric, values[0]);
        for (var i = 0; i < kind.Metrics.Count; i++)
            if (kind.Metrics[i].IsStock == stocks) Add(kind.Metrics[i].Name, StatisticsProjection.FromSlot(kind.Metrics[i], values[i + 1]));

        void Add(string name, decimal value)
        {
            if (value != 0) metrics[name] = metrics.GetValueOrDefault(name) + sign * value;
        }
    }

    static IReadOnlyDictionary<string, decimal> Order(Dictionary<string, decimal> metrics) =>
        KindCatalog.MetricNames.Where(m => metrics.TryGetValue(m, out var v) && v != 0).ToDictionary(m => m, m => metrics[m]);

    /// <summary>A row's key values, in groupBy order.</summary>
    public sealed record RowKey(string?[] Values)
    {
        public bool Equals(RowKey? other) => other is not null && Values.SequenceEqual(other.Values);
        public override int GetHashCode() => Values.Aggregate(17, (h, v) => h * 31 + (v?.GetHashCode() ?? 0));

        public static readonly IComparer<RowKey> Comparer = Comparer<RowKey>.Create((a, b) =>
        {
            for (var i = 0; i < a.Values.Length; i++)
            {
                var c = (a.Values[i], b.Values[i]) switch
                {
                    (null, null) => 0, (null, _) => 1, (_, null) => -1,
                    var (x, y) => string.CompareOrdinal(x, y),
                };
                if (c != 0) return c;
            }
            return 0;
        });
    }
}
