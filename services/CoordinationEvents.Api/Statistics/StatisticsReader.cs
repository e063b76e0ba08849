using System.Diagnostics;
using System.Globalization;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;
using Npgsql;

namespace CoordinationEvents.Api.Statistics;

/// <summary>Answers statistics queries from the projection's tables.</summary>
public sealed class StatisticsReader(NpgsqlDataSource db)
{
    /// <summary>Whether this database keeps year cells (once true, for good: <see cref="StatisticsProjection.EnsureYearCellsAsync"/>).</summary>
    volatile bool yearCells;

    /// <summary>
    /// A run of days [<see cref="First"/>, <see cref="Last"/>] of <see cref="Unit"/>'s cells that the answer counts,
    /// under the row of <see cref="Tag"/> (null: the one row). <see cref="Total"/>: it counts in the totals too (the
    /// filter unit, a root, a carried unit); otherwise it is a child's part of the filter unit, taken out of the filter
    /// unit's own row.
    /// </summary>
    readonly record struct Piece(string? Tag, string Unit, DateOnly First, DateOnly Last, bool Total);

    /// <summary>
    /// The runs of days within [<paramref name="from"/>, <paramref name="to"/>] on which <paramref name="holds"/>
    /// holds for each key, judged on each day's tree (it changes only on the history's change dates).
    /// </summary>
    static Dictionary<string, List<(DateOnly First, DateOnly Last)>> Runs(UnitHistory history, DateOnly from, DateOnly to,
        Func<UnitTree, DateOnly, IEnumerable<string>> holds)
    {
        var runs = new Dictionary<string, List<(DateOnly, DateOnly)>>(StringComparer.Ordinal);
        var starts = new List<DateOnly> { from };
        starts.AddRange(history.ChangeDates.Where(d => d > from && d <= to));
        for (var i = 0; i < starts.Count; i++)
        {
            var last = i + 1 < starts.Count ? starts[i + 1].AddDays(-1) : to;
            foreach (var key in holds(history.TreeOn(starts[i]), starts[i]))
            {
                if (!runs.TryGetValue(key, out var list)) runs[key] = list = [];
                if (list.Count > 0 && list[^1].Item2.AddDays(1) == starts[i]) list[^1] = (list[^1].Item1, last);
                else list.Add((starts[i], last));
            }
        }
        return runs;
    }

