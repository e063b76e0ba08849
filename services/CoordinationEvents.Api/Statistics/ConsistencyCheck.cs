using CoordinationEvents.Api.Activities;

using CoordinationEvents.Api.Core;
using Npgsql;

namespace CoordinationEvents.Api.Statistics;

public sealed record Difference(string Table, string Key, long[]? Expected, long[]? Actual);

public sealed record ConsistencyReport(
    string Projection,
    string Position,
    long EventsChecked,
    int ActiveActivities,
    int CellsCompared,
    int StocksCompared,
    int DifferenceCount,
    IReadOnlyList<Difference> Differences);

/// <summary>
/// Recomputes the statistics from the raw events, independently of the projection's code path (fold each
/// stream to its final state, then add up), and compares every cell and stock row with the projection's
/// tables, at the projection's own position, in one snapshot.
/// </summary>
public sealed class ConsistencyCheck(NpgsqlDataSource db)
{
    const int MaxListed = 100;

    public async Task<ConsistencyReport> RunAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);

        long position;
        await using (var cmd = new NpgsqlCommand("select coalesce((select last_seq_id from mt_event_progression where name = $1), 0)", connection))
        {
            cmd.Parameters.AddWithValue(StatisticsProjection.ShardName);
            position = (long)(await cmd.ExecuteScalarAsync(ct))!;
        }

        var tree = await UnitDirectory.LoadAsync(connection, ct);

        // The long reads take as long as the data does (at 10M events the sorted read of mt_events ran past 30 s
        // before its first row), so they have no command timeout (Npgsql's 30 s default once ended a verify at 10M
        // in a 500 in make bench). The request's cancellation still stops them.
        NpgsqlCommand LongRead(string sql) => new(sql, connection) { CommandTimeout = 0 };

        // Each activity's final state as of the projection's position, and what it contributes. The events come in
        // stream order, so a stream is folded, counted and let go before the next one: memory holds the expected
        // cells and stocks, never every activity (10M activities would be gigabytes).
        var expectedCells = new Dictionary<CellKey, long[]>();
        var expectedStocks = new Dictionary<Guid, (string Unit, DateOnly On, DateTimeOffset RecordedAt, long[] Values)>();
        var active = 0;
        long eventsChecked = 0;
        Guid streamOf = default;
        Activity? state = null;
        DateTimeOffset firstRecordedAt = default;
        void Contribute()
        {
            if (state is null || state.Retracted || state.Content is null) return;
            active++;
            foreach (var (key, values) in StatisticsProjection.Contribution(state.Content, tree.SelfAndAncestors))
            {
                if (!expectedCells.TryGetValue(key, out var sum)) expectedCells[key] = sum = new long[StatisticsProjection.Slots];
                for (var i = 0; i < sum.Length; i++) sum[i] += values[i];
            }
            if (KindCatalog.Get(state.Content.Kind).IsStock)
                expectedStocks[streamOf] = (state.Content.UnitId, state.Content.OccurredOn, StatisticsProjection.ToMicroseconds(firstRecordedAt), StatisticsProjection.StockValues(state.Content));
        }
        await using (var cmd = LongRead("""
            select stream_id, type, data from mt_events
            where seq_id <= $1 and type = any($2)
            order by stream_id, version
            """))
        {
            cmd.Parameters.AddWithValue(position);
            // Activity events only: not the tombstones with which Marten fills the numbers of a rolled-back append.
            cmd.Parameters.AddWithValue(ActivityEventTypes.All.ToArray());
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var streamId = reader.GetGuid(0);
                if (state is null || streamId != streamOf)
                {
                    Contribute();
                    (streamOf, state) = (streamId, Activity.Initial);
                }
                var e = Activities.ActivityEventTypes.Read(reader.GetString(1), reader.GetString(2));
                state = Activity.Next(state, e);
                if (e is ActivityRecorded r) firstRecordedAt = r.RecordedAt;
                eventsChecked++;
            }
            Contribute();
        }

        var differences = new List<Difference>();
        var count = 0;
        void Report(Difference d) { count++; if (differences.Count < MaxListed) differences.Add(d); }

        var seen = new HashSet<CellKey>();
        await using (var cmd = LongRead($"select unit_id, period, bucket, kind, d1, d2, {string.Join(", ", Enumerable.Range(0, StatisticsProjection.Slots).Select(i => $"v{i}"))} from {StatisticsProjection.Cells}"))
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct))
            {
                var key = new CellKey(reader.GetString(0), reader.GetChar(1), reader.GetFieldValue<DateOnly>(2), reader.GetString(3), reader.GetString(4), reader.GetString(5));
                var actual = Enumerable.Range(0, StatisticsProjection.Slots).Select(i => reader.GetInt64(6 + i)).ToArray();
                seen.Add(key);
                var expected = expectedCells.GetValueOrDefault(key);
                if (expected is null || !expected.SequenceEqual(actual)) Report(new Difference(StatisticsProjection.Cells, Describe(key), expected, actual));
            }
        foreach (var (key, expected) in expectedCells.Where(c => !seen.Contains(c.Key)))
            Report(new Difference(StatisticsProjection.Cells, Describe(key), expected, null));

        var seenStocks = new HashSet<Guid>();
        await using (var cmd = LongRead($"select activity_id, unit_id, occurred_on, {string.Join(", ", Enumerable.Range(1, StatisticsProjection.Slots - 1).Select(i => $"v{i}"))}, recorded_at from {StatisticsProjection.Stocks}"))
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct))
            {
                var id = reader.GetGuid(0);
                seenStocks.Add(id);
                var actual = new long[StatisticsProjection.Slots];
                for (var i = 1; i < actual.Length; i++) actual[i] = reader.GetInt64(2 + i);
                var ok = expectedStocks.TryGetValue(id, out var expected)
                    && expected.Unit == reader.GetString(1) && expected.On == reader.GetFieldValue<DateOnly>(2) && expected.Values.SequenceEqual(actual)
                    // the recorded time orders two declarations of one day
                    && expected.RecordedAt == reader.GetFieldValue<DateTimeOffset>(2 + StatisticsProjection.Slots);
                if (!ok) Report(new Difference(StatisticsProjection.Stocks, $"activity {id}", expected.Values, actual));
            }
        foreach (var (id, expected) in expectedStocks.Where(s => !seenStocks.Contains(s.Key)))
            Report(new Difference(StatisticsProjection.Stocks, $"activity {id}", expected.Values, null));

        return new ConsistencyReport(StatisticsProjection.ProjectionName, position.ToString(System.Globalization.CultureInfo.InvariantCulture), eventsChecked, active,
            expectedCells.Count, expectedStocks.Count, count, differences);
    }

    static string Describe(CellKey k) =>
        $"unit={k.UnitId} {(k.Period == 'd' ? "day" : "month")}={k.Bucket:yyyy-MM-dd} kind={k.Kind} d1={k.D1} d2={k.D2}";
}
