using System.Globalization;
using System.Text.Json;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.RateLimiting;
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

    /// <summary>A page also ends once its events' data pass this many bytes (after the event that passes them):
    /// a page of 1,000 large events is never held whole, and is written as it is read.</summary>
    public const int MaxPageBytes = 1 << 20;

    [WolverineGet("/api/v1/feed", Name = "Feed"), Authorize(Policy = Policies.Read), Tags("Feed")]

    [EnableRateLimiting(ExpensiveReads.Policy)]
    [EndpointSummary("Events after the opaque cursor `after` (omit it to start at the beginning), in the store's global order. Keep nextAfter and ask again; an empty page keeps the same nextAfter.")]
    [EndpointDescription("A page holds at most `limit` events (default 100, at most 1,000), and ends early once its events' data pass 1 MiB: always follow nextAfter.")]
    [ProducesResponseType<FeedPage>(200, "application/json")]
    public static IResult Get(NpgsqlDataSource db, string? after = null, int? limit = null)
    {
        long cursor = 0;
        if (after is not null && !(long.TryParse(after, NumberStyles.None, CultureInfo.InvariantCulture, out cursor)))
            throw InputException.For("after", "Not a cursor this feed gave out: pass the nextAfter of the previous page, or nothing.");
        if (limit is < 1 or > MaxLimit) throw InputException.For("limit", $"'limit' must be from 1 to {MaxLimit}.");
        return new FeedPageResult(db, cursor, limit ?? 100);
    }

    /// <summary>
    /// Writes the page as it reads it: each event's <c>data</c> is copied as the database gives it (raw JSON, never
    /// parsed), the page goes out in pieces of about 32 KiB, and it ends at the count or at <see cref="MaxPageBytes"/>.
    /// The shape is <see cref="FeedPage"/>'s, camel-cased.
    /// </summary>
    sealed class FeedPageResult(NpgsqlDataSource db, long cursor, int limit) : IResult
    {
        public async Task ExecuteAsync(HttpContext http)
        {
            var ct = http.RequestAborted;
            await using var connection = await db.OpenConnectionAsync(ct);
            var mark = await EventStore.HighWaterMarkAsync(connection, ct);
            await using var cmd = new NpgsqlCommand("""
                select seq_id, type, stream_id, version, timestamp, data from mt_events
                where seq_id > $1 and seq_id <= $2 and type = any($4) order by seq_id limit $3
                """, connection);
            cmd.Parameters.AddWithValue(cursor);
            cmd.Parameters.AddWithValue(mark);
            cmd.Parameters.AddWithValue(limit);
            // Activity events only: not the tombstones with which Marten fills the numbers of a rolled-back append.
            cmd.Parameters.AddWithValue(ActivityEventTypes.All.ToArray());
            await using var reader = await cmd.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess, ct);

            http.Response.StatusCode = StatusCodes.Status200OK;
            http.Response.ContentType = "application/json; charset=utf-8";
            await using var json = new Utf8JsonWriter(http.Response.BodyWriter, new JsonWriterOptions { SkipValidation = true });
            json.WriteStartObject();
            json.WriteStartArray("events");
            var next = cursor;
            long bytes = 0;
            while (bytes < MaxPageBytes && await reader.ReadAsync(ct))
            {
                next = reader.GetInt64(0);
                json.WriteStartObject();
                json.WriteNumber("position", next);
                json.WriteString("type", reader.GetString(1));
                json.WriteString("activityId", reader.GetGuid(2));
                json.WriteNumber("version", (int)reader.GetInt64(3));
                json.WriteString("recordedAt", reader.GetFieldValue<DateTimeOffset>(4));
                var data = reader.GetString(5);
                bytes += data.Length;
                json.WritePropertyName("data");
                json.WriteRawValue(data, skipInputValidation: true);
                json.WriteEndObject();
                if (json.BytesPending > 32 * 1024) { await json.FlushAsync(ct); await http.Response.BodyWriter.FlushAsync(ct); }
            }
            json.WriteEndArray();
            json.WriteString("nextAfter", next.ToString(CultureInfo.InvariantCulture));
            json.WriteEndObject();
            await json.FlushAsync(ct);
        }
    }
}
