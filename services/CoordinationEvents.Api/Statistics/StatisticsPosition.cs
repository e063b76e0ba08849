using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;
using Npgsql;

namespace CoordinationEvents.Api.Statistics;

/// <summary>The projection could not catch up in time: the answer is a 503, nothing is stored.</summary>
public sealed class ProjectionBehindException(long position, long mark)
    : ProblemException(503, "Statistics are catching up", $"The statistics have applied the events up to {position} of {mark}; try again shortly.");

/// <summary>Figures read at a known event position: every event up to <see cref="Position"/> counted, none after.</summary>
public sealed record PositionedStatistics(StatisticsResponse Statistics, long Position, long HighWaterMark);

public static class StatisticsPosition
{
    /// <summary>The projection's position and whether a rebuild or a restatement is asked for or running (its figures are then about to change).</summary>
    public static async Task<(long Position, bool RebuildPending)> ReadAsync(NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await ReadAsync(connection, ct);
    }

    /// <inheritdoc cref="ReadAsync(NpgsqlDataSource, CancellationToken)"/>
    /// <remarks>On the caller's connection, in its transaction (StatisticsAsOf reads it in the snapshot it reads the cells in).</remarks>
    public static async Task<(long Position, bool RebuildPending)> ReadAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand($"""
            select coalesce((select last_seq_id from mt_event_progression where name = $1), 0),
                   coalesce((select r.requested_at is not null and (r.completed_at is null or r.requested_at > r.completed_at)
                             from {StatisticsRebuild.RequestTable} r where r.name = $2), false)
                   or exists (select 1 from {OrganisationRestates.TableName} where done_at is null)
            """, connection);
        cmd.Parameters.AddWithValue(StatisticsProjection.ShardName);
        cmd.Parameters.AddWithValue(StatisticsProjection.ProjectionName);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return (reader.GetInt64(0), reader.GetBoolean(1));
    }

    /// <summary>
    /// The figures of <paramref name="query"/> with the projection caught up to the daemon's high water mark as read
    /// now (every event committed before the call), at one exact position: the projection moves its position in the
    /// transaction that changes its cells, so a read between two equal readings of the position is the state at that
    /// position. Waits up to <paramref name="timeout"/> for the projection, then throws a 503.
    /// </summary>
    public static async Task<PositionedStatistics> QueryCaughtUpAsync(NpgsqlDataSource db, StatisticsReader reader, StatisticsQuery query,
        UnitHistory history, TimeSpan timeout, CancellationToken ct)
    {
        long mark;
        await using (var connection = await db.OpenConnectionAsync(ct)) mark = await EventStore.HighWaterMarkAsync(connection, ct);
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var (before, pending) = await ReadAsync(db, ct);
            if (before >= mark && !pending)
            {
                var statistics = await reader.QueryAsync(query, history, ct);
                var (after, pendingAfter) = await ReadAsync(db, ct);
                if (after == before && !pendingAfter) return new PositionedStatistics(statistics, before, mark);
                continue; // the projection moved while we read: read again at its new position
            }
            if (DateTime.UtcNow > deadline) throw new ProjectionBehindException(before, mark);
            await Task.Delay(50, ct);
        }
    }
}
