using System.Text.Json;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Http.HttpResults;
using Wolverine.Http;

namespace CoordinationEvents.Api.Activities;

/// <summary><c>GET /api/v1/activities/{activityId}/history</c>: the activity's events, as stored.</summary>
public static class GetActivityHistoryEndpoint
{
    [WolverineGet("/api/v1/activities/{activityId}/history", Name = "ActivityHistory"), Authorize(Policy = Policies.ReadOwn), Tags("Activities")]
    [EnableRateLimiting(ExpensiveReads.Policy)]
    [EndpointSummary("The activity's events in order: type, version, position, when, by whom, and the data.")]
    public static async Task<Results<Ok<ActivityHistory>, ProblemHttpResult>> Get(
        Guid activityId, HttpContext http, IQuerySession session, UnitDirectory units, CancellationToken ct)
    {
        var events = await session.Events.FetchStreamAsync(activityId, token: ct);
        if (events.Count == 0) return GetActivityEndpoint.NotFound(activityId);
        var state = Activity.Fold(events.Select(e => (ActivityEvent)e.Data));
        await Caller.From(http.User).DemandScopeAsync(units, state.Content!.UnitId, ct);
        return TypedResults.Ok(new ActivityHistory(activityId, events.Select(e => new ActivityHistoryEntry(
            e.EventTypeName, (int)e.Version, e.Sequence, e.Timestamp,
            e.GetHeader(ActivityEventTypes.ClientHeader)?.ToString() ?? "", e.CorrelationId,
            JsonSerializer.SerializeToElement(e.Data, e.EventType, StoreJson.Options))).ToArray()));
    }
}
