using Npgsql;

namespace CoordinationEvents.Api.Core;

/// <summary>What every reader of the raw event store needs to know of Marten's daemon.</summary>
public static class EventStore
{
    /// <summary>The daemon's high water mark: every event at or below it is committed (or a gap that no transaction can fill).</summary>
    public static async Task<long> HighWaterMarkAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("select coalesce((select last_seq_id from mt_event_progression where name = 'HighWaterMark'), 0)", connection);
        return (long)(await cmd.ExecuteScalarAsync(ct))!;
    }
}
