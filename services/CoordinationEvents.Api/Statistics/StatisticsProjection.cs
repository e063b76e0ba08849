using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Units;
using CoordinationEvents.EventStore;
using Npgsql;
using NpgsqlTypes;

namespace CoordinationEvents.Api.Statistics;

/// <summary>Where a figure is kept: a unit's whole subtree, a day or a month, a kind and its dimension values.</summary>
public readonly record struct CellKey(string UnitId, char Period, DateOnly Bucket, string Kind, string D1, string D2);

/// <summary>
/// The statistics projection (async). Flows are kept as sums per (unit subtree, day and month, kind,
/// dimension values): every activity adds to the cells of its unit and of each ancestor, so a province's
/// figures are a handful of rows whatever the volume below it. A period is answered from whole months plus
/// at most two runs of days. Stocks (self-management) are kept per declaration, and the latest one per unit
/// on or before a date is found by index.
/// </summary>
public sealed class StatisticsProjection : IAsyncProjection, ISetBasedRebuild
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

    public string Name => ProjectionName;

    /// <summary>Cells roll up the unit tree as it was when each event was applied: when a unit moves, re-project.</summary>
    public sealed class RebuildOnUnitMove(NpgsqlDataSource db, ProjectionDaemon daemon) : IUnitMoveListener
    {
        public async Task UnitMovedAsync(string unitId, CancellationToken ct)
        {
            await ProjectionDaemon.RequestRebuildAsync(db, ProjectionName, ct);
            daemon.Nudge();
        }
    }
    public IReadOnlyList<string> Tables { get; } = [Cells, Stocks];

    public static readonly Migration Schema = new("statistics", 1, $"""
        -- Keys compare bytewise (collate "C"): ids and codes, not words, so no locale rules in the hot index.
        create table {Cells} (
            unit_id text collate "C" not null,
            period char(1) not null,
            bucket date not null,
            kind text collate "C" not null,
            d1 text collate "C" not null,
            d2 text collate "C" not null,
            {string.Join(", ", Enumerable.Range(0, Slots).Select(i => $"v{i} bigint not null"))},
            primary key (unit_id, period, bucket, kind, d1, d2));

        create table {Stocks} (
            activity_id uuid primary key,
            unit_id text collate "C" not null,
            occurred_on date not null,
            recorded_at timestamptz not null,
            {string.Join(", ", Enumerable.Range(1, Slots - 1).Select(i => $"v{i} bigint not null"))});
        create index stat_stocks_latest on {Stocks} (unit_id, occurred_on desc, recorded_at desc, activity_id desc);
        """);

    /// <summary>The cells one activity adds to (or, negated, removes from).</summary>
    public static IEnumerable<(CellKey Key, long[] Values)> Contribution(ActivityContent content, Func<string, IEnumerable<string>> selfAndAncestors)
    {
        var kind = KindCatalog.Get(content.Kind);
        var values = new long[Slots];
        values[0] = 1;
        if (!kind.IsStock)
            for (var i = 0; i < kind.Metrics.Count; i++) values[i + 1] = ToSlot(kind.Metrics[i], content.Metric(kind.Metrics[i].Name));
        var d1 = kind.Dimensions.Count > 0 ? content.DimensionValue(kind.Dimensions[0].Name) ?? "" : "";
        var d2 = kind.Dimensions.Count > 1 ? content.DimensionValue(kind.Dimensions[1].Name) ?? "" : "";
        var month = new DateOnly(content.OccurredOn.Year, content.OccurredOn.Month, 1);
        foreach (var unit in selfAndAncestors(content.UnitId))
        {
            yield return (new CellKey(unit, 'd', content.OccurredOn, content.Kind, d1, d2), values);
            yield return (new CellKey(unit, 'm', month, content.Kind, d1, d2), values);
        }
    }

    public static long[] StockValues(ActivityContent content)
    {
        var kind = KindCatalog.Get(content.Kind);
        var values = new long[Slots];
        for (var i = 0; i < kind.Metrics.Count; i++) values[i + 1] = ToSlot(kind.Metrics[i], content.Metric(kind.Metrics[i].Name));
        return values;
    }

    public async Task ApplyAsync(NpgsqlConnection connection, ProjectionTarget target, IReadOnlyList<StoredEvent> events, CancellationToken ct)
    {
        var tree = await UnitDirectory.LoadAsync(connection, ct);
        var previous = await PreviousContentAsync(connection, events, ct);
        var cells = new Dictionary<CellKey, long[]>();
        var stockUpserts = new Dictionary<Guid, (ActivityContent Content, DateTimeOffset RecordedAt)>();
        var stockDeletes = new HashSet<Guid>();

        void Add(ActivityContent content, int sign)
        {
            foreach (var (key, values) in Contribution(content, tree.SelfAndAncestors))
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

        foreach (var e in events)
        {
            switch (e.Data)
            {
                case ActivityRecorded r:
                    Add(r.Content, +1);
                    if (KindCatalog.Get(r.Content.Kind).IsStock) SetStock(r.ActivityId, r.Content, r.RecordedAt);
                    break;
                case ActivityCorrected c:
                    Add(previous[(e.StreamId, e.Version - 1)], -1);
                    Add(c.Content, +1);
                    SetStock(c.ActivityId, c.Content, c.CorrectedAt);
                    break;
                case ActivityRetracted r:
                    Add(previous[(e.StreamId, e.Version - 1)], -1);
                    SetStock(r.ActivityId, null, r.RetractedAt);
                    break;
            }
        }

        await WriteCellsAsync(connection, target.Table(Cells), cells, ct);
        await WriteStocksAsync(connection, target.Table(Stocks), stockUpserts, stockDeletes, ct);
    }

    /// <summary>What a correction or retraction replaces: the content of the stream's event just before it.</summary>
    static async Task<Dictionary<(Guid, int), ActivityContent>> PreviousContentAsync(NpgsqlConnection connection, IReadOnlyList<StoredEvent> events, CancellationToken ct)
    {
        var wanted = events.Where(e => e.Data is ActivityCorrected or ActivityRetracted).Select(e => (e.StreamId, Version: e.Version - 1)).Distinct().ToArray();
        var result = new Dictionary<(Guid, int), ActivityContent>();
        if (wanted.Length == 0) return result;
        // Events of this batch are committed too, so one read covers an earlier event of the same batch.
        var byKey = events.ToDictionary(e => (e.StreamId, e.Version));
        var missing = wanted.Where(w => !byKey.ContainsKey(w)).ToArray();
        var loaded = new Dictionary<(Guid, int), object>();
        if (missing.Length > 0)
        {
            await using var cmd = new NpgsqlCommand("""
                select e.stream_id, e.version, e.type, e.data::text
                from unnest($1::uuid[], $2::int[]) as w(stream_id, version)
                join events e on e.stream_id = w.stream_id and e.version = w.version
                """, connection);
            cmd.Parameters.AddWithValue(missing.Select(m => m.StreamId).ToArray());
            cmd.Parameters.AddWithValue(missing.Select(m => m.Version).ToArray());
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                loaded[(reader.GetGuid(0), reader.GetInt32(1))] = Registry.Deserialize(reader.GetString(2), reader.GetString(3));
        }
        foreach (var w in wanted)
        {
            var data = byKey.TryGetValue(w, out var e) ? e.Data : loaded[w];
            result[w] = data switch
            {
                ActivityRecorded r => r.Content,
                ActivityCorrected c => c.Content,
                _ => throw new InvalidOperationException($"Event {w.Version} of activity {w.StreamId} is a {data.GetType().Name}; expected the content it replaced."),
            };
        }
        return result;
    }

    /// <summary>
    /// A rebuild's bulk fill: the same cells and stock rows that replaying the events would give (the
    /// consistency check compares them with a fold of the events), computed in one statement from each
    /// activity's latest event below the horizon: its content, or its retraction.
    /// </summary>
    public async Task FillAsync(NpgsqlConnection connection, ProjectionTarget target, long horizon, CancellationToken ct)
    {
        // One large aggregation, for this transaction only: let it sort in memory rather than on disk, and do not
        // spend seconds compiling expressions (JIT) that run once per activity anyway.
        await using (var settings = new NpgsqlCommand("set local work_mem = '256MB'; set local jit = off", connection)) await settings.ExecuteNonQueryAsync(ct);
        await using var cmd = new NpgsqlCommand(FillSql(target.Table(Cells), target.Table(Stocks)), connection) { CommandTimeout = 0 };
        cmd.Parameters.AddWithValue(horizon);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// The fill, as one statement ($1: the horizon). Each activity's figures are taken out of its json once
    /// (not once per cell it adds to); day cells are those figures summed per ancestor, and month cells are
    /// summed per own unit first, then per ancestor. Slots follow <see cref="Contribution"/> and
    /// <see cref="StockValues"/>; the consistency check holds the two paths to the same answer.
    /// </summary>
    public static string FillSql(string cells, string stocks)
    {
        static string Number(MetricDefinition m) => m.Type == MetricType.Decimal
            ? $"coalesce(round((c.details->>'{m.Name}')::numeric * {DecimalScale}), 0)::bigint"
            : $"coalesce((c.details->>'{m.Name}')::numeric, 0)::bigint";
        static string ByKind(Func<KindDefinition, string?> pick, string otherwise)
        {
            var branches = string.Concat(KindCatalog.All.Select(k => pick(k) is { } e ? $"when '{k.Name}' then {e} " : ""));
            return branches.Length == 0 ? otherwise : $"case c.kind {branches}else {otherwise} end";
        }
        var flowSlots = Enumerable.Range(1, Slots - 1).Select(i => ByKind(k => !k.IsStock && k.Metrics.Count >= i ? Number(k.Metrics[i - 1]) : null, "0"));
        var stockSlots = Enumerable.Range(1, Slots - 1).Select(i => ByKind(k => k.IsStock && k.Metrics.Count >= i ? Number(k.Metrics[i - 1]) : null, "0"));
        string Dim(int index) => ByKind(k => k.Dimensions.Count > index ? $"coalesce(c.details->>'{k.Dimensions[index].Name}', '')" : null, "''");
        var stockKinds = string.Join(", ", KindCatalog.All.Where(k => k.IsStock).Select(k => $"'{k.Name}'"));
        var types = $"'{ActivityEventTypes.Recorded}', '{ActivityEventTypes.Corrected}', '{ActivityEventTypes.Retracted}'";
        var v = Enumerable.Range(1, Slots - 1).ToArray();
        return $"""
            with recursive
            -- Each activity's latest event: the one with no successor below the horizon (a hash anti-join on
            -- narrow keys, where sorting every event with its data by stream would spill).
            latest as (
                select e.stream_id, e.type, e.data from events e
                where e.transaction_id < $1 and e.type in ({types})
                  and not exists (select from events n where n.stream_id = e.stream_id and n.version = e.version + 1
                                  and n.transaction_id < $1 and n.type in ({types}))),
            -- The activities that count, their figures read out of the json once; keys compare bytewise.
            r as materialized (
                select c.stream_id, c.unit_id collate "C", c.day, c.kind collate "C", {Dim(0)} collate "C" as d1, {Dim(1)} collate "C" as d2,
                       {string.Join(", ", flowSlots.Select((e, i) => $"{e} as f{i + 1}"))},
                       {string.Join(", ", stockSlots.Select((e, i) => $"{e} as s{i + 1}"))}
                from (select stream_id, data->'content'->>'unitId' as unit_id, (data->'content'->>'occurredOn')::date as day,
                             data->'content'->>'kind' as kind, data->'content'->'details' as details
                      from latest where type <> '{ActivityEventTypes.Retracted}') c),
            ancestry as (
                select unit_id collate "C" as unit_id, unit_id collate "C" as ancestor, parent_id from units
                union all
                select a.unit_id, u.unit_id collate "C", u.parent_id from ancestry a join units u on u.unit_id = a.parent_id),
            -- Months are summed per own unit first (many activities to a cell), then spread over the ancestors.
            own_months as (
                select unit_id, date_trunc('month', day)::date as month, kind, d1, d2, count(*) as v0, {string.Join(", ", v.Select(i => $"sum(f{i}) as v{i}"))}
                from r group by 1, 2, 3, 4, 5),
            stock_rows as (
                insert into {stocks} (activity_id, unit_id, occurred_on, recorded_at, {string.Join(", ", v.Select(i => $"v{i}"))})
                select r.stream_id, r.unit_id, r.day, (first.data->>'recordedAt')::timestamptz, {string.Join(", ", v.Select(i => $"r.s{i}"))}
                from r join events first on first.stream_id = r.stream_id and first.version = 1
                where r.kind in ({stockKinds}))
            insert into {cells} (unit_id, period, bucket, kind, d1, d2, v0, {string.Join(", ", v.Select(i => $"v{i}"))})
            select a.ancestor, 'd', r.day, r.kind, r.d1, r.d2, count(*), {string.Join(", ", v.Select(i => $"sum(r.f{i})"))}
            from r join ancestry a on a.unit_id = r.unit_id
            group by 1, 3, 4, 5, 6
            union all
            select a.ancestor, 'm', m.month, m.kind, m.d1, m.d2, sum(m.v0), {string.Join(", ", v.Select(i => $"sum(m.v{i})"))}
            from own_months m join ancestry a on a.unit_id = m.unit_id
            group by 1, 3, 4, 5, 6
            """;
    }

    static readonly EventTypeRegistry Registry = ActivityEventTypes.Register(new EventTypeRegistry());

    static async Task WriteCellsAsync(NpgsqlConnection connection, string table, Dictionary<CellKey, long[]> cells, CancellationToken ct)
    {
        // A cell that gains and loses the same activities within one batch (recorded, then retracted) changes
        // nothing: writing it would leave a row of zeros where no activity counts.
        var rows = cells.Where(c => c.Value.Any(v => v != 0)).ToArray();
        if (rows.Length == 0) return;
        // One writer per table (the runner holding the projection's lock), so no ordering is needed against deadlocks.
        var keys = rows.Select(r => r.Key).ToArray();
        var slots = Enumerable.Range(0, Slots).ToArray();
        await using (var cmd = new NpgsqlCommand($"""
            insert into {table} as c (unit_id, period, bucket, kind, d1, d2, {string.Join(", ", slots.Select(i => $"v{i}"))})
            select * from unnest($1::text[], $2::char[], $3::date[], $4::text[], $5::text[], $6::text[], {string.Join(", ", slots.Select(i => $"${i + 7}::bigint[]"))})
            on conflict (unit_id, period, bucket, kind, d1, d2) do update set
                {string.Join(", ", slots.Select(i => $"v{i} = c.v{i} + excluded.v{i}"))}
            """, connection))
        {
            AddKeys(cmd, keys);
            foreach (var i in slots)
            {
                var column = new long[rows.Length];
                for (var r = 0; r < rows.Length; r++) column[r] = rows[r].Value[i];
                cmd.Parameters.AddWithValue(column);
            }
            await cmd.ExecuteNonQueryAsync(ct);
        }

        // A cell whose last activity left holds only zeros: remove it.
        var emptied = rows.Where(r => r.Value[0] < 0).Select(r => r.Key).ToArray();
        if (emptied.Length == 0) return;
        await using var delete = new NpgsqlCommand($"""
            delete from {table} c using unnest($1::text[], $2::char[], $3::date[], $4::text[], $5::text[], $6::text[]) as k(unit_id, period, bucket, kind, d1, d2)
            where c.unit_id = k.unit_id and c.period = k.period and c.bucket = k.bucket and c.kind = k.kind and c.d1 = k.d1 and c.d2 = k.d2 and c.v0 = 0
            """, connection);
        AddKeys(delete, emptied);
        await delete.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The six key columns as parameters $1..$6, one array each.</summary>
    static void AddKeys(NpgsqlCommand cmd, CellKey[] keys)
    {
        cmd.Parameters.AddWithValue(keys.Select(k => k.UnitId).ToArray());
        cmd.Parameters.Add(new NpgsqlParameter { Value = keys.Select(k => k.Period).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.InternalChar });
        cmd.Parameters.AddWithValue(keys.Select(k => k.Bucket).ToArray());
        cmd.Parameters.AddWithValue(keys.Select(k => k.Kind).ToArray());
        cmd.Parameters.AddWithValue(keys.Select(k => k.D1).ToArray());
        cmd.Parameters.AddWithValue(keys.Select(k => k.D2).ToArray());
    }

    static async Task WriteStocksAsync(NpgsqlConnection connection, string table,
        Dictionary<Guid, (ActivityContent Content, DateTimeOffset RecordedAt)> upserts, HashSet<Guid> deletes, CancellationToken ct)
    {
        if (deletes.Count > 0)
        {
            await using var cmd = new NpgsqlCommand($"delete from {table} where activity_id = any($1)", connection);
            cmd.Parameters.AddWithValue(deletes.ToArray());
            await cmd.ExecuteNonQueryAsync(ct);
        }
        if (upserts.Count == 0) return;
        var ids = upserts.Keys.ToArray();
        var values = ids.Select(id => StockValues(upserts[id].Content)).ToArray();
        var slots = Enumerable.Range(1, Slots - 1).ToArray();
        await using (var cmd = new NpgsqlCommand($"""
            insert into {table} as s (activity_id, unit_id, occurred_on, recorded_at, {string.Join(", ", slots.Select(i => $"v{i}"))})
            select * from unnest($1::uuid[], $2::text[], $3::date[], $4::timestamptz[], {string.Join(", ", slots.Select(i => $"${i + 4}::bigint[]"))})
            on conflict (activity_id) do update set unit_id = excluded.unit_id, occurred_on = excluded.occurred_on,
                {string.Join(", ", slots.Select(i => $"v{i} = excluded.v{i}"))}
            """, connection))
        {
            cmd.Parameters.AddWithValue(ids);
            cmd.Parameters.AddWithValue(ids.Select(id => upserts[id].Content.UnitId).ToArray());
            cmd.Parameters.AddWithValue(ids.Select(id => upserts[id].Content.OccurredOn).ToArray());
            cmd.Parameters.AddWithValue(ids.Select(id => upserts[id].RecordedAt.ToUniversalTime()).ToArray());
            foreach (var i in slots) cmd.Parameters.AddWithValue(values.Select(v => v[i]).ToArray());
            await cmd.ExecuteNonQueryAsync(ct);
        }
    }
}
