using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;
using Wolverine.Http;

namespace CoordinationEvents.Api.Units;

/// <summary><c>POST /api/v1/units</c> (admin): add a unit to the tree. The body is checked by <see cref="UnitRequestValidator"/> first.</summary>
public static class CreateUnitEndpoint
{
    [WolverinePost("/api/v1/units", Name = "CreateUnit"), Authorize(Policy = Policies.Admin), Tags("Units")]
    [ProducesResponseType<ProblemDetails>(409, "application/problem+json")]
    public static async Task<Created<UnitResponse>> Post(UnitRequest request, UnitDirectory directory, NpgsqlDataSource db, CancellationToken ct)
    {
        var body = UnitRules.Normalize(request);
        var tree = await directory.GetKnowingAsync([body.UnitId, body.ParentId], ct);
        if (tree.Exists(body.UnitId!))
            throw new ProblemException(409, "Unit exists", $"A unit with id '{body.UnitId}' already exists.");
        UnitRules.CheckParent(tree, body.UnitId!, body.Type!, body.ParentId);

        await using var cmd = db.CreateCommand($"insert into {UnitDirectory.TableName} (unit_id, name, type, parent_id) values ($1, $2, $3, $4) on conflict do nothing");
        cmd.Parameters.AddWithValue(body.UnitId!);
        cmd.Parameters.AddWithValue(body.Name!);
        cmd.Parameters.AddWithValue(body.Type!);
        cmd.Parameters.AddWithValue((object?)body.ParentId ?? DBNull.Value);
        if (await cmd.ExecuteNonQueryAsync(ct) == 0)
            throw new ProblemException(409, "Unit exists", $"A unit with id '{body.UnitId}' already exists.");
        await directory.ReloadAsync(ct);
        var unit = new Unit(body.UnitId!, body.Name!, body.Type!, body.ParentId);
        return TypedResults.Created($"/api/v1/units/{unit.UnitId}", UnitRules.ToResponse(unit));
    }
}
