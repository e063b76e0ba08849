using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Wolverine;
using Wolverine.Http;

namespace CoordinationEvents.Api.Units;

/// <summary>
/// The organisation changed from <paramref name="From"/> on (null: from the beginning) for the units named: the
/// figures rolled up the tree must follow. Sent through Wolverine's durable local queue, stored in the same
/// transaction as the change (the outbox), so it is handled even if the process stops right after the change
/// commits (the Statistics feature handles it). <paramref name="ChangeId"/> names the change, so that handling it
/// twice restates once.
/// </summary>
public sealed record OrganisationChanged(string ChangeId, DateOnly? From, IReadOnlyList<string> Units);

/// <summary><c>PUT /api/v1/units/{unitId}</c> (admin): rename or move a unit.</summary>
public static class UpdateUnitEndpoint
{
    [WolverinePut("/api/v1/units/{unitId}", Name = "UpdateUnit"), Authorize(Policy = Policies.Admin), Tags("Units")]
    [EndpointSummary("Rename or move a unit. A move reaches the statistics, which roll up the tree, through a durable message.")]
    public static async Task<Results<Ok<UnitResponse>, ProblemHttpResult>> Put(
        string unitId, UnitRequest request, System.Security.Claims.ClaimsPrincipal user, IDocumentSession session, IMessageBus bus, UnitDirectory directory, TimeProvider clock, CancellationToken ct)
    {
        var body = UnitRules.Normalize(request);
        body = body with { UnitId = body.UnitId ?? unitId };
        if (body.UnitId != unitId)
            throw InputException.For("unitId", "A unit's id cannot change; it must equal the id in the URL.");
        var history = await UnitsFeature.LockAsync(session, clock, ct);
        var tree = history.Current;
        var existing = tree.Find(unitId);
        if (existing is null) return UnitRules.NotFound(unitId);
        if (body.Type != existing.Type && tree.ChildrenOf(unitId).Count > 0)
            throw InputException.For("type", "The type of a unit that has children cannot change.");
        UnitRules.CheckParent(tree, unitId, body.Type!, body.ParentId);

        // The change, its history row and its message commit together (Wolverine's outbox in Marten's transaction).
        var (by, now, stream) = (Caller.From(user).Client, clock.GetUtcNow(), UnitEventTypes.StreamIdOf(unitId));
        if (body.Name != existing.Name) session.Events.Append(stream, new UnitRenamed { UnitId = unitId, Name = body.Name!, RecordedAt = now, By = by });
        if (body.Type != existing.Type) session.Events.Append(stream, new UnitRetyped { UnitId = unitId, Type = body.Type!, RecordedAt = now, By = by });
        if (body.ParentId != existing.ParentId) session.Events.Append(stream, new UnitMoved { UnitId = unitId, ParentId = body.ParentId, RecordedAt = now, By = by });
        session.QueueSqlCommand(
AuditTrail.QueuedInsertSql(AuditTrail.Subjects.Unit), by, AuditTrail.Actions.UnitUpdated, unitId, AuditTrail.Details(new
            {
                before = new { name = existing.Name, type = existing.Type, parentId = existing.ParentId },
                after = new { name = body.Name, type = body.Type, parentId = body.ParentId },
            }));
        if (existing.ParentId != body.ParentId)
            await bus.PublishAsync(new OrganisationChanged($"move:{unitId}:{now.UtcTicks}", null, [unitId]));
        await session.SaveChangesAsync(ct);
        await directory.ReloadAsync(ct);
        return TypedResults.Ok(UnitRules.ToResponse(new Unit(unitId, body.Name!, body.Type!, body.ParentId)));
    }
}
