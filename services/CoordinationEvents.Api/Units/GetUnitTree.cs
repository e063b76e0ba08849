using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Wolverine.Http;

namespace CoordinationEvents.Api.Units;

/// <summary><c>GET /api/v1/units</c>: the tree, or the units whose name matches.</summary>
public static class GetUnitTreeEndpoint
{
    [WolverineGet("/api/v1/units", Name = "UnitTree"), Authorize(Policy = Policies.ReadOwn), Tags("Units")]
    [EndpointSummary("The unit tree (provinces at the top). With ?name=, the units whose name contains it (NFC, case-insensitive), as a flat list.")]
    public static async Task<Ok<IReadOnlyList<UnitNode>>> Get(UnitDirectory directory, CancellationToken ct, string? name = null)
    {
        var tree = (await directory.GetAsync(ct)).Current;
        if (!string.IsNullOrWhiteSpace(name))
        {
            var needle = Text.Clean(name)!;
            return TypedResults.Ok<IReadOnlyList<UnitNode>>(tree.All
                .Where(u => u.Name.Contains(needle, StringComparison.CurrentCultureIgnoreCase))
                .OrderBy(u => u.UnitId, StringComparer.Ordinal)
                .Select(u => new UnitNode(u.UnitId, u.Name, u.Type, u.ParentId, [])).ToArray());
        }
        UnitNode Node(Unit u) => new(u.UnitId, u.Name, u.Type, u.ParentId, tree.ChildrenOf(u.UnitId).Select(Node).ToArray());
        return TypedResults.Ok<IReadOnlyList<UnitNode>>(tree.Roots.Select(Node).ToArray());
    }
}