    /// <summary>
    /// The figures of a query, as it was: each activity counted where it was held on its date (the cells). Over a
    /// period that straddles a change, <c>groupBy=unit</c> gives each child of the filter unit its cells over the days
    /// it was a child (every root over the days it was a root, without a filter unit), and the filter unit's own row
    /// keeps the rest. With <c>lineage=true</c> the units carried forward (<see cref="UnitHistory.LineageOf"/>) add
    /// their cells over the days before each ended on which no unit already counted held them (a carried unit is its
    /// own row under <c>groupBy=unit</c>). Stocks at a period end are those of the units within the filter unit on
    /// that day (and within a carried unit that still existed), each counted once.
    /// </summary>
    public async Task<StatisticsResponse> QueryAsync(StatisticsQuery q, UnitHistory history, CancellationToken ct,
        (string Cells, string Stocks)? tables = null, NpgsqlConnection? connection = null)
    {
        // The projection's tables, or another pair of the same shape (StatisticsAsOf's scratch tables or expressions),
        // read on connections of the pool, or all on one connection (in its transaction, one after the other).
        var (cellsTable, stocksTable) = tables ?? (StatisticsProjection.Cells, StatisticsProjection.Stocks);
        NpgsqlCommand Command(string sql) => connection is null ? db.CreateCommand(sql) : new NpgsqlCommand(sql, connection);
        var byUnit = q.GroupBy.Contains(StatisticsQuery.Unit);
        var timed = q.TimeKey is not null;
        var buckets = timed ? Buckets(q).ToArray() : [];

        // The units counted and carried, and the runs of days of each.
        var pieces = new List<Piece>();
        var carried = new List<UnitLink>();
        var notCarried = new List<UnitLink>();
        // A unit that was split or dissolved keeps the activities dated after its end (recorded before the change was),
        // under its parent of its last day: as a child (or root) it holds them on the days after it ended.
        IEnumerable<(string Unit, DateOnly First)> EndedKeeping(string? parent) => history.Lives
            .Where(l => l.Ending is UnitEndings.Split or UnitEndings.Dissolved && l.Until is { } u && u <= q.To && l.Parent.On(u.AddDays(-1)) == parent)
            .Select(l => (l.UnitId, l.Until!.Value > q.From ? l.Until.Value : q.From));
        if (q.UnitId is null)
        {
            foreach (var (root, runs) in Runs(history, q.From, q.To, (tree, _) => tree.Roots.Select(r => r.UnitId)))
                pieces.AddRange(runs.Select(r => new Piece(byUnit ? root : null, root, r.First, r.Last, true)));
            foreach (var (root, first) in EndedKeeping(null))
                pieces.Add(new Piece(byUnit ? root : null, root, first, q.To, true));
        }
        else
        {
            pieces.Add(new Piece(q.UnitId, q.UnitId, q.From, q.To, true));
            if (byUnit)
            {
                foreach (var (child, runs) in Runs(history, q.From, q.To, (tree, _) => tree.ChildrenOf(q.UnitId).Select(c => c.UnitId)))
                    pieces.AddRange(runs.Select(r => new Piece(child, child, r.First, r.Last, false)));
                foreach (var (child, first) in EndedKeeping(q.UnitId))
                    pieces.Add(new Piece(child, child, first, q.To, false));
            }
            if (q.Lineage)
            {
                var lineage = history.LineageOf(q.UnitId);
                notCarried.AddRange(lineage.NotCarried);
                var until = lineage.Carried.ToDictionary(l => l.UnitId, l => l.Until, StringComparer.Ordinal);
                // A carried unit counts on a day before it ended unless a unit counted that day held it (its cells are then in theirs).
                bool CountedOn(string unit, DateOnly day) => unit == q.UnitId || (until.TryGetValue(unit, out var u) && day < u);
                foreach (var link in lineage.Carried)
                {
                    if (q.From >= link.Until) continue;
                    var last = link.Until.AddDays(-1) < q.To ? link.Until.AddDays(-1) : q.To;
                    var runs = Runs(history, q.From, last, (tree, day) =>
                        tree.SelfAndAncestors(link.UnitId).Skip(1).Any(a => CountedOn(a, day)) ? [] : [link.UnitId]);
                    if (runs.TryGetValue(link.UnitId, out var list))
                        pieces.AddRange(list.Select(r => new Piece(byUnit ? link.UnitId : q.UnitId, link.UnitId, r.First, r.Last, true)));
                    carried.Add(link);
                }
            }
        }

        // Stocks: at each period end, the units within the counted units on that day, each counted once under its row.
        // Asked on a connection of its own while the flows are read: the two take about as long (a district by month
        // at 10M: 9.6 and 8.6 ms in PostgreSQL), so the answer waits for the longer, not for both.
        var stockKind = KindCatalog.All.First(k => k.IsStock);
        var ends = (timed ? buckets.Select(b => b.End) : []).Append(q.To).Distinct().Order().ToArray();
        var wantsStocks = q.IncludesKind(stockKind.Name) && q.Passes(stockKind, "", "");
        // The members change only where the tree does (TreeOn gives one tree per span between change dates, and a
        // carried unit ends on a change date): one dictionary per tree, shared by its ends (2,400 months over 200 years
        // are one or two trees, not 2,400 dictionaries of a hundred units).
        var membersOf = new Dictionary<UnitTree, Dictionary<string, string?>>(ReferenceEqualityComparer.Instance);
        var members = wantsStocks
            ? ends.Select(e => history.TreeOn(e) is var tree && membersOf.TryGetValue(tree, out var known) ? known
                : membersOf[tree] = StockMembers(q, history, carried, byUnit, e)).ToArray()
            : [];
        var stockUnits = members.SelectMany(m => m.Keys).Distinct().ToArray();
        Task<Dictionary<string, List<(int End, decimal[] Values)>>>? declaredTask = null;
        var probe = wantsStocks && await ProbesStocksAsync(stockUnits.Length, ends.Length, history, ct);
        Task<Dictionary<string, List<(int End, decimal[] Values)>>> ReadStocksAsync() => LatestStocksAsync(Command, stocksTable, ends, stockUnits, probe, ct);
        if (connection is null && wantsStocks && stockUnits.Length > 0) declaredTask = ReadStocksAsync();

        // Flow sums, grouped by what the answer needs. Dimension filters apply to (kind, d1, d2), which every
        // row carries, so they are applied here, exactly.
        var rows = new Dictionary<RowKey, Dictionary<string, decimal>>();
        var totals = new Dictionary<string, decimal>();
        void AddTo(RowKey key, KindDefinition kind, decimal[] values, int sign)
        {
            if (!rows.TryGetValue(key, out var metrics)) rows[key] = metrics = new Dictionary<string, decimal>();
            AddSlots(metrics, kind, values, sign);
        }
        // Each piece as whole years, months and days (Decompose), one row each of the ranges the cells are read over. Year
        // cells serve a total or rows by year; rows by month or quarter need months. A database whose cells predate
        // the year cells has them once StatisticsProjection.EnsureYearCellsAsync has run; until then, months.
        var years = q.TimeKey is null or StatisticsQuery.Year && (yearCells || (yearCells = await StatisticsProjection.HasYearCellsAsync(db, connection, ct)));
        var (rangePiece, rangeUnit, rangePeriod, rangeFirst, rangeLast) = (new List<int>(), new List<string>(), new List<string>(), new List<DateOnly>(), new List<DateOnly>());
        for (var i = 0; i < pieces.Count; i++)
            foreach (var (period, first, last) in Decompose(pieces[i].First, pieces[i].Last, years))
            {
                rangePiece.Add(i);
                rangeUnit.Add(pieces[i].Unit);
                rangePeriod.Add(period.ToString());
                rangeFirst.Add(first);
                rangeLast.Add(last);
            }
        // Without a dimension filter or a dimension in groupBy, a kind's cells are summed over their dimensions
        // in the database: fewer rows to read back (a district by month: 2,466 rows become 936). The periods go as
        // bpchar, the column's type: as text the comparison left the key's index after unit_id, and a province's
        // 6-year total at 1M read every one of its 90k cells (430 ms instead of 6 ms).
        async Task ReadFlowsAsync()
        {
            if (rangePiece.Count == 0) return;
            await using var cmd = Command($"""
                select r.piece, c.kind, {(q.NeedsDimensions ? "c.d1, c.d2" : "'', ''")}, {(timed ? "width_bucket(c.bucket, $7::date[])" : "0")},
                       {string.Join(", ", Enumerable.Range(0, StatisticsProjection.Slots).Select(i => $"sum(c.v{i})"))}
                from unnest($1::int[], $2::text[], $3::bpchar[], $4::date[], $5::date[]) as r(piece, unit_id, period, first_day, last_day)
                join {cellsTable} c on c.unit_id = r.unit_id and c.period = r.period and c.bucket between r.first_day and r.last_day
                where ($6::text[] is null or c.kind = any($6))
                group by 1, 2, 3, 4, 5
                """);
            cmd.Parameters.AddWithValue(rangePiece.ToArray());
            cmd.Parameters.AddWithValue(rangeUnit.ToArray());
            cmd.Parameters.AddWithValue(rangePeriod.ToArray());
            cmd.Parameters.AddWithValue(rangeFirst.ToArray());
            cmd.Parameters.AddWithValue(rangeLast.ToArray());
            cmd.Parameters.Add(new NpgsqlParameter { Value = q.Kinds.Count == 0 ? DBNull.Value : q.Kinds.ToArray(), NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text });
            // Days and months fall into the row's year, quarter or month in the database: fewer rows come back.
            if (timed) cmd.Parameters.AddWithValue(buckets.Select(b => b.Start).ToArray());
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            var values = new decimal[StatisticsProjection.Slots]; // one buffer: each row's values are added up at once
            while (await reader.ReadAsync(ct))
            {
                var piece = pieces[reader.GetInt32(0)];
                var kind = KindCatalog.Get(reader.GetString(1));
                var (d1, d2) = (reader.GetString(2), reader.GetString(3));
                if (!q.Passes(kind, d1, d2)) continue;
                var time = timed ? buckets[reader.GetInt32(4) - 1].Label : null;
                for (var i = 0; i < values.Length; i++) values[i] = reader.GetDecimal(5 + i);

                if (piece.Total)
                {
                    AddSlots(totals, kind, values, +1);
                    AddTo(Key(q, byUnit ? piece.Tag : null, kind, d1, d2, time), kind, values, +1);
                }
                else
                {
                    // A child's subtree is its own row; the filter unit's row keeps only what no child held.
                    AddTo(Key(q, piece.Tag, kind, d1, d2, time), kind, values, +1);
                    AddTo(Key(q, q.UnitId, kind, d1, d2, time), kind, values, -1);
                }
            }
        }

        // Both reads finish before the answer is built, and a failure of either is the caller's, never left unobserved.
        var flows = ReadFlowsAsync();
        await (declaredTask is null ? flows : Task.WhenAll(flows, declaredTask));
        if (connection is not null && wantsStocks && stockUnits.Length > 0) await (declaredTask = ReadStocksAsync());

        if (declaredTask is not null)
            AddStocks(q, stockKind, buckets, ends, members, declaredTask.Result, rows, totals);

        // The rows in key order, each made once from its sums (no intermediate sequences: the widest legal answer has
        // thousands of rows).
        var kept = new List<KeyValuePair<RowKey, Dictionary<string, decimal>>>(rows.Count);
        foreach (var row in rows)
            if (AnyNonZero(row.Value)) kept.Add(row);
        kept.Sort((a, b) => RowKey.Comparer.Compare(a.Key, b.Key));
        var ordered = new StatisticsRow[kept.Count];
        for (var r = 0; r < ordered.Length; r++)
        {
            var key = new Dictionary<string, string?>(q.GroupBy.Count);
            for (var g = 0; g < q.GroupBy.Count; g++) key[q.GroupBy[g]] = kept[r].Key.Values[g];
            ordered[r] = new StatisticsRow(key, Order(kept[r].Value));
        }

        // The name and dates of every unit the answer uses.
        var unitIndex = q.GroupBy.ToList().IndexOf(StatisticsQuery.Unit);
        var used = ordered.Select(r => unitIndex < 0 ? null : r.Key[StatisticsQuery.Unit])
            .Append(q.UnitId).Concat(carried.Select(c => c.UnitId)).Concat(notCarried.Select(c => c.UnitId))
            .OfType<string>().Distinct().Order(StringComparer.Ordinal);
        string NameOf(string id) => history.Life(id)?.On(q.To).Name ?? id;
        var units = new SortedDictionary<string, StatisticsUnit>(StringComparer.Ordinal);
        foreach (var id in used)
            if (history.Life(id) is { } life) units[id] = new StatisticsUnit(NameOf(id), life.ValidFrom, life.ValidTo);

        return new StatisticsResponse(q.From, q.To, q.UnitId, q.Kinds, q.Filters, q.GroupBy, ordered, Order(totals), units,
            q.Lineage ? carried.Select(c => new StatisticsLineageUnit(c.UnitId, NameOf(c.UnitId), c.Until.AddDays(-1))).ToArray() : null,
            q.Lineage ? notCarried.Select(c => new StatisticsNotCarried(c.UnitId, NameOf(c.UnitId), c.Until.AddDays(-1),
                $"{c.How}: its figures are not divided between its successors ({string.Join(", ", history.Life(c.UnitId)?.Successors ?? [])})")).ToArray() : null);
    }

