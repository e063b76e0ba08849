using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Wolverine.Http;

namespace CoordinationEvents.Api.Units;

/// <summary>
/// <c>GET /api/v1/reorganisations</c> and <c>GET /api/v1/reorganisations/{reorganisationId}</c>: what was decided, when
/// it was recorded and by whom, and whether the figures it moves have all been moved (<c>applied</c>, from
/// <see cref="OrganisationRestates"/>).
/// </summary>
public static class GetReorganisationsEndpoint
{
    [WolverineGet("/api/v1/reorganisations", Name = "Reorganisations"), Authorize(Policy = Policies.ReadOwn), Tags("Units")]
    [EndpointSummary("Every reorganisation recorded, newest first: its title, effective date, changes, the units it touched, when and by whom it was recorded, and whether its figures have all been moved (applied).")]
    public static async Task<Ok<IReadOnlyList<ReorganisationResponse>>> List(UnitDirectory units, IQuerySession session, NpgsqlDataSource db, CancellationToken ct)
    {
        // Every reorganisation made unit events that name it: their ids come from the (small) unit records, and each
        // is then read from its own stream by id, never by scanning the event table.
        var history = await units.ReloadAsync(ct);
        var ids = history.Lives.SelectMany(l => l.Changes).Select(c => c.ReorganisationId).OfType<string>().Distinct(StringComparer.Ordinal);
        var all = new List<ReorganisationRecorded>();
        foreach (var id in ids)
            if (await Reorganisations.FindAsync(session, id, ct) is { } recorded) all.Add(recorded);
        var done = await OrganisationRestates.DoneAsync(db, all.Select(r => OrganisationRestates.ChangeIdOfReorganisation(r.ReorganisationId)).ToArray(), ct);
        return TypedResults.Ok<IReadOnlyList<ReorganisationResponse>>(all
            .OrderByDescending(r => r.RecordedAt).ThenBy(r => r.ReorganisationId, StringComparer.Ordinal)
            .Select(r => Reorganisations.ToResponse(r, done.Contains(OrganisationRestates.ChangeIdOfReorganisation(r.ReorganisationId))))
            .ToArray());
    }

    [WolverineGet("/api/v1/reorganisations/{reorganisationId}", Name = "GetReorganisation"), Authorize(Policy = Policies.ReadOwn), Tags("Units")]
    [EndpointSummary("One reorganisation: what was decided, when and by whom it was recorded, and whether its figures have all been moved (applied).")]
    public static async Task<Results<Ok<ReorganisationResponse>, ProblemHttpResult>> Get(string reorganisationId, IQuerySession session, NpgsqlDataSource db, CancellationToken ct)
    {
        if (await Reorganisations.FindAsync(session, reorganisationId, ct) is not { } recorded)
            return TypedResults.Problem($"Reorganisation '{reorganisationId}' does not exist.", statusCode: 404, title: "Not found");
        var changeId = OrganisationRestates.ChangeIdOfReorganisation(recorded.ReorganisationId);
        var done = await OrganisationRestates.DoneAsync(db, [changeId], ct);
        return TypedResults.Ok(Reorganisations.ToResponse(recorded, done.Contains(changeId)));
    }
}
