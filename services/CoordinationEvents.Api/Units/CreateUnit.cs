using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Marten;
using Wolverine.Http;

namespace CoordinationEvents.Api.Units;

/// <summary><c>POST /api/v1/units</c> (admin): add a unit to the tree. The body is checked by <see cref="UnitRequestValidator"/> first.</summary>
public static class CreateUnitEndpoint
{
    [WolverinePost("/api/v1/units", Name = "CreateUnit"), Authorize(Policy = Policies.Admin), Tags("Units")]
    [ProducesResponseType<ProblemDetails>(409, "application/problem+json")]
    public static async Task<Created<UnitResponse>> Post(UnitRequest request, System.Security.Claims.ClaimsPrincipal user, IDocumentSession session, UnitDirectory directory, TimeProvider clock, CancellationToken ct)
    {
        var body = UnitRules.Normalize(request);
        var history = await UnitsFeature.LockAsync(session, clock, ct);
        if (history.Knows(body.UnitId!))
            throw new ProblemException(409, "Unit exists", $"A unit with id '{body.UnitId}' already exists.");
        UnitRules.CheckParent(history.Current, body.UnitId!, body.Type!, body.ParentId);

        // The unit's first event and its history row in one transaction: both or neither.
        var by = Caller.From(user).Client;
        session.Events.StartStream(UnitEventTypes.StreamIdOf(body.UnitId!), new UnitEstablished
        {
            UnitId = body.UnitId!, Name = body.Name!, Type = body.Type!, ParentId = body.ParentId, RecordedAt = clock.GetUtcNow(), By = by,
        });
        session.QueueSqlCommand(AuditTrail.QueuedInsertSql(AuditTrail.Subjects.Unit),
            by, AuditTrail.Actions.UnitCreated, body.UnitId!, AuditTrail.Details(new { name = body.Name, type = body.Type, parentId = body.ParentId }));
        await session.SaveChangesAsync(ct);
        await directory.ReloadAsync(ct);
        var unit = new Unit(body.UnitId!, body.Name!, body.Type!, body.ParentId);
        return TypedResults.Created($"/api/v1/units/{unit.UnitId}", UnitRules.ToResponse(unit));
    }
}
