using System.Globalization;
using System.Text.Json;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Http.HttpResults;
using Wolverine.Http;

namespace CoordinationEvents.Api.Activities;

/// <summary>
/// <c>GET /api/v1/activities/{activityId}/history</c>: the activity's events, as stored, a page at a time (issue 21):
/// at most <c>limit</c> events (default and maximum <see cref="MaxLimit"/>) after the opaque cursor <c>after</c>.
/// Without them it answers as it always did for a history of up to <see cref="MaxLimit"/> events; a longer one ends
/// its page there and says where to go on in <c>nextAfter</c> (null after the last event).
/// </summary>
public static class GetActivityHistoryEndpoint
{
    public const int MaxLimit = 1_000;

    [WolverineGet("/api/v1/activities/{activityId}/history", Name = "ActivityHistory"), Authorize(Policy = Policies.ReadOwn), Tags("Activities")]
    [EnableRateLimiting(ExpensiveReads.Policy)]
    [EndpointSummary("The activity's events in order: type, version, position, when, by whom, and the data; a page of at most `limit` (default and maximum 1,000) after the cursor `after`.")]
    [EndpointDescription("Pages: `limit` from 1 to 1,000 (default 1,000); `after` is the opaque `nextAfter` of the previous page (omit it to start at the first event). `nextAfter` is null once the page holds the last event.")]
    public static async Task<Results<Ok<ActivityHistory>, ProblemHttpResult>> Get(
        Guid activityId, HttpContext http, IQuerySession session, UnitDirectory units, CancellationToken ct, string? after = null, int? limit = null)
    {
        var from = Cursor.Read(after);
        if (limit is < 1 or > MaxLimit) throw InputException.For("limit", $"'limit' must be from 1 to {MaxLimit:#,0}.");
        var take = limit ?? MaxLimit;

        // The activity as it stands (its read model, kept inline): whether it exists and whose unit it is, without its events.
        var view = await session.LoadAsync<ActivityView>(activityId, ct);
        if (view is null) return GetActivityEndpoint.NotFound(activityId);
        await Caller.From(http.User).DemandScopeAsync(units, view.UnitId, ct);

        // One more than the page: whether another page follows.
        var events = await session.Events.QueryAllRawEvents()
            .Where(e => e.StreamId == activityId && e.Version > from)
            .OrderBy(e => e.Version)
            .Take(take + 1)
            .ToListAsync(ct);
        var page = events.Take(take).ToArray();
        var next = events.Count > take ? Cursor.Write(page[^1].Version) : null;
        return TypedResults.Ok(new ActivityHistory(activityId, page.Select(e => new ActivityHistoryEntry(
            e.EventTypeName, (int)e.Version, e.Sequence, e.Timestamp,
            e.GetHeader(ActivityEventTypes.ClientHeader)?.ToString() ?? "", e.CorrelationId,
            JsonSerializer.SerializeToElement(e.Data, e.EventType, StoreJson.Options))).ToArray(), next));
    }

    /// <summary>
    /// The cursor: the version of the page's last event, behind a prefix so that it reads as what it is (a token
    /// given out by this endpoint, not a number to compute). Anything else is a 400 keyed <c>after</c>.
    /// </summary>
    static class Cursor
    {
        const string Prefix = "v";

        public static string Write(long version) => Prefix + version.ToString(CultureInfo.InvariantCulture);

        public static long Read(string? after)
        {
            if (after is null) return 0;
            if (after.StartsWith(Prefix, StringComparison.Ordinal)
                && int.TryParse(after.AsSpan(Prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var version) && version >= 1)
                return version;
            throw InputException.For("after", "Not a cursor this history gave out: pass the nextAfter of the previous page, or nothing.");
        }
    }
}
