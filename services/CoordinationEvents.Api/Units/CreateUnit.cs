using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Marten;
using Wolverine.Http;

namespace CoordinationEvents.Api.Units;

/// <summary>
/// <c>POST /api/v1/units</c> (admin): add a unit to the tree, from <c>validFrom</c> (without it: it has always
/// existed). The body is checked by <see cref="UnitRequestValidator"/> first; then the tree, on every day from the
/// unit's first day (<see cref="TreeRules"/>).
/// </summary>
public static class CreateUnitEndpoint
{
    [WolverinePost("/api/v1/units", Name = "CreateUnit"), Authorize(Policy = Policies.Admin), Tags("Units")]
    [EndpointSummary("Add a unit: from validFrom (its first day), or, without it, a unit that has always existed. Its parent must exist and may hold it on every day from then on.")]
    [EndpointDescription("Example: {\"unitId\":\"khong-lao\",\"name\":\"Khổng Lào\",\"type\":\"commune\",\"parentId\":\"lai-chau\",\"validFrom\":\"2025-07-01\"}. The id of a unit that exists, or existed, is a 409: ids are never reused.")]
    [ProducesResponseType<ProblemDetails>(409, "application/problem+json")]
    public static async Task<Created<UnitResponse>> Post(UnitRequest request, System.Security.Claims.ClaimsPrincipal user, IDocumentSession session, UnitDirectory directory, TimeProvider clock, CancellationToken ct)
    {
        var body = UnitRules.Normalize(request);
        var history = await UnitsFeature.LockAsync(session, clock, ct);
        if (history.Life(body.UnitId!) is { } known)
            throw known.Until is not null
                ? new ProblemException(409, "Unit exists", $"A unit with id '{body.UnitId}' existed until {VietnamCalendar.Iso(known.ValidTo!.Value)} ({UnitRules.EndedWords(history, known)}): ids are never reused.")
                : new ProblemException(409, "Unit exists", $"A unit with id '{body.UnitId}' already exists.");

        var by = Caller.From(user).Client;
        var established = new UnitEstablished
        {
            UnitId = body.UnitId!, Name = body.Name!, Type = body.Type!, ParentId = body.ParentId, EffectiveFrom = body.ValidFrom,
            RecordedAt = clock.GetUtcNow(), By = by,
        };
        UnitRules.CheckTree(history, body.UnitId!, [established], body.ValidFrom);

        // The unit's first event and its history row in one transaction: both or neither.
        session.Events.StartStream(UnitEventTypes.StreamIdOf(body.UnitId!), established);
        session.QueueSqlCommand(AuditTrail.QueuedInsertSql(AuditTrail.Subjects.Unit),
            by, AuditTrail.Actions.UnitCreated, body.UnitId!, AuditTrail.Details(new { name = body.Name, type = body.Type, parentId = body.ParentId, validFrom = body.ValidFrom }));
        await session.SaveChangesAsync(ct);
        var after = await directory.ReloadAsync(ct);
        var life = after.Life(body.UnitId!)!;
        return TypedResults.Created($"/api/v1/units/{body.UnitId}", UnitRules.ToResponse(after, life, after.Today));
    }
}
