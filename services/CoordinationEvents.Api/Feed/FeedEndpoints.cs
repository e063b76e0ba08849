using CoordinationEvents.Api.Auth;
using CoordinationEvents.Api.Http;
using CoordinationEvents.Contracts.V1;
using CoordinationEvents.EventStore;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CoordinationEvents.Api.Feed;

/// <summary>
/// Every stored event in one global order that never changes once read: commit order, read only below
/// the oldest running transaction. A consumer that keeps nextAfter sees every event exactly once.
/// </summary>
public static class FeedEndpoints
{
    public const int MaxLimit = 1_000;

    public static IEndpointRouteBuilder MapFeedEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/feed", Get).RequireAuthorization(Policies.Read).WithTags("Feed")
            .WithSummary("Events after the opaque cursor `after` (omit it to start at the beginning), in commit order. Keep nextAfter and ask again; an empty page keeps the same nextAfter.");
        return app;
    }

    static async Task<Ok<FeedPage>> Get(EventStore.EventStore store, CancellationToken ct, string? after = null, int? limit = null)
    {
        if (!LogCursor.TryParse(after, out var cursor))
            throw InputException.For("after", "Not a cursor this feed gave out: pass the nextAfter of the previous page, or nothing.");
        if (limit is < 1 or > MaxLimit) throw InputException.For("limit", $"'limit' must be from 1 to {MaxLimit}.");

        var events = await store.ReadLogAsync(cursor, limit ?? 100, ct);
        var next = events.Count > 0 ? events[^1].Cursor : cursor;
        return TypedResults.Ok(new FeedPage(
            events.Select(e => new FeedEvent(e.Position, e.Type, e.StreamId, e.Version, e.Metadata.RecordedAt, store.Registry.ToJson(e.Data))).ToArray(),
            next.ToString()));
    }
}