    /// <summary>
    /// The units whose stocks count at <paramref name="end"/>, each with its row (null: the one row): those within the
    /// filter unit on that day (every unit, by root, without one), then those within a carried unit that still existed
    /// and that no unit counted already holds.
    /// </summary>
    static Dictionary<string, string?> StockMembers(StatisticsQuery q, UnitHistory history, IReadOnlyList<UnitLink> carried, bool byUnit, DateOnly end)
    {
        var tree = history.TreeOn(end);
        var members = new Dictionary<string, string?>(StringComparer.Ordinal);
        if (q.UnitId is null)
        {
            foreach (var root in tree.Roots)
            foreach (var unit in tree.Subtree(root.UnitId))
                members[unit] = byUnit ? root.UnitId : null;
            return members;
        }
        if (tree.Exists(q.UnitId))
        {
            members[q.UnitId] = byUnit ? q.UnitId : null;
            foreach (var child in tree.ChildrenOf(q.UnitId))
            foreach (var unit in tree.Subtree(child.UnitId))
                members[unit] = byUnit ? child.UnitId : null;
        }
        foreach (var link in carried.Where(l => end < l.Until && tree.Exists(l.UnitId)))
            foreach (var unit in tree.Subtree(link.UnitId))
                members.TryAdd(unit, byUnit ? link.UnitId : null);
        return members;
    }

