using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Wolverine.Http;

namespace CoordinationEvents.Api.Units;

/// <summary><c>GET /api/v1/units</c>: the tree on a day, or the units whose name matches.</summary>
public static class GetUnitTreeEndpoint
{
    [WolverineGet("/api/v1/units", Name = "UnitTree"), Authorize(Policy = Policies.ReadOwn), Tags("Units")]
    [EndpointSummary("The unit tree on a day (asOf, default today in Vietnam; provinces and cities at the top), each unit with its validFrom and validTo. With ?name=, the units whose name, now or ever, contains it (NFC, case-insensitive), as a flat list; with includeEnded=true, former units too, with their end and successors.")]
    [EndpointDescription("Examples: ?asOf=2025-06-30 (the tree with the districts), ?asOf=2025-07-01 (communes under the province, border posts under bch-bdbp-lai-chau), ?name=hoang%20then&includeEnded=true (Hoang Thèn, merged into Khổng Lào from 2025-07-01).")]
    public static async Task<Ok<IReadOnlyList<UnitNode>>> Get(UnitDirectory directory, CancellationToken ct, string? name = null, string? asOf = null, bool includeEnded = false)
    {
        var errors = new Dictionary<string, string[]>();
        var day = VietnamCalendar.Parse(asOf, "asOf", errors);
        if (day is { } d && !UnitRules.IsPlausible(d)) errors["asOf"] = [UnitRules.ImplausibleDate("asOf")];
        if (errors.Count > 0) throw new InputException(errors);
        var history = await directory.GetAsync(ct);
        var on = day ?? history.Today;
        var tree = history.TreeOn(on);

        UnitNode Flat(UnitLife life)
        {
            var u = life.On(on);
            return new(u.UnitId, u.Name, u.Type, u.ParentId, [])
            {
                ValidFrom = life.ValidFrom, ValidTo = life.ValidTo, Ending = life.Ending, Successors = UnitRules.SuccessorsOf(history, life),
            };
        }
        if (!string.IsNullOrWhiteSpace(name))
        {
            var needle = Text.Clean(name)!;
            return TypedResults.Ok<IReadOnlyList<UnitNode>>(history.Lives
                .Where(l => l.ExistsOn(on) || includeEnded && l.Until is { } until && until <= on)
                .Where(l => NamesOf(l).Any(n => n.Contains(needle, StringComparison.CurrentCultureIgnoreCase)))
                .OrderBy(l => l.UnitId, StringComparer.Ordinal)
                .Select(Flat).ToArray());
        }
        UnitNode Node(Unit u)
        {
            var life = history.Life(u.UnitId)!;
            return new(u.UnitId, u.Name, u.Type, u.ParentId, tree.ChildrenOf(u.UnitId).Select(Node).ToArray())
            {
                ValidFrom = life.ValidFrom, ValidTo = life.ValidTo, Ending = life.Ending, Successors = UnitRules.SuccessorsOf(history, life),
            };
        }
        return TypedResults.Ok<IReadOnlyList<UnitNode>>(tree.Roots.Select(Node).ToArray());
    }

    /// <summary>Every name the unit has had.</summary>
    static IEnumerable<string> NamesOf(UnitLife life) => life.Changes.Select(c => c switch
    {
        UnitEstablished e => e.Name,
        UnitRenamed r => r.Name,
        _ => null,
    }).OfType<string>();
}
