using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;
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
    public static Task<ActivityContent> LoadAsync(ActivityRequest request, UnitDirectory units, TimeProvider clock, CancellationToken ct) =>
        ActivityBody.CheckAsync(request, units, clock, ct);

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
