using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Wolverine.Http;

namespace CoordinationEvents.Api.Activities;

/// <summary>
/// <c>POST /api/v1/activities/batch</c>: up to <see cref="MaxBatch"/> activities in one transaction, one result per
/// item. Items are checked and recorded by <see cref="ActivityRecorder.RecordItemsAsync"/>, as an import's lines are.
/// </summary>
public static class RecordActivitiesEndpoint
{
    public const int MaxBatch = 1_000;

    [WolverinePost("/api/v1/activities/batch", Name = "RecordActivities"), Authorize(Policy = Policies.Record), Tags("Activities")]
    [EndpointSummary("Record up to 1,000 activities; one result per item (created, duplicate, invalid, conflict). Valid items are stored even when others are not.")]
    public static async Task<Ok<BatchResponse>> Post(BatchRequest batch, HttpContext http, ActivityRecorder recorder, CancellationToken ct)
    {
        if (batch.Activities is null) throw InputException.For("activities", "Send {\"activities\": [ … ]}.");
        if (batch.Activities.Count > MaxBatch) throw InputException.For("activities", $"At most {MaxBatch} activities per batch; this one has {batch.Activities.Count}.");

        var items = batch.Activities.Select(a => new ItemInput(a)).ToArray();
        var results = await recorder.RecordItemsAsync(items, Caller.From(http.User), RequestHeaders.CorrelationId(http), session: null, ct);
        return TypedResults.Ok(new BatchResponse(results));
    }
}
