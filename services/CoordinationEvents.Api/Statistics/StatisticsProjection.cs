using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Core;
using JasperFx.Events;
using Marten;
using Marten.Events.Projections;
using Npgsql;
using Weasel.Postgresql.Tables;

namespace CoordinationEvents.Api.Statistics;

/// <summary>Where a figure is kept: a unit's whole subtree, a day or a month, a kind and its dimension values.</summary>
public readonly record struct CellKey(string UnitId, char Period, DateOnly Bucket, string Kind, string D1, string D2);

/// <summary>
/// The statistics projection, run asynchronously by Marten's daemon (one batch of events per transaction,
/// the cells and the daemon's progression row committing together). Flows are kept as sums per (unit subtree, day, month
/// and year, kind, dimension values): every activity adds to the cells of its unit and of each ancestor, so a province's
/// figures are a handful of rows whatever the volume below it. A period is answered from whole years, at most two runs
/// of months and at most two runs of days (whole months only, when it is grouped by month or quarter). Stocks (self-management) are kept per declaration, and the latest one per unit
/// on or before a date is found by index.
/// </summary>
public sealed partial class StatisticsProjection(NpgsqlDataSource db) : IProjection
{
    public const string ProjectionName = "statistics";
    public const string Cells = "stat_cells";
    public const string Stocks = "stat_stocks";
    public const int Slots = 8; // slot 0: activities; slots 1..7: the kind's metrics in catalog order

    /// <summary>
    /// Slots are bigint (64-bit sums are exact, and summing them is several times cheaper than numeric).
    /// Decimal metrics have at most 3 decimal places, so they are kept in thousandths.
    /// </summary>
    public const long DecimalScale = 1_000;

    public static long ToSlot(MetricDefinition metric, decimal value) =>
        metric.Type == MetricType.Decimal ? (long)(value * DecimalScale) : (long)value;

    public static decimal FromSlot(MetricDefinition metric, decimal slot) =>
        metric.Type == MetricType.Decimal ? slot / DecimalScale : slot;

    /// <summary>The daemon's name for the projection's one shard (its row in <c>mt_event_progression</c>).</summary>
    public const string ShardName = ProjectionName + ":All";

    /// <summary>The cells one activity adds to (or, negated, removes from).</summary>
    public static IEnumerable<(CellKey Key, long[] Values)> Contribution(ActivityContent content, Func<string, DateOnly, IEnumerable<string>> holders)
    {
        var kind = KindCatalog.Get(content.Kind);
        var values = new long[Slots];
        values[0] = 1;
        if (!kind.IsStock)
            for (var i = 0; i < kind.Metrics.Count; i++) values[i + 1] = ToSlot(kind.Metrics[i], content.Metric(kind.Metrics[i].Name));
        var d1 = kind.Dimensions.Count > 0 ? content.DimensionValue(kind.Dimensions[0].Name) ?? "" : "";
        var d2 = kind.Dimensions.Count > 1 ? content.DimensionValue(kind.Dimensions[1].Name) ?? "" : "";
        var month = new DateOnly(content.OccurredOn.Year, content.OccurredOn.Month, 1);
        var year = new DateOnly(content.OccurredOn.Year, 1, 1);
        foreach (var unit in holders(content.UnitId, content.OccurredOn))
        {
            yield return (new CellKey(unit, 'd', content.OccurredOn, content.Kind, d1, d2), values);
            yield return (new CellKey(unit, 'm', month, content.Kind, d1, d2), values);
            yield return (new CellKey(unit, 'y', year, content.Kind, d1, d2), values);
        }
    }

    public static long[] StockValues(ActivityContent content)
    {
        var kind = KindCatalog.Get(content.Kind);
        var values = new long[Slots];
        for (var i = 0; i < kind.Metrics.Count; i++) values[i + 1] = ToSlot(kind.Metrics[i], content.Metric(kind.Metrics[i].Name));
        return values;
    }

