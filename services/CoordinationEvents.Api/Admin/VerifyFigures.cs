using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Statistics;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Wolverine.Http;

namespace CoordinationEvents.Api.Admin;

/// <summary><c>GET /api/v1/admin/verify</c>: recompute the figures from the raw events and compare.</summary>
public static class VerifyFiguresEndpoint
{
    [WolverineGet("/api/v1/admin/verify", Name = "Verify"), Authorize(Policy = Policies.Admin), Tags("Admin")]
    [EndpointSummary("Recomputes the statistics from the raw events and compares them with the projection at its position. Zero differences expected.")]
    public static async Task<Ok<ConsistencyReport>> Verify(ConsistencyCheck check, CancellationToken ct) =>
        TypedResults.Ok(await check.RunAsync(ct));
}
