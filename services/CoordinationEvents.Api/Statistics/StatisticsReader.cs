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
        var ends = (timed ? buckets.Select(b => b.End) : []).Append(q.To).Distinct().Order().ToArray();
        var stockUnits = scope.SelectMany(tree.Subtree).Distinct().ToArray();
        var declaredTask = q.IncludesKind(stockKind.Name) && q.Passes(stockKind, "", "")
            ? LatestStocksAsync(ends, stockUnits, ct)
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
            AddStocks(q, tree, byUnit, stockKind, buckets, ends, declaredTask.Result, rows, totals);

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

    /// <summary>
    /// Each unit's declarations that are the latest within a run of period ends, read in one pass: a declaration
    /// falls to the first end on or after its day (<c>width_bucket</c> over the sorted ends), and of those that fall
    /// to the same end only the latest is kept. A unit's stock at end k is then its last such declaration at or
    /// before k. The database reads each declaration once, whatever the number of ends (it used to be probed once
    /// per unit and end: 583,200 probes for 243 units by month over 200 years).
    /// </summary>
    async Task<Dictionary<string, List<(int End, decimal[] Values)>>> LatestStocksAsync(DateOnly[] ends, string[] units, CancellationToken ct)
    {
        var slots = Enumerable.Range(1, StatisticsProjection.Slots - 1).ToArray();
        await using var cmd = db.CreateCommand($"""
            select distinct on (s.unit_id, s.at) s.unit_id, s.at, {string.Join(", ", slots.Select(i => $"s.v{i}"))}
            from (select d.*, width_bucket(d.occurred_on - 1, $1::date[]) as at
                  from {StatisticsProjection.Stocks} d
                  where d.unit_id = any($2) and d.occurred_on <= $3) s
            order by s.unit_id, s.at, s.occurred_on desc, s.recorded_at desc, s.activity_id desc
            """);
        cmd.Parameters.AddWithValue(ends);
        cmd.Parameters.AddWithValue(units);
        cmd.Parameters.AddWithValue(ends[^1]);
        var result = new Dictionary<string, List<(int, decimal[])>>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var unit = reader.GetString(0);
            if (!result.TryGetValue(unit, out var list)) result[unit] = list = [];
            var values = new decimal[StatisticsProjection.Slots];
            foreach (var i in slots) values[i] = reader.GetInt64(1 + i);
            // width_bucket counts the ends before the day: the index of the first end on or after it.
            list.Add((reader.GetInt32(1), values));
        }
        return result;
    }

    /// <summary>
    /// Adds the stocks to the rows: each unit's latest declaration carried forward over the period ends, summed
    /// into its row unit's (or the one row's) arrays. Work grows with units × ends, bounded by
    /// <see cref="StatisticsQuery.MaxStockCells"/>; the sums are the same decimals added as one per (unit, end).
    /// </summary>
    static void AddStocks(StatisticsQuery q, UnitTree tree, bool byUnit, KindDefinition stockKind,
        (string Label, DateOnly Start, DateOnly End)[] buckets, DateOnly[] ends,
        Dictionary<string, List<(int End, decimal[] Values)>> declared,
        Dictionary<RowKey, Dictionary<string, decimal>> rows, Dictionary<string, decimal> totals)
    {
        var metrics = Enumerable.Range(0, stockKind.Metrics.Count).Where(i => stockKind.Metrics[i].IsStock).ToArray();
        var m = metrics.Length;
        string? RowUnit(string unit) => q.UnitId is null
            ? tree.SelfAndAncestors(unit).Last()
            : tree.SelfAndAncestors(unit).TakeWhile(a => a != q.UnitId).LastOrDefault() ?? q.UnitId;
        var rowUnits = new List<string?>();
        var rowIndex = new Dictionary<string, int>();
        var n = ends.Length;
        // Which end is each row's period end: buckets' ends are a subset of `ends` (`to` is the last one).
        var endOfBucket = buckets.Select(b => Array.BinarySearch(ends, b.End)).ToArray();
        var sums = new List<decimal[]>();
        var total = new decimal[m];

        foreach (var (unit, list) in declared)
        {
            var rowName = byUnit ? RowUnit(unit) : null;
            var key = rowName ?? "";
            if (!rowIndex.TryGetValue(key, out var r))
            {
                rowIndex[key] = r = rowUnits.Count;
                rowUnits.Add(rowName);
                sums.Add(new decimal[n * m]);
            }
            var sum = sums[r];
            var current = new decimal[m];
            var next = 0;
            for (var k = list[0].End; k < n; k++)
            {
                while (next < list.Count && list[next].End == k)
                {
                    for (var j = 0; j < m; j++)
                        current[j] = StatisticsProjection.FromSlot(stockKind.Metrics[metrics[j]], list[next].Values[metrics[j] + 1]);
                    next++;
                }
                for (var j = 0; j < m; j++)
                    if (current[j] != 0) sum[k * m + j] += current[j];
            }
            for (var j = 0; j < m; j++)
                if (current[j] != 0) total[j] += current[j];
        }

        for (var j = 0; j < m; j++)
            if (total[j] != 0) totals[stockKind.Metrics[metrics[j]].Name] = totals.GetValueOrDefault(stockKind.Metrics[metrics[j]].Name) + total[j];

        var timeKey = q.TimeKey;
        for (var r = 0; r < rowUnits.Count; r++)
        {
            var sum = sums[r];
            for (var b = 0; b < (timeKey is null ? 1 : buckets.Length); b++)
            {
                var k = timeKey is null ? n - 1 : endOfBucket[b];
                var any = false;
                for (var j = 0; j < m; j++) any |= sum[k * m + j] != 0;
                if (!any) continue;
                var key = new RowKey(q.GroupBy.Select(g => g switch
                {
                    StatisticsQuery.Kind => stockKind.Name,
                    StatisticsQuery.Unit => rowUnits[r],
                    StatisticsQuery.Year or StatisticsQuery.Quarter or StatisticsQuery.Month => buckets[b].Label,
                    _ => null,
                }).ToArray());
                if (!rows.TryGetValue(key, out var row)) rows[key] = row = new Dictionary<string, decimal>();
                for (var j = 0; j < m; j++)
                    if (sum[k * m + j] != 0) row[stockKind.Metrics[metrics[j]].Name] = row.GetValueOrDefault(stockKind.Metrics[metrics[j]].Name) + sum[k * m + j];
            }
        }
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
