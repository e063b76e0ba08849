using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Wolverine.Http;

namespace CoordinationEvents.Api.Units;

/// <summary><c>GET /api/v1/units/{unitId}</c>: one unit.</summary>
public static class GetUnitEndpoint
{
    [WolverineGet("/api/v1/units/{unitId}", Name = "GetUnit"), Authorize(Policy = Policies.ReadOwn), Tags("Units")]
    public static async Task<Results<Ok<UnitResponse>, ProblemHttpResult>> Get(string unitId, UnitDirectory directory, CancellationToken ct)
    {
        var unit = (await directory.GetKnowingAsync([unitId], ct)).Current.Find(unitId);
        return unit is null ? UnitRules.NotFound(unitId) : TypedResults.Ok(UnitRules.ToResponse(unit));
    }
}
