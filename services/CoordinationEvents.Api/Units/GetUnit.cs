using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Wolverine.Http;

namespace CoordinationEvents.Api.Units;

/// <summary><c>GET /api/v1/units/{unitId}</c>: one unit now, or as it last was, with its dates, predecessors and successors.</summary>
public static class GetUnitEndpoint
{
    [WolverineGet("/api/v1/units/{unitId}", Name = "GetUnit"), Authorize(Policy = Policies.ReadOwn), Tags("Units")]
    [EndpointSummary("One unit: as it is today, or as it last was if it has ended (validTo, ending), with the units it took over (predecessors) and those that took it over (successors), each with its name and the day.")]
    public static async Task<Results<Ok<UnitResponse>, ProblemHttpResult>> Get(string unitId, UnitDirectory directory, CancellationToken ct)
    {
        var history = await directory.GetKnowingAsync([unitId], ct);
        return history.Life(unitId) is { } life ? TypedResults.Ok(UnitRules.ToResponse(history, life, history.Today)) : UnitRules.NotFound(unitId);
    }
}
