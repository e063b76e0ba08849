using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace CoordinationEvents.Api.Activities;

/// <summary>
/// <c>POST /api/v1/activities</c>: record one activity. The body is read strictly and checked before the endpoint
/// runs (<see cref="LoadAsync"/>); the content is recorded through <see cref="GroupCommit"/>, which shares one
/// transaction among posts that arrive together.
/// </summary>
public static class RecordActivityEndpoint
{
    /// <summary>
    /// The body checked against the units on its date. A body that fails only because this client already recorded
    /// its externalId (a retry whose answer was lost) and a reorganisation recorded since ended one of its units is
    /// checked again as that activity was accepted (<see cref="ActivityBody.CheckAsync"/> with its content): the same
    /// content then answers 200, as any retry does, never a 400 for an activity that is stored (organisation.md:
    /// accepted activities are never rejected afterwards). The read model is read (a session of its own, so that the
    /// endpoint's pipeline has no session to open) only when the first check fails.
    /// </summary>
    public static async Task<ActivityContent> LoadAsync(ActivityRequest request, HttpContext http, IDocumentStore store, UnitDirectory units,
        TimeProvider clock, CancellationToken ct)
    {
        try
        {
            return await ActivityBody.CheckAsync(request, units, clock, ct);
        }
        catch (InputException)
        {
            if (Text.Clean(request.ExternalId) is not { Length: > 0 } externalId) throw;
            await using var session = store.QuerySession();
            if (await session.LoadAsync<ActivityView>(ActivityIds.For(Caller.From(http.User).Client, externalId), ct) is not { } recorded) throw;
            return await ActivityBody.CheckAsync(request, units, clock, ct, recorded.Content);
        }
    }

    [WolverinePost("/api/v1/activities", Name = "RecordActivity"), Authorize(Policy = Policies.Record), Tags("Activities")]
    [EndpointSummary("Record one activity. 201 when new; 200 with the same activityId when the same externalId and content were already recorded by this client; 409 when that externalId holds other content.")]
    [ProducesResponseType<ActivityWritten>(201), ProducesResponseType<ActivityWritten>(200), ProducesResponseType<ProblemDetails>(409, "application/problem+json")]
    public static async Task<Results<Created<ActivityWritten>, Ok<ActivityWritten>>> Post(
        [NotBody] ActivityContent content, HttpContext http, GroupCommit groupCommit, UnitDirectory units, CancellationToken ct)
    {
        var caller = Caller.From(http.User);
        await caller.DemandScopeAsync(units, content.UnitId, content.OccurredOn, ct);

        var result = await groupCommit.RecordAsync(new RecordRequest(content, caller.Client, RequestHeaders.CorrelationId(http)), ct);
        var written = new ActivityWritten(result.ActivityId, result.Version);
        return result.Status switch
        {
            RecordStatus.Created => TypedResults.Created($"/api/v1/activities/{result.ActivityId}", written),
            RecordStatus.Duplicate => TypedResults.Ok(written),
            _ => throw new ProblemException(409, "externalId already used",
                $"Activity {result.ActivityId} was recorded with externalId '{content.ExternalId}' and other content. Correct it with PUT, or use a new externalId."),
        };
    }
}
