using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Wolverine.Http;

namespace CoordinationEvents.Api.Activities;

/// <summary><c>GET /api/v1/activities/{activityId}</c>: the activity as it stands now, from its read model (<see cref="ActivityView"/>).</summary>
public static class GetActivityEndpoint
{
    [WolverineGet("/api/v1/activities/{activityId}", Name = "GetActivity"), Authorize(Policy = Policies.ReadOwn), Tags("Activities")]
    [EndpointSummary("The activity as it stands now; the ETag is its version, for If-Match on a correction.")]
    [ResponseHeader(200, "ETag")]
    public static async Task<Results<Ok<ActivityResponse>, ProblemHttpResult>> Get(
        Guid activityId, HttpContext http, IQuerySession session, UnitDirectory units, CancellationToken ct)
    {
        var view = await session.LoadAsync<ActivityView>(activityId, ct);
        if (view is null) return NotFound(activityId);
        var activity = view.ToResponse();
        await Caller.From(http.User).DemandScopeAsync(units, activity.UnitId, activity.OccurredOn, ct);
        http.Response.Headers.ETag = RequestHeaders.ETag(activity.Version);
        return TypedResults.Ok(activity);
    }

    public static ProblemHttpResult NotFound(Guid id) =>
        TypedResults.Problem($"Activity {id} does not exist.", statusCode: 404, title: "Not found");
}
