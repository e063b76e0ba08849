using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Wolverine;
using Wolverine.Http;

namespace CoordinationEvents.Api.Units;

/// <summary>
/// A unit got a new parent: the figures rolled up the tree must follow. Sent through Wolverine's durable local
/// queue, stored in the same transaction as the move (the outbox), so it is handled even if the process stops
/// right after the move commits (the Statistics feature handles it).
/// </summary>
public sealed record UnitMoved(string UnitId, string? FromParentId, string? ToParentId);

/// <summary><c>PUT /api/v1/units/{unitId}</c> (admin): rename or move a unit.</summary>
public static class UpdateUnitEndpoint
{
    [WolverinePut("/api/v1/units/{unitId}", Name = "UpdateUnit"), Authorize(Policy = Policies.Admin), Tags("Units")]
    [EndpointSummary("Rename or move a unit. A move reaches the statistics, which roll up the tree, through a durable message.")]
    public static async Task<Results<Ok<UnitResponse>, ProblemHttpResult>> Put(
        string unitId, UnitRequest request, System.Security.Claims.ClaimsPrincipal user, UnitDirectory directory, IDocumentSession session, IMessageBus bus, CancellationToken ct)
    {
        var body = UnitRules.Normalize(request);
        body = body with { UnitId = body.UnitId ?? unitId };
        if (body.UnitId != unitId)
            throw InputException.For("unitId", "A unit's id cannot change; it must equal the id in the URL.");
        var tree = await directory.GetKnowingAsync([unitId, body.ParentId], ct);
        var existing = tree.Find(unitId);
        if (existing is null) return UnitRules.NotFound(unitId);
        if (body.Type != existing.Type && tree.ChildrenOf(unitId).Count > 0)
            throw InputException.For("type", "The type of a unit that has children cannot change.");
        UnitRules.CheckParent(tree, unitId, body.Type!, body.ParentId);

        // The move and its message commit together (Wolverine's outbox in Marten's transaction).
        if (body.ParentId is null)
            session.QueueSqlCommand($"update {UnitDirectory.TableName} set name = ?, type = ?, parent_id = null, updated_at = now() where unit_id = ?", body.Name!, body.Type!, unitId);
        else
            session.QueueSqlCommand($"update {UnitDirectory.TableName} set name = ?, type = ?, parent_id = ?, updated_at = now() where unit_id = ?", body.Name!, body.Type!, body.ParentId, unitId);
        // Its history row, in the same transaction.
        session.QueueSqlCommand(
            $"insert into {AuditTrail.TableName} (actor, action, subject_type, subject_id, details) values (?, ?, '{AuditTrail.Subjects.Unit}', ?, ?::jsonb)",
            Caller.From(user).Client, AuditTrail.Actions.UnitUpdated, unitId, AuditTrail.Details(new
            {
                before = new { name = existing.Name, type = existing.Type, parentId = existing.ParentId },
                after = new { name = body.Name, type = body.Type, parentId = body.ParentId },
            }));
        if (existing.ParentId != body.ParentId) await bus.PublishAsync(new UnitMoved(unitId, existing.ParentId, body.ParentId));
        await session.SaveChangesAsync(ct);
        await directory.ReloadAsync(ct);
        return TypedResults.Ok(UnitRules.ToResponse(new Unit(unitId, body.Name!, body.Type!, body.ParentId)));
    }
}