    /// <summary>
    /// [from, to] as the ranges of cells that cover it exactly, each day once: whole years (with <paramref name="years"/>),
    /// then whole months, then at most two runs of days (the ragged ends), as (period, first bucket, last bucket). A
    /// 6-year total reads 6 year cells per kind and dimension values, not 72 month cells. Months and years are counted
    /// as numbers (<see cref="MonthIndex"/>), never by date arithmetic, so the edges of the calendar (0001-01-01,
    /// 9999-12-31) do not overflow.
    /// </summary>
    public static List<(char Period, DateOnly First, DateOnly Last)> Decompose(DateOnly from, DateOnly to, bool years = true)
    {
        var ranges = new List<(char, DateOnly, DateOnly)>();
        var firstYear = from.DayOfYear == 1 ? from.Year : from.Year + 1;
        var lastYear = to.Month == 12 && to.Day == 31 ? to.Year : to.Year - 1;
        if (!years || firstYear > lastYear)
        {
            MonthsAndDays(from, to);
            return ranges;
        }
        if (firstYear > from.Year) MonthsAndDays(from, new DateOnly(firstYear - 1, 12, 31));
        ranges.Add(('y', new DateOnly(firstYear, 1, 1), new DateOnly(lastYear, 1, 1)));
        if (lastYear < to.Year) MonthsAndDays(new DateOnly(lastYear + 1, 1, 1), to);
        return ranges;

        void MonthsAndDays(DateOnly first, DateOnly last)
        {
            var firstMonth = first.Day == 1 ? MonthIndex(first) : MonthIndex(first) + 1;
            var afterLastMonth = last == MonthEnd(MonthIndex(last)) ? MonthIndex(last) + 1 : MonthIndex(last);
            if (firstMonth >= afterLastMonth)
            {
                ranges.Add(('d', first, last)); // no whole month inside
                return;
            }
            if (first.Day != 1) ranges.Add(('d', first, MonthEnd(MonthIndex(first))));
            ranges.Add(('m', MonthStart(firstMonth), MonthStart(afterLastMonth - 1)));
            if (afterLastMonth == MonthIndex(last)) ranges.Add(('d', MonthStart(afterLastMonth), last));
        }
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
    /// Up to this many (unit, period end) pairs, each pair's latest declaration is probed in the index
    /// (<c>unit_id, occurred_on, recorded_at, activity_id</c>, read backwards: one short descent each); past it, the
    /// declarations are read in one pass. A probe costs the same at any size; the pass reads every declaration of the
    /// units, which grows with the years of data. At 1M (make bench): a province's total (100 pairs) p50 46 → 12 ms
    /// with probes; a district by month over 6 years (1,440 pairs) p50 19 ms in one pass, 28 ms probed.
    /// </summary>
    const int MaxStockProbes = 1_000;

    /// <summary>
    /// Past <see cref="MaxStockProbes"/>, pairs are still probed while they are fewer than half the declarations the
    /// pass would read (the table's row count as the planner last counted it, shared evenly by the units). The pass grows
    /// with the data and the probes do not: at 10M a district by month over 6 years (1,825 pairs, some 16,000
    /// declarations) took p50 84 ms, p99 124 ms in one pass (make bench).
    /// </summary>
    async Task<bool> ProbesStocksAsync(int units, int ends, UnitHistory history, CancellationToken ct)
    {
        var pairs = (long)units * ends;
        if (pairs <= MaxStockProbes) return true;
        var known = stockRows;
        if (known is null || Stopwatch.GetElapsedTime(known.Value.At) > TimeSpan.FromMinutes(1))
        {
            await using var cmd = db.CreateCommand($"select coalesce((select reltuples::bigint from pg_class where relname = '{StatisticsProjection.Stocks}'), -1)");
            stockRows = known = ((long)(await cmd.ExecuteScalarAsync(ct))!, Stopwatch.GetTimestamp());
        }
        return known.Value.Rows > 0 && pairs * 2 <= known.Value.Rows * units / Math.Max(1, history.Lives.Count);
    }

    /// <summary>The stock table's row count as the planner last counted it (-1: never), and when it was read.</summary>
    (long Rows, long At)? stockRows;

    /// <summary>
    /// Each unit's declarations that are the latest within a run of period ends: for each unit, a list of (the index of
    /// a period end, the declaration in force there) in the order of the ends. A unit's stock at end k is then its last
    /// such declaration at or before k. Few pairs are probed one by one (<paramref name="probe"/>: <see cref="ProbesStocksAsync"/>); many are read
    /// in one pass: a declaration falls to the first end on or after its day (<c>width_bucket</c> over the sorted
    /// ends), and of those that fall to the same end only the latest is kept, so the database reads each declaration
    /// once, whatever the number of ends (it used to be probed once per unit and end: 583,200 probes for 243 units by
    /// month over 200 years).
    /// </summary>
    static async Task<Dictionary<string, List<(int End, decimal[] Values)>>> LatestStocksAsync(Func<string, NpgsqlCommand> command, string stocksTable,
        DateOnly[] ends, string[] units, bool probe, CancellationToken ct)
    {
        var slots = Enumerable.Range(1, StatisticsProjection.Slots - 1).ToArray();
        var values = string.Join(", ", slots.Select(i => $"s.v{i}"));
        await using var cmd = command(probe
            ? $"""
              select u.unit_id, e.k::int - 1, {values}
              from unnest($2::text[]) as u(unit_id)
              cross join unnest($1::date[]) with ordinality as e(day, k)
              cross join lateral (
                  select d.* from {stocksTable} d where d.unit_id = u.unit_id and d.occurred_on <= e.day
                  order by d.occurred_on desc, d.recorded_at desc, d.activity_id desc limit 1) s
              order by 1, 2
              """
            : $"""
              select distinct on (s.unit_id, s.at) s.unit_id, s.at, {values}
              from (select d.*, width_bucket(d.occurred_on - 1, $1::date[]) as at
                    from {stocksTable} d
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
            var declared = new decimal[StatisticsProjection.Slots];
            foreach (var i in slots) declared[i] = reader.GetInt64(1 + i);
            // The index of the end: probed, that end's; in one pass, width_bucket's count of the ends before the day,
            // the index of the first end on or after it.
            list.Add((reader.GetInt32(1), declared));
        }
        return result;
    }

    /// <summary>
    /// Adds the stocks to the rows: each unit's latest declaration carried forward over the period ends, summed at
    /// each end into the row of that end's <paramref name="members"/> (a unit outside them that day counts nowhere).
    /// Work grows with units × ends, bounded by <see cref="StatisticsQuery.MaxStockCells"/>.
    /// </summary>
    static void AddStocks(StatisticsQuery q, KindDefinition stockKind,
        (string Label, DateOnly Start, DateOnly End)[] buckets, DateOnly[] ends, Dictionary<string, string?>[] members,
        Dictionary<string, List<(int End, decimal[] Values)>> declared,
        Dictionary<RowKey, Dictionary<string, decimal>> rows, Dictionary<string, decimal> totals)
    {
        var metrics = Enumerable.Range(0, stockKind.Metrics.Count).Where(i => stockKind.Metrics[i].IsStock).ToArray();
        var m = metrics.Length;
        var n = ends.Length;
        // Which end is each row's period end: buckets' ends are a subset of `ends` (`to` is the last one).
        var endOfBucket = buckets.Select(b => Array.BinarySearch(ends, b.End)).ToArray();
        var sums = new Dictionary<string, decimal[]>(StringComparer.Ordinal);

        foreach (var (unit, list) in declared)
        {
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
                if (!members[k].TryGetValue(unit, out var row)) continue;
                var key = row ?? "";
                if (!sums.TryGetValue(key, out var sum)) sums[key] = sum = new decimal[n * m];
                for (var j = 0; j < m; j++)
                    if (current[j] != 0) sum[k * m + j] += current[j];
            }
        }

        foreach (var sum in sums.Values)
            for (var j = 0; j < m; j++)
                if (sum[(n - 1) * m + j] != 0)
                    totals[stockKind.Metrics[metrics[j]].Name] = totals.GetValueOrDefault(stockKind.Metrics[metrics[j]].Name) + sum[(n - 1) * m + j];

        var timeKey = q.TimeKey;
        foreach (var (rowName, sum) in sums)
        {
            for (var b = 0; b < (timeKey is null ? 1 : buckets.Length); b++)
            {
                var k = timeKey is null ? n - 1 : endOfBucket[b];
                var any = false;
                for (var j = 0; j < m; j++) any |= sum[k * m + j] != 0;
                if (!any) continue;
                var key = Key(q, rowName.Length == 0 ? null : rowName, stockKind, null, null, timeKey is null ? null : buckets[b].Label);
                if (!rows.TryGetValue(key, out var row)) rows[key] = row = new Dictionary<string, decimal>();
                for (var j = 0; j < m; j++)
                    if (sum[k * m + j] != 0) row[stockKind.Metrics[metrics[j]].Name] = row.GetValueOrDefault(stockKind.Metrics[metrics[j]].Name) + sum[k * m + j];
            }
        }
    }

    /// <summary>A row's key: for each groupBy name, the kind, the unit, the time bucket or the dimension's value (null
    /// where the kind has no such dimension; <paramref name="d1"/> and <paramref name="d2"/> null for a stock row).</summary>
    static RowKey Key(StatisticsQuery q, string? unit, KindDefinition kind, string? d1, string? d2, string? time)
    {
        var values = new string?[q.GroupBy.Count];
        for (var i = 0; i < values.Length; i++)
            values[i] = q.GroupBy[i] switch
            {
                StatisticsQuery.Kind => kind.Name,
                StatisticsQuery.Unit => unit,
                StatisticsQuery.Year or StatisticsQuery.Quarter or StatisticsQuery.Month => time,
                var g => kind.Dimensions.Count > 0 && kind.Dimensions[0].Name == g ? d1
                    : kind.Dimensions.Count > 1 && kind.Dimensions[1].Name == g ? d2
                    : null,
            };
        return new RowKey(values);
    }

    static bool AnyNonZero(Dictionary<string, decimal> metrics)
    {
        foreach (var value in metrics.Values)
            if (value != 0) return true;
        return false;
    }

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

    /// <summary>The metrics that are not zero, in catalog order.</summary>
    static IReadOnlyDictionary<string, decimal> Order(Dictionary<string, decimal> metrics)
    {
        var ordered = new Dictionary<string, decimal>(metrics.Count);
        foreach (var name in KindCatalog.MetricNames)
            if (metrics.TryGetValue(name, out var value) && value != 0) ordered[name] = value;
        return ordered;
    }

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
