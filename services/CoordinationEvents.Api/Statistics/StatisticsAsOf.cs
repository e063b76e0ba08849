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
/// Design: a replay of the query's scope, no bitemporal cells. The scope's activities, as they were at the instant,
/// are folded by the rebuild's own set-based fill (<see cref="StatisticsProjection.FillSql"/> with <c>asOf</c>) into two
/// scratch UNLOGGED tables, and the normal <see cref="StatisticsReader.QueryAsync"/> reads them: the answer is formed
/// exactly as the live one, and it is exact by construction (the consistency check already holds the fill to the
/// projection). Bitemporal cells would keep a version of every cell per change (every correction, every late post)
/// and cost every write; this costs only the reads that ask for it.
/// </para>
/// <para>
/// What an activity was at the instant: the activities with an event recorded after it are found by a range scan of
/// the event sequence from the first event recorded <see cref="AppendMargin"/> before the instant (a binary search
/// over the sequence's primary key: ~20 probes). Events with a timestamp after the instant were appended by
/// transactions that began after it, so their sequence numbers were taken after it: the scan from the margin finds
/// them all provided no appending transaction stays open longer than the margin (the service's appends commit in
/// milliseconds). Those few are replayed from their events recorded by then. Every other activity has not changed
/// since, so its inline document (<see cref="ActivityView"/>) is what it was: those of the units that counted for the
/// query's unit on some day, as the tree was known at the instant (the <see cref="UnitHistory.Ancestry"/> spans with
/// that ancestor, or a carried unit with lineage), read by the document's indexed <c>unit_id</c>. An activity that a
/// later correction moved into or out of those units is among the replayed. So the cost follows the scope and the
/// changes since the instant, not the whole event table (a district at 100k: from about 1 s when every event of the
/// store was scanned twice per answer).
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
    /// The figures of <paramref name="query"/> as known at <paramref name="asOf"/>: the scope's streams folded up to it
    /// into scratch tables (dropped before returning), read by <see cref="StatisticsReader.QueryAsync"/>.
    /// </summary>
    public static async Task<StatisticsResponse> QueryAsync(NpgsqlDataSource db, StatisticsReader reader, StatisticsQuery query,
        DateTimeOffset asOf, TimeProvider clock, CancellationToken ct)
    {
        var name = $"stat_asof_{Guid.NewGuid():N}";
        var (cells, stocks) = ($"{name}_c", $"{name}_s");
        try
        {
            UnitHistory history;
            await using (var connection = await db.OpenConnectionAsync(ct))
            {
                history = await HistoryAtAsync(connection, asOf, VietnamCalendar.Today(clock), ct);
                var units = query.UnitId is null ? null : CountedUnits(query, history);
                await FillAsync(connection, cells, stocks, history, asOf, units, await ChangedStreamsAsync(connection, asOf, ct), ct);
            }
            var result = await reader.QueryAsync(query, history, ct, (cells, stocks));
            return result with { AsOf = asOf };
        }
        finally
        {
            await using var connection = await db.OpenConnectionAsync(CancellationToken.None);
            await using var drop = new NpgsqlCommand($"drop table if exists {cells}, {stocks}", connection);
            await drop.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    /// <summary>The organisation's history as recorded up to <paramref name="asOf"/>: each unit's changes recorded by then.</summary>
    public static async Task<UnitHistory> HistoryAtAsync(NpgsqlConnection connection, DateTimeOffset asOf, DateOnly today, CancellationToken ct)
    {
        var records = await UnitDirectory.LoadRecordsAsync(connection, ct);
        return new UnitHistory(records
            .Select(r => r with { Changes = r.Changes.Where(c => c.RecordedAt <= asOf).ToArray() })
            .Where(r => r.Changes.Count > 0), today);
    }

    /// <summary>The units whose activities may count for the query: those under its unit (or a carried one) on some day, as the tree was known.</summary>
    static string[] CountedUnits(StatisticsQuery query, UnitHistory history)
    {
        var counted = new HashSet<string>(StringComparer.Ordinal) { query.UnitId! };
        if (query.Lineage && history.Knows(query.UnitId!)) counted.UnionWith(history.LineageOf(query.UnitId!).Carried.Select(c => c.UnitId));
        return history.Ancestry().Where(a => counted.Contains(a.Ancestor)).Select(a => a.UnitId).Append(query.UnitId!).Distinct().ToArray();
    }

    /// <summary>
    /// The activities with an event recorded after <paramref name="asOf"/> (recorded, corrected or retracted since): a
    /// range scan of the event sequence from the first event recorded <see cref="AppendMargin"/> before the instant.
    /// </summary>
    public static async Task<Guid[]> ChangedStreamsAsync(NpgsqlConnection connection, DateTimeOffset asOf, CancellationToken ct)
    {
        var from = await FirstSequenceAfterAsync(connection, asOf - AppendMargin, ct);
        await using var cmd = new NpgsqlCommand($"""
            select distinct stream_id from mt_events
            where seq_id >= $1 and timestamp > $2 and type in ({string.Join(", ", ActivityEventTypes.All.Select(t => $"'{t}'"))})
            """, connection);
        cmd.Parameters.AddWithValue(from);
        cmd.Parameters.AddWithValue(asOf.ToUniversalTime()); // Npgsql writes timestamptz from UTC only
        var streams = new List<Guid>();
        await using var read = await cmd.ExecuteReaderAsync(ct);
        while (await read.ReadAsync(ct)) streams.Add(read.GetGuid(0));
        return streams.ToArray();
    }

    /// <summary>
    /// The first sequence number whose event has a timestamp after <paramref name="instant"/>, by a binary search over
    /// the primary key (timestamps rise with the sequence, but for transactions open side by side: see <see cref="AppendMargin"/>).
    /// </summary>
    static async Task<long> FirstSequenceAfterAsync(NpgsqlConnection connection, DateTimeOffset instant, CancellationToken ct)
    {
        await using var bounds = new NpgsqlCommand("select coalesce(min(seq_id), 0), coalesce(max(seq_id), 0) from mt_events", connection);
        long lo, hi;
        await using (var r = await bounds.ExecuteReaderAsync(ct))
        {
            await r.ReadAsync(ct);
            (lo, hi) = (r.GetInt64(0), r.GetInt64(1) + 1);
        }
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
        return lo;
    }

    /// <summary>
    /// Creates the scratch tables (UNLOGGED, the projection's shape) and fills them with the cells and stock rows of the
    /// activities of <paramref name="units"/> (null: all) as recorded up to <paramref name="asOf"/>, in one transaction:
    /// those unchanged since from their documents, the <paramref name="changed"/> ones from their events.
    /// </summary>
    static async Task FillAsync(NpgsqlConnection connection, string cells, string stocks, UnitHistory history, DateTimeOffset asOf,
        string[]? units, Guid[] changed, CancellationToken ct)
    {
        await using var tx = await connection.BeginTransactionAsync(ct);
        await using (var create = new NpgsqlCommand($"""
            create unlogged table {cells} (like {StatisticsProjection.Cells} including defaults including constraints including indexes);
            create unlogged table {stocks} (like {StatisticsProjection.Stocks} including defaults including constraints including indexes);
            set local work_mem = '256MB'; set local jit = off;
            """, connection, tx)) await create.ExecuteNonQueryAsync(ct);
        var ancestry = history.Ancestry();
        foreach (var part in new[] { StatisticsProjection.FillPart.Days, StatisticsProjection.FillPart.MonthsAndStocks })
        {
            await using var fill = new NpgsqlCommand(StatisticsProjection.FillSql(cells, stocks, part, asOf: true), connection, tx) { CommandTimeout = 0 };
            StatisticsProjection.AddFillParameters(fill, long.MaxValue, ancestry);
            fill.Parameters.AddWithValue(asOf.ToUniversalTime());
            fill.Parameters.Add(new NpgsqlParameter { Value = units is null ? DBNull.Value : units, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text });
            fill.Parameters.Add(new NpgsqlParameter { Value = changed, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Uuid });
            await fill.ExecuteNonQueryAsync(ct);
        }
        await using (var analyze = new NpgsqlCommand($"analyze {cells}; analyze {stocks}", connection, tx)) await analyze.ExecuteNonQueryAsync(ct);
        await tx.CommitAsync(ct);
    }
}
