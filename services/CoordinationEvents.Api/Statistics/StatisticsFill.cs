using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Core;
using Npgsql;

namespace CoordinationEvents.Api.Statistics;

/// <summary>The rebuild's set-based fill: the cells and stock rows that replaying every event would give, in one statement per half.</summary>
public sealed partial class StatisticsProjection
{
    /// <summary>The two halves of a rebuild's fill, run side by side on two connections (one core each).</summary>
    public enum FillPart { Days, MonthsAndStocks }

    /// <summary>
    /// A rebuild's bulk fill, one half of it: the same cells and stock rows that replaying the events would give
    /// (the consistency check compares them with a fold of the events), computed in one statement from each
    /// activity's latest event up to <paramref name="lastSequence"/>: its content, or its retraction. The caller
    /// runs both halves in transactions that share one snapshot, so they read the same events and unit tree.
    /// </summary>
    public static async Task FillAsync(NpgsqlConnection connection, string cells, string? stocks, long lastSequence, FillPart part,
        IReadOnlyList<AncestrySpan> ancestry, CancellationToken ct, DateOnly? fromDay = null, string[]? units = null)
    {
        // One large aggregation, for this transaction only: let it sort in memory rather than on disk, and do not
        // spend seconds compiling expressions (JIT) that run once per activity anyway.
        await using (var settings = new NpgsqlCommand("set local work_mem = '256MB'; set local jit = off", connection)) await settings.ExecuteNonQueryAsync(ct);
        await using var cmd = new NpgsqlCommand(FillSql(cells, stocks, part, byUnit: units is not null), connection) { CommandTimeout = 0 };
        AddFillParameters(cmd, lastSequence, ancestry, fromDay);
        if (units is not null) cmd.Parameters.Add(new NpgsqlParameter { Value = units, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The parameters of <see cref="FillSql"/>.</summary>
    public static void AddFillParameters(NpgsqlCommand cmd, long lastSequence, IReadOnlyList<AncestrySpan> ancestry, DateOnly? fromDay = null)
    {
        cmd.Parameters.AddWithValue(lastSequence);
        cmd.Parameters.AddWithValue(ancestry.Select(a => a.UnitId).ToArray());
        cmd.Parameters.AddWithValue(ancestry.Select(a => a.Ancestor).ToArray());
        // The open ends (DateOnly.MinValue, MaxValue) go as the calendar's first and last days: the SQL reads a span
        // that ends on the last day as open (see FillSql), whether or not Npgsql maps them to ±infinity.
        cmd.Parameters.AddWithValue(ancestry.Select(a => a.From).ToArray());
        cmd.Parameters.AddWithValue(ancestry.Select(a => a.Until).ToArray());
        cmd.Parameters.Add(new NpgsqlParameter { Value = fromDay is { } d ? d : DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Date });
    }

    /// <summary>Which activities an <c>asOf</c> fill reads from their documents: none, those of the units $8, or all.</summary>
    public enum AsOfDocuments { None, OfUnits, All }

    /// <summary>
    /// One half of the fill, as one statement ($1: the last event to include, a committed sequence below the daemon's
    /// high water mark; $2–$5: the organisation's <see cref="UnitHistory.Ancestry"/> spans, unit, ancestor, from,
    /// until, as arrays: each activity counts for the ancestors of the span of its unit that holds its day, the same
    /// holders as <see cref="UnitHistory.HoldersOn"/> gives the projection; $6: the first day of the activities to
    /// count, null for all, as a restatement asks; with <paramref name="byUnit"/>, $7: the units whose activities a
    /// restatement reads, as they were at $1). Each activity's figures are taken out of its json once
    /// (not once per cell it adds to); day cells are those figures summed per ancestor, month cells are
    /// summed per own unit first, then per ancestor, and year cells from the month cells. A restatement's first day ($6)
    /// is the first of a year, so the year cells it writes count the whole year. Slots follow <see cref="Contribution"/> and
    /// <see cref="StockValues"/>; the consistency check holds the two paths to the same answer.
    /// </summary>
    public static string FillSql(string cells, string? stocks, FillPart part, bool asOf = false, AsOfDocuments documents = AsOfDocuments.OfUnits,
        bool byUnit = false)
    {
        var documentsOf = documents switch
        {
            AsOfDocuments.None => "false",
            AsOfDocuments.All => "true",
            _ => "v.unit_id = any($8)",
        };
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
        // An activity's inline document standing for its latest event: its content, or its retraction.
        var documentAsEvent = $"""
            select v.id as stream_id,
                   case when v.data->>'status' = '{ActivityStatus.Retracted}' then '{ActivityEventTypes.Retracted}' else '{ActivityEventTypes.Recorded}' end as type,
                   v.data
            from {ActivityView.TableName} v
            """;
        // Stock rows are kept per declaration with its own unit, whatever the organisation: a restatement (no stocks
        // table) leaves them alone.
        var stockRows = stocks is null ? "" : $"""
            ,
            stock_rows as (
                insert into {stocks} (activity_id, unit_id, occurred_on, recorded_at, {string.Join(", ", v.Select(i => $"v{i}"))})
                select r.stream_id, r.unit_id, r.day, {RecordedAtSql("first.data->>'recordedAt'")}, {string.Join(", ", v.Select(i => $"r.s{i}"))}
                from r join mt_events first on first.stream_id = r.stream_id and first.version = 1
                where r.kind in ({stockKinds}))
            """;
        return $"""
            with
            {(asOf ? $"""
            -- As known at the instant $7 (StatisticsAsOf): an activity with no event recorded after it ($9 lists those
            -- that have one) was then what its document says now, so its document stands for its latest event (of
            -- the units $8, of all, or of none); of those changed after it, the ones in $10 are replayed: their latest
            -- event recorded by then (one recorded only after it has none, and need not be listed there).
            latest as (
                {documentAsEvent}
                where {documentsOf} and not (v.id = any($9))
                union all
                select e.stream_id, e.type, e.data from mt_events e
                where e.stream_id = any($10) and e.seq_id <= $1 and e.type in ({types}) and e.timestamp <= $7
                  and not exists (select from mt_events n where n.stream_id = e.stream_id and n.version = e.version + 1
                                  and n.seq_id <= $1 and n.type in ({types}) and n.timestamp <= $7)),
            """ : byUnit ? $"""
            -- A restatement's activities, as they were at the horizon $1: those with an event after it (a range scan of
            -- the sequence) from their latest event up to it, one backward probe of Marten's index on (stream_id,
            -- version) each; every other activity of the units $7 from its document (by its indexed unit_id), which is
            -- then what its latest event says. One statement, one snapshot: a document written after the horizon has
            -- its event among those after it. So the cost follows the units' activities, not the store.
            changed as materialized (
                select distinct e.stream_id from mt_events e where e.seq_id > $1 and e.type in ({types})),
            latest as (
                {documentAsEvent}
                where v.unit_id = any($7) and not exists (select from changed c where c.stream_id = v.id)
                union all
                select l.stream_id, l.type, l.data
                from changed c
                cross join lateral (select e.stream_id, e.type, e.data from mt_events e
                                    where e.stream_id = c.stream_id and e.seq_id <= $1 and e.type in ({types})
                                    order by e.version desc limit 1) l),
            """ : $"""
            -- Each activity's latest event: the one with no successor below the horizon (a hash anti-join on
            -- narrow keys, where sorting every event with its data by stream would spill).
            latest as (
                select e.stream_id, e.type, e.data from mt_events e
                where e.seq_id <= $1 and e.type in ({types})
                  and not exists (select from mt_events n where n.stream_id = e.stream_id and n.version = e.version + 1
                                  and n.seq_id <= $1 and n.type in ({types}))),
            """)}
            -- The activities that count, their figures read out of the json once; keys compare bytewise.
            r as materialized (
                select c.stream_id, c.unit_id collate "C", c.day, c.kind collate "C", {Dim(0)} collate "C" as d1, {Dim(1)} collate "C" as d2,
                       {string.Join(", ", flowSlots.Select((e, i) => $"{e} as f{i + 1}"))},
                       {string.Join(", ", stockSlots.Select((e, i) => $"{e} as s{i + 1}"))}
                from (select stream_id, data->'content'->>'unitId' as unit_id, (data->'content'->>'occurredOn')::date as day,
                             data->'content'->>'kind' as kind, data->'content'->'details' as details
                      from latest where type <> '{ActivityEventTypes.Retracted}') c
                where $6::date is null or c.day >= $6::date),
            -- Where each unit's activities count on which days: its holders over spans [from, until); a span
            -- whose end is the calendar's last day (or infinity) is open, so 9999-12-31 itself counts too.
            ancestry as (
                select s.unit_id collate "C" as unit_id, s.ancestor collate "C" as ancestor, s.from_day,
                       case when s.until_day >= '9999-12-31'::date then null else s.until_day end as until_day
                from unnest($2::text[], $3::text[], $4::date[], $5::date[]) as s(unit_id, ancestor, from_day, until_day)),
            -- The runs of days over which a unit's holders stay the same (every holder of a run shares its dates).
            segments as (select distinct unit_id, from_day, until_day from ancestry)
            {(part == FillPart.Days ? $"""
            insert into {cells} (unit_id, period, bucket, kind, d1, d2, v0, {string.Join(", ", v.Select(i => $"v{i}"))})
            select a.ancestor, 'd', r.day, r.kind, r.d1, r.d2, count(*), {string.Join(", ", v.Select(i => $"sum(r.f{i})"))}
            from r join ancestry a on a.unit_id = r.unit_id and r.day >= a.from_day and (a.until_day is null or r.day < a.until_day)
            group by 1, 3, 4, 5, 6
            """ : $"""
            -- Months are summed per own unit and run of holders first (many activities to a cell), then spread over
            -- the run's holders (a month that a change cuts goes to the holders of each part).
            , own_months as (
                select r.unit_id, s.from_day, date_trunc('month', r.day)::date as month, r.kind, r.d1, r.d2, count(*) as v0, {string.Join(", ", v.Select(i => $"sum(r.f{i}) as v{i}"))}
                from r join segments s on s.unit_id = r.unit_id and r.day >= s.from_day and (s.until_day is null or r.day < s.until_day)
                group by 1, 2, 3, 4, 5, 6){stockRows}
            -- Each holder's months, and its years summed from them (a year cell counts what its months count).
            , months as materialized (
                select a.ancestor, m.month, m.kind, m.d1, m.d2, sum(m.v0) as v0, {string.Join(", ", v.Select(i => $"sum(m.v{i}) as v{i}"))}
                from own_months m join ancestry a on a.unit_id = m.unit_id and a.from_day = m.from_day
                group by 1, 2, 3, 4, 5)
            insert into {cells} (unit_id, period, bucket, kind, d1, d2, v0, {string.Join(", ", v.Select(i => $"v{i}"))})
            select ancestor, 'm', month, kind, d1, d2, v0, {string.Join(", ", v.Select(i => $"v{i}"))} from months
            union all
            select ancestor, 'y', date_trunc('year', month)::date, kind, d1, d2, sum(v0), {string.Join(", ", v.Select(i => $"sum(v{i})"))}
            from months group by 1, 3, 4, 5, 6
            """)}
            """;
    }
}
