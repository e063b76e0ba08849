using System.Text.Json;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Wolverine.Http;

namespace CoordinationEvents.Api.Units;

/// <summary><c>GET /api/v1/units/{unitId}/history</c>: every change of a unit, in the order of the days they hold from.</summary>
public static class GetUnitHistoryEndpoint
{
    [WolverineGet("/api/v1/units/{unitId}/history", Name = "UnitHistory"), Authorize(Policy = Policies.ReadOwn), Tags("Units")]
    [EndpointSummary("Every change of a unit in date order (corrections from its beginning first, then by effectiveFrom, then as recorded): {change, effectiveFrom, recordedAt, by, reorganisationId?, and the change's fields: name, type, parentId, into, childrenTo}.")]
    public static async Task<Results<Ok<IReadOnlyList<UnitChangeResponse>>, ProblemHttpResult>> Get(string unitId, UnitDirectory directory, CancellationToken ct)
    {
        var history = await directory.GetKnowingAsync([unitId], ct);
        if (history.Life(unitId) is not { } life) return UnitRules.NotFound(unitId);
        // The established change holds from the unit's first day, whatever came before it in the stream.
        return TypedResults.Ok<IReadOnlyList<UnitChangeResponse>>(life.Changes
            .Select((e, i) => (e, i))
            .OrderBy(x => x.e is UnitEstablished ? 0 : 1)
            .ThenBy(x => x.e.EffectiveFrom ?? DateOnly.MinValue)
            .ThenBy(x => x.i)
            .Select(x => ToResponse(x.e)).ToArray());
    }

    public static UnitChangeResponse ToResponse(UnitEvent e)
    {
        var r = new UnitChangeResponse
        {
            Change = UnitEventTypes.ChangeOf(e), EffectiveFrom = e.EffectiveFrom, RecordedAt = e.RecordedAt, By = e.By, ReorganisationId = e.ReorganisationId,
        };
        return e switch
        {
            UnitEstablished x => r with { Name = x.Name, Type = x.Type, ParentId = x.ParentId },
            UnitRenamed x => r with { Name = x.Name },
            UnitRetyped x => r with { Type = x.Type },
            UnitMoved x => r with { ParentId = x.ParentId },
            UnitMerged x => r with { Into = JsonSerializer.SerializeToElement(x.Into) },
            UnitSplit x => r with { Into = JsonSerializer.SerializeToElement(x.Into) },
            UnitDissolved x => r with { ChildrenTo = x.ChildrenTo },
            _ => r,
        };
    }
}
