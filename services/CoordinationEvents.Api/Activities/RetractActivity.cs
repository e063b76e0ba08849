using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;
using FluentValidation;
using JasperFx.Events;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;

namespace CoordinationEvents.Api.Activities;

/// <summary>
/// <c>DELETE /api/v1/activities/{activityId}</c> with a reason: the activity leaves every figure, its history stays.
/// The body's rule is a FluentValidation validator, run by <see cref="FluentValidationPolicy"/> before the endpoint.
/// </summary>
public static class RetractActivityEndpoint
{
    public const int MaxReasonLength = 1_000;

    /// <summary>A reason of 1 to <see cref="MaxReasonLength"/> characters of text that can be stored.</summary>
    public sealed class Validator : AbstractValidator<RetractionRequest>
    {
        public Validator() => RuleFor(r => r.Reason).Custom((reason, context) =>
        {
            if (!Text.IsStorable(reason))
                context.AddFailure("reason", Text.NotStorable("reason"));
            else if (Text.Clean(reason) is not { Length: > 0 and <= MaxReasonLength })
                context.AddFailure("reason", $"A retraction needs a 'reason' of 1 to {MaxReasonLength:#,0} characters.");
        });
    }

    [WolverineDelete("/api/v1/activities/{activityId}", Name = "RetractActivity"), Authorize(Policy = Policies.Record), Tags("Activities")]
    [EndpointSummary("Retract an activity with a reason: it leaves every figure, its history stays. If-Match is optional here.")]
    [ProducesResponseType<ProblemDetails>(412, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(409, "application/problem+json"), RequestHeader("If-Match"), ResponseHeader(200, "ETag")]
    public static Task<Ok<ActivityWritten>> Delete(
        Guid activityId, RetractionRequest request, [WriteAggregate("activityId", Required = true)] IEventStream<ActivityView> stream,
        HttpContext http, UnitDirectory units, TimeProvider clock, CancellationToken ct) =>
        ActivityChange.DecideAsync(stream, RequestHeaders.IfMatchVersion(http), new RetractActivity(activityId, Text.Clean(request.Reason)!, clock.GetUtcNow()),
            Caller.From(http.User), http, units, ct);
}
