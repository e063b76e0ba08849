using System.Globalization;
using System.Text.Json;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Authorization;
using Npgsql;
using Wolverine.Http;

namespace CoordinationEvents.Api.Feed;

/// <summary>
/// Every stored event in one global order that never changes once read: Marten's sequence, read only up to
/// the daemon's high water mark. Every event at or below the mark is committed (the daemon moves it past a
/// gap only when no transaction can still fill it), so an event that took a lower number but commits late is
/// never passed over, and a consumer that keeps nextAfter sees every event exactly once.
/// </summary>
public static class ReadFeedEndpoint
{
    public const int MaxLimit = 1_000;

    [WolverineGet("/api/v1/feed", Name = "Feed"), Authorize(Policy = Policies.Read), Tags("Feed")]
    [EndpointSummary("Events after the opaque cursor `after` (omit it to start at the beginning), in the store's global order. Keep nextAfter and ask again; an empty page keeps the same nextAfter.")]
    public static async Task<Ok<FeedPage>> Get(NpgsqlDataSource db, CancellationToken ct, string? after = null, int? limit = null)
    {
        long cursor = 0;
        if (after is not null && !(long.TryParse(after, NumberStyles.None, CultureInfo.InvariantCulture, out cursor)))
            throw InputException.For("after", "Not a cursor this feed gave out: pass the nextAfter of the previous page, or nothing.");
        if (limit is < 1 or > MaxLimit) throw InputException.For("limit", $"'limit' must be from 1 to {MaxLimit}.");

        await using var connection = await db.OpenConnectionAsync(ct);
        var mark = await EventStore.HighWaterMarkAsync(connection, ct);
        var events = new List<FeedEvent>();
        await using (var cmd = new NpgsqlCommand("""
            select seq_id, type, stream_id, version, timestamp, data from mt_events
            where seq_id > $1 and seq_id <= $2 and type = any($4) order by seq_id limit $3
            """, connection))
        {
            cmd.Parameters.AddWithValue(cursor);
            cmd.Parameters.AddWithValue(mark);
            cmd.Parameters.AddWithValue(limit ?? 100);
            // Activity events only: not the tombstones with which Marten fills the numbers of a rolled-back append.
            cmd.Parameters.AddWithValue(ActivityEventTypes.All.ToArray());
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                events.Add(new FeedEvent(reader.GetInt64(0), reader.GetString(1), reader.GetGuid(2), (int)reader.GetInt64(3),
                    reader.GetFieldValue<DateTimeOffset>(4), JsonSerializer.Deserialize<JsonElement>(reader.GetString(5))));
        }
        var next = events.Count > 0 ? events[^1].Position : cursor;
        return TypedResults.Ok(new FeedPage(events, next.ToString(CultureInfo.InvariantCulture)));
    }
}