    /// <summary>
    /// One batch of the daemon: the batch's change to every cell and stock row, summed in memory, queued as a
    /// few set-based statements that Marten runs in the batch's transaction with the progression update.
    /// Each activity counts for the holders its unit had on its date (<see cref="UnitHistory.HoldersOn"/>: as it
    /// was). Each batch checks the organisation's version and reads its history again if it changed, so a change counts
    /// from the next batch on; the events applied before it are restated by <see cref="StatisticsRebuild"/> (the change's
    /// durable message asks for it).
    /// </summary>
    public async Task ApplyAsync(IDocumentOperations operations, IReadOnlyList<IEvent> events, CancellationToken ct)
    {
        if (events.Count == 0) return;
        UnitHistory history;
        await using (var connection = await db.OpenConnectionAsync(ct))
            history = (organisation = await UnitDirectory.LoadIfChangedAsync(connection, VietnamCalendar.Today(TimeProvider.System), organisation, ct)).History;
        var holders = Holders(history);
        var (previous, firstRecordedAt) = await EarlierEventsAsync(events, ct);
        // A batch sums into a few thousand cells, and a dictionary that size is a large object (over 85 kB): one
        // per batch, grown step by step, was most of the service's large-object allocation under batches (a
        // dotnet-trace allocation profile). The daemon applies one batch at a time, so one dictionary is kept and
        // cleared; inline (concurrent appends) a second caller makes its own.
        var cells = Interlocked.Exchange(ref spareCells, null) ?? new Dictionary<CellKey, long[]>();
        var stockUpserts = new Dictionary<Guid, (ActivityContent Content, DateTimeOffset RecordedAt)>();
        var stockDeletes = new HashSet<Guid>();

        void Add(ActivityContent content, int sign)
        {
            foreach (var (key, values) in Contribution(content, holders))
            {
                if (!cells.TryGetValue(key, out var sum)) cells[key] = sum = new long[Slots];
                for (var i = 0; i < Slots; i++) sum[i] += sign * values[i];
            }
        }
        void SetStock(Guid id, ActivityContent? content, DateTimeOffset recordedAt)
        {
            if (content is not null && KindCatalog.Get(content.Kind).IsStock)
            {
                stockDeletes.Remove(id);
                stockUpserts[id] = (content, recordedAt);
            }
            else
            {
                stockUpserts.Remove(id);
                stockDeletes.Add(id);
            }
        }

        // Events of the same stream within one batch come in version order; the state before each is the
        // content of the previous event, from this batch or from the store.
        var latest = new Dictionary<Guid, ActivityContent>();
        foreach (var e in events)
        {
            ActivityContent Before() => latest.TryGetValue(e.StreamId, out var c) ? c : previous[(e.StreamId, e.Version - 1)];
            switch (e.Data)
            {
                case ActivityRecorded r:
                    Add(r.Content, +1);
                    if (KindCatalog.Get(r.Content.Kind).IsStock) SetStock(r.ActivityId, r.Content, r.RecordedAt);
                    latest[e.StreamId] = r.Content;
                    break;
                case ActivityCorrected c:
                    Add(Before(), -1);
                    Add(c.Content, +1);
                    // A stock keeps the time it was first recorded: two declarations on one day are ordered by it.
                    SetStock(c.ActivityId, c.Content, firstRecordedAt.GetValueOrDefault(e.StreamId));
                    latest[e.StreamId] = c.Content;
                    break;
                case ActivityRetracted r:
                    Add(Before(), -1);
                    SetStock(r.ActivityId, null, r.RetractedAt);
                    break;
            }
        }

        operations.QueueSqlCommand("select stat_advance(?, ?, ?)", ProjectionName, events[0].Sequence, events[^1].Sequence);
        QueueCells(operations, cells);
        QueueStocks(operations, stockUpserts, stockDeletes);
        cells.Clear(); // the queued statements hold arrays of their own
        spareCells = cells;
    }

    Dictionary<CellKey, long[]>? spareCells;

    /// <summary>The organisation's history of the last batch, read again only when a unit record has changed.</summary>
    volatile UnitDirectory.Versioned? organisation;

    /// <summary>
    /// Where an activity of a unit on a day counts (<see cref="UnitHistory.HoldersOn"/>), remembered per (unit, day)
    /// for one batch. A unit the history does not know counts nowhere (as the fill: it has no ancestry span).
    /// </summary>
    public static Func<string, DateOnly, IEnumerable<string>> Holders(UnitHistory history)
    {
        var memo = new Dictionary<(string, DateOnly), string[]>();
        return (unit, day) =>
        {
            if (!memo.TryGetValue((unit, day), out var chain))
                memo[(unit, day)] = chain = history.Knows(unit) ? history.HoldersOn(unit, day).ToArray() : [];
            return chain;
        };
    }

