using System.Globalization;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;
using Npgsql;

namespace CoordinationEvents.Api.Statistics;

/// <summary>
/// The figures as the service knew them at an instant (<c>asOf</c>, transaction time, a different axis from the
/// period): computed from the events recorded up to that instant (<c>mt_events.timestamp</c>, which Marten's Quick
/// append sets to the appending transaction's start) and the unit tree as recorded by then (the unit changes with
/// <see cref="UnitEvent.RecordedAt"/> at or before it).
/// <para>
/// Design: no bitemporal cells (they would keep a version of every cell per change, every correction and late post,
/// and cost every write); the reads that ask for an instant pay for it. Two ways, both through the rebuild's own
/// set-based fill (<see cref="StatisticsProjection.FillSql"/> with <c>asOf</c>) and read by the ordinary
/// <see cref="StatisticsReader.QueryAsync"/>, so the answer is formed exactly as the live one, and exact by
/// construction (the consistency check holds the fill to the projection):
/// <list type="bullet">
/// <item><b>The live cells, corrected</b> (the usual case: an instant of the last days, a report's issue time). The
/// activities changed since the instant are those with an event recorded after it, or one the projection has not
/// applied yet. Their part is taken out of the live cells as the projection counted it (their events up to its
/// position) and put back as it was (their events recorded by the instant); every other activity counts in the live
/// cells as it did then. The cost follows the changes since the instant, not the scope. It needs the organisation as
/// known at the instant to be today's (the cells count with today's tree), no restatement or rebuild under way, and
/// fewer than <see cref="MaxDeltaEvents"/> events since.</item>
/// <item><b>A replay of the scope</b> otherwise: the activities of the units that counted for the query's unit on some
/// day (as the tree was known then), each as it was: from its inline document (<see cref="ActivityView"/>, read by its
/// indexed <c>unit_id</c>) when it has not changed since, from its events recorded by then when it has.</item>
/// </list>
/// All of it runs in one REPEATABLE READ transaction on one connection, with TEMP scratch tables: the live cells, the
/// projection's position (which moves in the transaction that changes the cells) and the events are one state.
/// </para>
/// <para>
/// What changed after the instant is found by a range scan of the event sequence from the first event recorded
/// <see cref="AppendMargin"/> before the instant (a binary search over the sequence's primary key: ~20 probes).
/// Events with a timestamp after the instant were appended by transactions that began after it, so their sequence
/// numbers were taken after it: the scan from the margin finds them all provided no appending transaction stays open
/// longer than the margin (the service's appends commit in milliseconds).
/// </para>
/// </summary>
public static class StatisticsAsOf
{
    public const string Parameter = "asOf";

    /// <summary>How far before the instant the scan for later corrections starts (the longest an appending transaction may stay open).</summary>
    public static readonly TimeSpan AppendMargin = TimeSpan.FromMinutes(5);

    /// <summary>The description of the parameter, for the OpenAPI document.</summary>
    public const string Description =
        "The figures as the service knew them at this instant (transaction time, not the period): computed from the events recorded up to it " +
        "and the unit tree as recorded by then, exactly. An ISO 8601 instant with its offset (2025-01-15T08:00:00+07:00, or Z; a '+' sent " +
        "unencoded, read as a space, is accepted), or a date alone (YYYY-MM-DD): the end of that day in Vietnam (23:59:59.999999 +07:00). " +
        "Earlier than the first event: zeros. A future instant, or one without an offset, is a 400 keyed asOf. The answer echoes it (asOf).";

    static readonly string[] InstantFormats =
    [
        "yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", "yyyy-MM-dd'T'HH:mmK",
    ];

