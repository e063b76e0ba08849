using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
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

/// <summary>
/// <c>PUT /api/v1/units/{unitId}</c> (admin): rename, move or retype a unit from <c>effectiveFrom</c>; without it, a
/// correction from the unit's beginning (it was always so), as before units had dates. The tree is checked on every
/// day the change affects (<see cref="TreeRules"/>).
/// </summary>
public static class UpdateUnitEndpoint
{
    [WolverinePut("/api/v1/units/{unitId}", Name = "UpdateUnit"), Authorize(Policy = Policies.Admin), Tags("Units")]
    [EndpointSummary("Rename, move or retype a unit from effectiveFrom; without it, correct the unit from its beginning. A move reaches the statistics, which roll up the tree, through a durable message.")]
    [EndpointDescription("Example: {\"name\":\"Đồn Biên phòng Ma Lù Thàng\",\"type\":\"border-post\",\"parentId\":\"bch-bdbp-lai-chau\",\"effectiveFrom\":\"2025-07-01\"}: the post stands under the province's Border Guard command from that day, and under its district before. A unit that has ended takes no more changes on or after its end (409).")]
    [ProducesResponseType<ProblemDetails>(409, "application/problem+json")]
    public static async Task<Results<Ok<UnitResponse>, ProblemHttpResult>> Put(
        string unitId, UnitRequest request, System.Security.Claims.ClaimsPrincipal user, IDocumentSession session, IMessageBus bus, UnitDirectory directory, TimeProvider clock, CancellationToken ct)
    {
        var body = UnitRules.Normalize(request);
        body = body with { UnitId = body.UnitId ?? unitId };
        if (body.UnitId != unitId)
            throw InputException.For("unitId", "A unit's id cannot change; it must equal the id in the URL.");
        var history = await UnitsFeature.LockAsync(session, clock, ct);
        var life = history.Life(unitId);
        if (life is null) return UnitRules.NotFound(unitId);
        var from = body.EffectiveFrom;
        if (life.Until is { } until && (from is null || from >= until)) throw UnitRules.Ended(history, life);
        if (from is { } day && life.ValidFrom is { } first && day < first)
            throw InputException.For("effectiveFrom", $"Unit '{unitId}' begins on {VietnamCalendar.Iso(first)}: a change cannot hold before it exists.");

        // The unit as it is on the change's first day (a correction: as it is now), and what the body changes of it.
        var existing = life.On(from ?? history.Today);
        var (by, now, stream) = (Caller.From(user).Client, clock.GetUtcNow(), UnitEventTypes.StreamIdOf(unitId));
        var events = new List<UnitEvent>();
        if (body.Name != existing.Name) events.Add(new UnitRenamed { UnitId = unitId, Name = body.Name!, EffectiveFrom = from, RecordedAt = now, By = by });
        if (body.Type != existing.Type) events.Add(new UnitRetyped { UnitId = unitId, Type = body.Type!, EffectiveFrom = from, RecordedAt = now, By = by });
        if (body.ParentId != existing.ParentId) events.Add(new UnitMoved { UnitId = unitId, ParentId = body.ParentId, EffectiveFrom = from, RecordedAt = now, By = by });
        UnitRules.CheckTree(history, unitId, events, from);

        // The change, its history row and its message commit together (Wolverine's outbox in Marten's transaction).
        foreach (var e in events) session.Events.Append(stream, e);
        session.QueueSqlCommand(
AuditTrail.QueuedInsertSql(AuditTrail.Subjects.Unit), by, AuditTrail.Actions.UnitUpdated, unitId, AuditTrail.Details(new
            {
                before = new { name = existing.Name, type = existing.Type, parentId = existing.ParentId },
                after = new { name = body.Name, type = body.Type, parentId = body.ParentId },
                effectiveFrom = from,
            }));
        if (existing.ParentId != body.ParentId)
            await bus.PublishAsync(new OrganisationChanged($"move:{unitId}:{now.UtcTicks}", from, UnitRules.Restated(history, [unitId], from)));
        await session.SaveChangesAsync(ct);
        var after = await directory.ReloadAsync(ct);
        return TypedResults.Ok(UnitRules.ToResponse(after, after.Life(unitId)!, from ?? after.Today));
    }
}
