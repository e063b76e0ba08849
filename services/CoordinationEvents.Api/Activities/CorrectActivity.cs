using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;
using JasperFx.Events;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;

namespace CoordinationEvents.Api.Activities;

/// <summary>
/// <c>PUT /api/v1/activities/{activityId}</c> with <c>If-Match</c>: replace an activity's content. Wolverine's aggregate
/// handler workflow loads the stream (<c>[WriteAggregate]</c>), the pure <see cref="Activity.Decide"/> says what
/// changes, and Marten checks at commit that no other write came in between (412).
/// <para>The body is checked against the content it replaces (the read model, kept inline with the stream): a
/// correction that keeps the activity's date is never refused because one of the units it already named ended by
/// then in a reorganisation recorded late (organisation.md: accepted activities are never rejected afterwards).</para>
/// </summary>
public static class CorrectActivityEndpoint
{
    public static async Task<ActivityContent> LoadAsync(Guid activityId, ActivityRequest request, IQuerySession session, UnitDirectory units,
        TimeProvider clock, CancellationToken ct)
    {
        var current = await session.LoadAsync<ActivityView>(activityId, ct);
        return await ActivityBody.CheckAsync(request, units, clock, ct, current?.Content);
    }

    [WolverinePut("/api/v1/activities/{activityId}", Name = "CorrectActivity"), Authorize(Policy = Policies.Record), Tags("Activities")]
    [EndpointSummary("Correct an activity: send the whole corrected activity with If-Match: \"<version>\". 412 when stale, 428 without If-Match, 409 once retracted.")]
    [ProducesResponseType<ProblemDetails>(409, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(412, "application/problem+json"), ProducesResponseType<ProblemDetails>(428, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(422, "application/problem+json"), RequestHeader("If-Match", Required = true), ResponseHeader(200, "ETag")]
    public static async Task<Ok<ActivityWritten>> Put(
        Guid activityId, [NotBody] ActivityContent content, [WriteAggregate("activityId", Required = true)] IEventStream<ActivityView> stream,
        HttpContext http, UnitDirectory units, TimeProvider clock, CancellationToken ct)
    {
        var expected = RequestHeaders.IfMatchVersion(http) ?? throw new ProblemException(428, "Precondition required",
            "A correction needs If-Match: \"<version>\" with the ETag of the version it corrects.");
        var caller = Caller.From(http.User);
        await caller.DemandScopeAsync(units, content.UnitId, content.OccurredOn, ct);
        return await ActivityChange.DecideAsync(stream, expected, new CorrectActivity(activityId, content, clock.GetUtcNow()), caller, http, units, ct);
    }
}

/// <summary>
/// The aggregate workflow's middle, for a correction and a retraction: the stream is loaded (FetchForWriting of its
/// inline document, <see cref="ActivityView"/>), the pure <see cref="Activity.Decide"/> runs on its state, the events are appended, and Wolverine's transaction commits
/// them, with Marten checking that the stream is still at the version it was read at (a racing writer: 412).
/// </summary>
public static class ActivityChange
{
    public static async Task<Ok<ActivityWritten>> DecideAsync(IEventStream<ActivityView> stream, int? expected, ActivityCommand command, Caller caller,
        HttpContext http, UnitDirectory units, CancellationToken ct)
    {
        var state = stream.Aggregate?.State() ?? throw new ActivityNotFoundException(stream.Id);
        await caller.DemandScopeAsync(units, state.Content!.UnitId, state.Content.OccurredOn, ct);
        if (expected is { } version && version != stream.CurrentVersion)
            throw new StaleVersionException(version);
        var events = Activity.Decide(command, state);
        var correlationId = RequestHeaders.CorrelationId(http);
        foreach (var e in events) stream.AppendOne(ActivityEventTypes.Wrap(e, caller.Client, correlationId));
        var after = events.Aggregate(state, Activity.Next);
        http.Response.Headers.ETag = RequestHeaders.ETag(after.Version);
        return TypedResults.Ok(new ActivityWritten(stream.Id, after.Version));
    }
}