    /// <summary>
    /// What the batch needs of earlier events, in one read: the content that each correction or retraction
    /// replaces (the stream's event just before it), and when each activity corrected into a stock was first
    /// recorded. Every event of a stream before one the daemon hands over is committed; a predecessor within
    /// this batch is taken from the batch by the caller.
    /// </summary>
    async Task<(Dictionary<(Guid, long), ActivityContent> Previous, Dictionary<Guid, DateTimeOffset> FirstRecordedAt)> EarlierEventsAsync(
        IReadOnlyList<IEvent> events, CancellationToken ct)
    {
        var previous = new Dictionary<(Guid, long), ActivityContent>();
        var firstRecordedAt = new Dictionary<Guid, DateTimeOffset>();
        foreach (var e in events)
            if (e.Data is ActivityRecorded r) firstRecordedAt[e.StreamId] = r.RecordedAt;

        var inBatch = events.Select(e => (e.StreamId, e.Version)).ToHashSet();
        var replaced = events.Where(e => e.Data is ActivityCorrected or ActivityRetracted).Select(e => (e.StreamId, Version: e.Version - 1));
        var firsts = events.Where(e => e.Data is ActivityCorrected c && KindCatalog.Get(c.Content.Kind).IsStock && !firstRecordedAt.ContainsKey(e.StreamId))
            .Select(e => (e.StreamId, Version: 1L));
        var wanted = replaced.Concat(firsts).Where(w => !inBatch.Contains(w)).Distinct().ToArray();
        if (wanted.Length > 0)
        {
            await using var cmd = db.CreateCommand("""
                select e.stream_id, e.version, e.type, e.data
                from unnest($1::uuid[], $2::bigint[]) as w(stream_id, version)
                join mt_events e on e.stream_id = w.stream_id and e.version = w.version
                """);
            cmd.Parameters.AddWithValue(wanted.Select(m => m.StreamId).ToArray());
            cmd.Parameters.AddWithValue(wanted.Select(m => m.Version).ToArray());
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var key = (reader.GetGuid(0), reader.GetInt64(1));
                switch (ActivityEventTypes.Read(reader.GetString(2), reader.GetString(3)))
                {
                    case ActivityRecorded r:
                        previous[key] = r.Content;
                        firstRecordedAt[key.Item1] = r.RecordedAt;
                        break;
                    case ActivityCorrected c:
                        previous[key] = c.Content;
                        break;
                    case var other:
                        throw new InvalidOperationException($"Event {key.Item2} of activity {key.Item1} is a {other.GetType().Name}; expected the content it replaced.");
                }
            }
        }
        return (previous, firstRecordedAt);
    }

    static readonly int[] SlotNumbers = Enumerable.Range(0, Slots).ToArray();

    /// <summary>The batch's sums added to their cells; one writer (the daemon runs the projection's shard on one node), so no ordering against deadlocks.</summary>
    static readonly string AddToCellsSql = $"""
        insert into {Cells} as c (unit_id, period, bucket, kind, d1, d2, {string.Join(", ", SlotNumbers.Select(i => $"v{i}"))})
        select * from unnest(?::text[], ?::bpchar[], ?::date[], ?::text[], ?::text[], ?::text[], {string.Join(", ", SlotNumbers.Select(_ => "?::bigint[]"))})
        on conflict (unit_id, period, bucket, kind, d1, d2) do update set
            {string.Join(", ", SlotNumbers.Select(i => $"v{i} = c.v{i} + excluded.v{i}"))}
        """;

    /// <summary>
    /// The cells that the batch left holding only zeros. The period comes as <c>bpchar</c>, the column's type: compared as
    /// text it would leave the key's index after <c>unit_id</c> and scan every cell of the unit.
    /// </summary>
    static readonly string DeleteEmptiedCellsSql = $"""
        delete from {Cells} c using unnest(?::text[], ?::bpchar[], ?::date[], ?::text[], ?::text[], ?::text[]) as k(unit_id, period, bucket, kind, d1, d2)
        where c.unit_id = k.unit_id and c.period = k.period and c.bucket = k.bucket and c.kind = k.kind and c.d1 = k.d1 and c.d2 = k.d2 and c.v0 = 0
        """;

    static void QueueCells(IDocumentOperations operations, Dictionary<CellKey, long[]> cells)
    {
        // A cell that gains and loses the same activities within one batch (recorded, then retracted) changes
        // nothing: writing it would leave a row of zeros where no activity counts.
        var count = 0;
        foreach (var values in cells.Values)
            if (!IsZero(values)) count++;
        if (count == 0) return;
        // One array per column, straight from the dictionary (each of them small; an array of the rows would not be).
        var keys = new KeyColumns(count);
        var slots = new long[Slots][];
        for (var i = 0; i < Slots; i++) slots[i] = new long[count];
        List<CellKey>? emptied = null;
        var row = 0;
        foreach (var (key, values) in cells)
        {
            if (IsZero(values)) continue;
            keys.Set(row, key);
            for (var i = 0; i < Slots; i++) slots[i][row] = values[i];
            if (values[0] < 0) (emptied ??= []).Add(key); // lost activities: it may now hold only zeros
            row++;
        }
        operations.QueueSqlCommand(AddToCellsSql, [.. keys.Arrays, .. slots]);

        if (emptied is null) return;
        var gone = new KeyColumns(emptied.Count);
        for (var i = 0; i < emptied.Count; i++) gone.Set(i, emptied[i]);
        operations.QueueSqlCommand(DeleteEmptiedCellsSql, gone.Arrays);
    }

    static bool IsZero(long[] values)
    {
        foreach (var v in values)
            if (v != 0) return false;
        return true;
    }

    /// <summary>The six key columns of cells, one array each, as the unnest of the statements takes them.</summary>
    sealed class KeyColumns(int count)
    {
        readonly string[] units = new string[count], periods = new string[count], kinds = new string[count], d1 = new string[count], d2 = new string[count];
        readonly DateOnly[] buckets = new DateOnly[count];

        public void Set(int i, CellKey key)
        {
            units[i] = key.UnitId;
            periods[i] = key.Period switch { 'd' => "d", 'm' => "m", 'y' => "y", var other => other.ToString() }; // no string per cell
            buckets[i] = key.Bucket;
            kinds[i] = key.Kind;
            d1[i] = key.D1;
            d2[i] = key.D2;
        }

        public object[] Arrays => [units, periods, buckets, kinds, d1, d2];
    }

    static readonly int[] StockSlotNumbers = Enumerable.Range(1, Slots - 1).ToArray();

    static readonly string DeleteStocksSql = $"delete from {Stocks} where activity_id = any(?::uuid[])";

    /// <summary>Each declaration's row, replaced whole (a stock is the latest declaration, not a sum).</summary>
    static readonly string UpsertStocksSql = $"""
        insert into {Stocks} as s (activity_id, unit_id, occurred_on, recorded_at, {string.Join(", ", StockSlotNumbers.Select(i => $"v{i}"))})
        select * from unnest(?::uuid[], ?::text[], ?::date[], ?::timestamptz[], {string.Join(", ", StockSlotNumbers.Select(_ => "?::bigint[]"))})
        on conflict (activity_id) do update set unit_id = excluded.unit_id, occurred_on = excluded.occurred_on,
            {string.Join(", ", StockSlotNumbers.Select(i => $"v{i} = excluded.v{i}"))}
        """;

    static void QueueStocks(IDocumentOperations operations,
        Dictionary<Guid, (ActivityContent Content, DateTimeOffset RecordedAt)> upserts, HashSet<Guid> deletes)
    {
        if (deletes.Count > 0)
            operations.QueueSqlCommand(DeleteStocksSql, deletes.ToArray());
        if (upserts.Count == 0) return;
        var count = upserts.Count;
        var (ids, units, dates, recorded) = (new Guid[count], new string[count], new DateOnly[count], new DateTimeOffset[count]);
        var slots = StockSlotNumbers.Select(_ => new long[count]).ToArray();
        var row = 0;
        foreach (var (id, (content, recordedAt)) in upserts)
        {
            (ids[row], units[row], dates[row], recorded[row]) = (id, content.UnitId, content.OccurredOn, ToMicroseconds(recordedAt));
            var values = StockValues(content);
            for (var i = 0; i < slots.Length; i++) slots[i][row] = values[StockSlotNumbers[i]];
            row++;
        }
        operations.QueueSqlCommand(UpsertStocksSql, [ids, units, dates, recorded, .. slots]);
    }

    /// <summary>
    /// A stock's recorded time as every path stores it, the projection, the rebuild's fill and verify: truncated
    /// to the microsecond. .NET's clock has 100 ns ticks and the event's JSON keeps all seven digits; PostgreSQL's
    /// own cast would round them through a double (<c>rint(frac * 1e6)</c>), so a tick of 5 came out either way and
    /// a rebuild could differ from the projection by 1 µs (make bench caught one). So the fill cuts the text to
    /// six digits first (<see cref="RecordedAtSql"/>), and Npgsql truncates the same way when it writes.
    /// </summary>
    public static DateTimeOffset ToMicroseconds(DateTimeOffset time)
    {
        var ticks = time.UtcTicks;
        ticks -= ticks % 10;
        return new DateTimeOffset(ticks, TimeSpan.Zero);
    }

    /// <summary>The SQL of <see cref="ToMicroseconds"/> for a time in JSON text: the fraction cut to six digits, then cast.</summary>
    internal static string RecordedAtSql(string text) => $@"regexp_replace({text}, '(\.[0-9]{{6}})[0-9]+', '\1')::timestamptz";
}