    /// <summary>The instant of <c>asOf</c> (null when absent); throws a 400 keyed <c>asOf</c> when it is malformed or in the future.</summary>
    public static DateTimeOffset? Parse(string? text, TimeProvider clock)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        text = text.Trim().Replace(' ', '+'); // an unencoded '+' of the offset arrives as a space
        DateTimeOffset instant;
        if (VietnamCalendar.TryParse(text, out var day))
        {
            // A date alone: everything recorded on that day in Vietnam, up to its last microsecond.
            instant = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.FromHours(7)).AddDays(1).AddTicks(-10);
        }
        else if (!(text.EndsWith('Z') || text.LastIndexOfAny(['+', '-']) > text.IndexOf('T'))
                 || !DateTimeOffset.TryParseExact(text, InstantFormats, CultureInfo.InvariantCulture, DateTimeStyles.None, out instant))
            throw InputException.For(Parameter, $"'{Parameter}' is an ISO 8601 instant with its offset (2025-01-15T08:00:00+07:00) or a date (YYYY-MM-DD, the end of that day in Vietnam).");
        // PostgreSQL keeps microseconds: compare at that precision.
        instant = StatisticsProjection.ToMicroseconds(instant);
        if (instant > clock.GetUtcNow())
            throw InputException.For(Parameter, $"'{Parameter}' {text} is in the future: the service can say what it knew up to now, not after.");
        return instant;
    }

    /// <summary>
    /// Past this many events after the instant (or after the projection's position, if earlier), the figures are
    /// replayed from the scope's activities rather than taken from the live cells with the changed activities' part
    /// taken out and put back as it was: both then cost about the same.
    /// </summary>
    public const long MaxDeltaEvents = 200_000;

    /// <summary>
    /// The figures of <paramref name="query"/> as known at <paramref name="asOf"/>, in one REPEATABLE READ transaction on
    /// one connection (the live cells, the projection's position and the events it reads are one state), with scratch
    /// tables that are its own (TEMP, dropped at its end): from the live cells corrected by the activities changed
    /// since (<see cref="FillDeltaAsync"/>), or, when the organisation changed since the instant, a restatement or a
    /// rebuild is under way, or too much changed, replayed (<see cref="FillReplayAsync"/>).
    /// </summary>
    public static async Task<StatisticsResponse> QueryAsync(NpgsqlDataSource db, StatisticsReader reader, StatisticsQuery query,
        DateTimeOffset asOf, TimeProvider clock, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
        await using (var settings = new NpgsqlCommand("set local work_mem = '256MB'; set local jit = off", connection)) await settings.ExecuteNonQueryAsync(ct);
        var records = await UnitDirectory.LoadRecordsAsync(connection, ct);
        var history = HistoryAt(records, asOf, VietnamCalendar.Today(clock));
        var (position, pending) = await StatisticsPosition.ReadAsync(connection, ct);
        var (from, head) = await FirstSequenceAfterAsync(connection, asOf - AppendMargin, ct);
        var organisationChanged = records.Any(r => r.Changes.Any(c => c.RecordedAt > asOf));
        var parts = NeedsDays(query, history) ? [StatisticsProjection.FillPart.Days, StatisticsProjection.FillPart.MonthsAndStocks]
            : new[] { StatisticsProjection.FillPart.MonthsAndStocks };
        (string Cells, string Stocks) tables =
            !organisationChanged && !pending && head - Math.Min(from, position + 1) < MaxDeltaEvents
                ? await FillDeltaAsync(connection, history, asOf, position, from, parts, ct)
                : await FillReplayAsync(connection, history, asOf, query.UnitId is null ? null : CountedUnits(query, history),
                    await ChangedStreamsAsync(connection, asOf, from, null, ct), parts, ct);
        var result = await reader.QueryAsync(query, history, ct, tables, connection);
        await tx.CommitAsync(ct);
        return result with { AsOf = asOf };
    }

    /// <summary>
    /// Whether the answer reads day cells: the reader reads a run of days only where a period it sums does not start
    /// on the first of a month or end on its last day, that is at the query's own ends and at a change of the
    /// organisation inside the period (each changes which units count from its day on). Otherwise only months are read,
    /// and the fill leaves the days out (half its work).
    /// </summary>
    static bool NeedsDays(StatisticsQuery query, UnitHistory history) =>
        query.From.Day != 1 || query.To.AddDays(1).Day != 1
        || history.ChangeDates.Any(d => d > query.From && d <= query.To && d.Day != 1);

    /// <summary>
    /// The live cells and stocks with the part of every activity changed since (an event after the instant, or one the
    /// projection has not applied yet) taken out as the projection counted it (its events up to the position) and put
    /// back as it was at the instant (its events recorded by then): an activity that did not change since counts in
    /// the live cells as it did then. Valid while the organisation is the one known at the instant (the cells count
    /// each activity with today's tree). Returns the cells and stocks as expressions for the reader.
    /// </summary>
    static async Task<(string Cells, string Stocks)> FillDeltaAsync(NpgsqlConnection connection, UnitHistory history, DateTimeOffset asOf,
        long position, long from, StatisticsProjection.FillPart[] parts, CancellationToken ct)
    {
        var changed = (await ChangedStreamsAsync(connection, asOf, from, position, ct)).All;
        var negated = string.Join(", ", Enumerable.Range(0, StatisticsProjection.Slots).Select(i => $"-v{i}"));
        await using (var create = new NpgsqlCommand($"""
            create temp table asof_plus (like {StatisticsProjection.Cells} including defaults) on commit drop;
            create temp table asof_minus (like {StatisticsProjection.Cells} including defaults) on commit drop;
            create temp table asof_stocks (like {StatisticsProjection.Stocks} including defaults) on commit drop;
            create temp table asof_changed (id uuid primary key) on commit drop;
            """, connection)) await create.ExecuteNonQueryAsync(ct);
        await using (var insert = new NpgsqlCommand("insert into asof_changed select unnest($1::uuid[])", connection))
        {
            insert.Parameters.AddWithValue(changed);
            await insert.ExecuteNonQueryAsync(ct);
        }
        if (changed.Length > 0)
        {
            var ancestry = history.Ancestry();
            // As the projection counted them: their events up to its position (whatever their time).
            await FillAsync(connection, "asof_minus", null, position, DateTimeOffset.MaxValue, [], changed, changed, ancestry, parts, ct);
            // As they were: their events recorded by the instant.
            await FillAsync(connection, "asof_plus", "asof_stocks", long.MaxValue, asOf, [], changed, changed, ancestry, parts, ct);
        }
        await using (var index = new NpgsqlCommand("""
            create index on asof_plus (unit_id, period, bucket); create index on asof_minus (unit_id, period, bucket);
            create index on asof_stocks (unit_id, occurred_on); analyze asof_plus; analyze asof_minus; analyze asof_stocks; analyze asof_changed
            """, connection)) await index.ExecuteNonQueryAsync(ct);
        return ($"""
            (select * from {StatisticsProjection.Cells} union all select * from asof_plus
             union all select unit_id, period, bucket, kind, d1, d2, {negated} from asof_minus)
            """,
            $"""
            (select s.* from {StatisticsProjection.Stocks} s where not exists (select from asof_changed x where x.id = s.activity_id)
             union all select * from asof_stocks)
            """);
    }

    /// <summary>
    /// The scope's activities as they were at the instant, folded into scratch tables: those of <paramref name="units"/>
    /// (null: all) unchanged since from their documents, those corrected or retracted since from their events, and
    /// those recorded only after it left out.
    /// </summary>
    static async Task<(string Cells, string Stocks)> FillReplayAsync(NpgsqlConnection connection, UnitHistory history, DateTimeOffset asOf,
        string[]? units, (Guid[] All, Guid[] Changed) after, StatisticsProjection.FillPart[] parts, CancellationToken ct)
    {
        await using (var create = new NpgsqlCommand($"""
            create temp table asof_cells (like {StatisticsProjection.Cells} including defaults including constraints including indexes) on commit drop;
            create temp table asof_stocks (like {StatisticsProjection.Stocks} including defaults including constraints including indexes) on commit drop;
            """, connection)) await create.ExecuteNonQueryAsync(ct);
        await FillAsync(connection, "asof_cells", "asof_stocks", long.MaxValue, asOf, units, after.All, after.Changed, history.Ancestry(), parts, ct);
        await using (var analyze = new NpgsqlCommand("analyze asof_cells; analyze asof_stocks", connection)) await analyze.ExecuteNonQueryAsync(ct);
        return ("asof_cells", "asof_stocks");
    }

    /// <summary>
    /// Both halves of the fill (<see cref="StatisticsProjection.FillSql"/> with <c>asOf</c>) into <paramref name="cells"/> and
    /// <paramref name="stocks"/> (null: none): the activities of <paramref name="units"/> (null: all; empty: none) from
    /// their documents, except the <paramref name="changed"/> ones; the <paramref name="replayed"/> ones are folded from
    /// their events up to <paramref name="lastSequence"/> recorded by <paramref name="asOf"/>.
    /// </summary>
    static async Task FillAsync(NpgsqlConnection connection, string cells, string? stocks, long lastSequence, DateTimeOffset asOf,
        string[]? units, IReadOnlyCollection<Guid> changed, IReadOnlyCollection<Guid> replayed, IReadOnlyList<AncestrySpan> ancestry,
        StatisticsProjection.FillPart[] parts, CancellationToken ct)
    {
        foreach (var part in parts)
        {
            var documents = units is null ? StatisticsProjection.AsOfDocuments.All
                : units.Length == 0 ? StatisticsProjection.AsOfDocuments.None : StatisticsProjection.AsOfDocuments.OfUnits;
            await using var fill = new NpgsqlCommand(StatisticsProjection.FillSql(cells, stocks, part, asOf: true, documents), connection) { CommandTimeout = 0 };
            StatisticsProjection.AddFillParameters(fill, lastSequence, ancestry);
            // DateTimeOffset.MaxValue: whatever their time (a day no event is recorded on).
            fill.Parameters.Add(new NpgsqlParameter { Value = asOf == DateTimeOffset.MaxValue ? new DateTime(9999, 12, 31, 0, 0, 0, DateTimeKind.Utc) : asOf.UtcDateTime,
                NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
            fill.Parameters.Add(new NpgsqlParameter { Value = units ?? [], NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text });
            fill.Parameters.Add(new NpgsqlParameter { Value = changed.ToArray(), NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Uuid });
            fill.Parameters.Add(new NpgsqlParameter { Value = replayed.ToArray(), NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Uuid });
            await fill.ExecuteNonQueryAsync(ct);
        }
    }

    /// <summary>The organisation's history as recorded up to <paramref name="asOf"/>: each unit's changes recorded by then.</summary>
    static UnitHistory HistoryAt(IEnumerable<UnitRecord> records, DateTimeOffset asOf, DateOnly today) => new(records
        .Select(r => r with { Changes = r.Changes.Where(c => c.RecordedAt <= asOf).ToArray() })
        .Where(r => r.Changes.Count > 0), today);

    /// <summary>The units whose activities may count for the query: those under its unit (or a carried one) on some day, as the tree was known.</summary>
    static string[] CountedUnits(StatisticsQuery query, UnitHistory history)
    {
        var counted = new HashSet<string>(StringComparer.Ordinal) { query.UnitId! };
        if (query.Lineage && history.Knows(query.UnitId!)) counted.UnionWith(history.LineageOf(query.UnitId!).Carried.Select(c => c.UnitId));
        return history.Ancestry().Where(a => counted.Contains(a.Ancestor)).Select(a => a.UnitId).Append(query.UnitId!).Distinct().ToArray();
    }

    /// <summary>
    /// The activities with an event recorded after <paramref name="asOf"/> (recorded, corrected or retracted since), or,
    /// given the projection's <paramref name="position"/>, one it has not applied yet; and among them those corrected or
    /// retracted since (the others were recorded only after it, and did not exist then): a range scan of the event
    /// sequence from <paramref name="from"/>, the first event recorded <see cref="AppendMargin"/> before the instant
    /// (or the first after the position, if earlier).
    /// </summary>
    public static async Task<(Guid[] All, Guid[] Changed)> ChangedStreamsAsync(NpgsqlConnection connection, DateTimeOffset asOf, long from,
        long? position, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand($"""
            select stream_id, bool_or(type <> '{ActivityEventTypes.Recorded}') from mt_events
            where seq_id >= least($1, $3 + 1) and (timestamp > $2 or seq_id > $3)
              and type in ({string.Join(", ", ActivityEventTypes.All.Select(t => $"'{t}'"))})
            group by stream_id
            """, connection);
        cmd.Parameters.AddWithValue(from);
        cmd.Parameters.AddWithValue(asOf.ToUniversalTime()); // Npgsql writes timestamptz from UTC only
        cmd.Parameters.AddWithValue(position ?? long.MaxValue - 1);
        var (all, changed) = (new List<Guid>(), new List<Guid>());
        await using var read = await cmd.ExecuteReaderAsync(ct);
        while (await read.ReadAsync(ct))
        {
            all.Add(read.GetGuid(0));
            if (read.GetBoolean(1)) changed.Add(read.GetGuid(0));
        }
        return (all.ToArray(), changed.ToArray());
    }

    /// <summary>
    /// The first sequence number whose event has a timestamp after <paramref name="instant"/>, by a binary search over
    /// the primary key (timestamps rise with the sequence, but for transactions open side by side: see <see cref="AppendMargin"/>),
    /// and the last event's sequence number (0 when there is none).
    /// </summary>
    static async Task<(long First, long Head)> FirstSequenceAfterAsync(NpgsqlConnection connection, DateTimeOffset instant, CancellationToken ct)
    {
        await using var bounds = new NpgsqlCommand("select coalesce(min(seq_id), 0), coalesce(max(seq_id), 0) from mt_events", connection);
        long lo, hi;
        await using (var r = await bounds.ExecuteReaderAsync(ct))
        {
            await r.ReadAsync(ct);
            (lo, hi) = (r.GetInt64(0), r.GetInt64(1) + 1);
        }
        var head = hi - 1;
        // Invariant: events below lo are at or before the instant; hi is after the last event or has one after the instant.
        await using var probe = new NpgsqlCommand("select timestamp > $2 from mt_events where seq_id >= $1 order by seq_id limit 1", connection);
        var at = new NpgsqlParameter<long> { TypedValue = 0 };
        probe.Parameters.Add(at);
        probe.Parameters.AddWithValue(instant.ToUniversalTime());
        while (lo < hi)
        {
            var mid = lo + (hi - lo) / 2;
            at.TypedValue = mid;
            var after = await probe.ExecuteScalarAsync(ct) as bool?;
            if (after is null or true) hi = mid; else lo = mid + 1;
        }
        return (lo, head);
    }
}
