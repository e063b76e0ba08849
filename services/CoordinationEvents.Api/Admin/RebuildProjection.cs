using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Statistics;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Wolverine.Http;

namespace CoordinationEvents.Api.Admin;

public sealed record RebuildAccepted(string Name, string Status);

/// <summary><c>POST /api/v1/admin/projections/{name}/rebuild</c>: ask for the set-based refill of a projection.</summary>
public static class RebuildProjectionEndpoint
{
    [WolverinePost("/api/v1/admin/projections/{name}/rebuild", Name = "RebuildProjection"), Authorize(Policy = Policies.Admin), Tags("Admin")]
    [EndpointSummary("Refills the projection's tables from the events in one pass and hands the position back to the daemon; the old figures are served until the swap.")]
    [ResponseHeader(202, "Location")]
    public static async Task<Results<Accepted<RebuildAccepted>, ProblemHttpResult>> Rebuild(string name, StatisticsRebuild rebuild, CancellationToken ct)
    {
        if (!await rebuild.RequestAsync(name, ct))
            return TypedResults.Problem($"There is no projection '{name}'. Known: {StatisticsProjection.ProjectionName}.", statusCode: 404, title: "Not found");
        return TypedResults.Accepted("/api/v1/admin/projections", new RebuildAccepted(name, "requested"));
    }
}
