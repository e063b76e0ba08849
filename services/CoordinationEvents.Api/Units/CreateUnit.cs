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
    public static async Task<Created<UnitResponse>> Post(UnitRequest request, System.Security.Claims.ClaimsPrincipal user, UnitDirectory directory, NpgsqlDataSource db, CancellationToken ct)
    {
        var body = UnitRules.Normalize(request);
        var tree = await directory.GetKnowingAsync([body.UnitId, body.ParentId], ct);
        if (tree.Exists(body.UnitId!))
            throw new ProblemException(409, "Unit exists", $"A unit with id '{body.UnitId}' already exists.");
        UnitRules.CheckParent(tree, body.UnitId!, body.Type!, body.ParentId);

        // The unit and its history row in one statement: both or neither.
        await using var cmd = db.CreateCommand($"""
            with added as (
                insert into {UnitDirectory.TableName} (unit_id, name, type, parent_id) values ($1, $2, $3, $4) on conflict do nothing returning unit_id)
            insert into {AuditTrail.TableName} (actor, action, subject_type, subject_id, details)
            select $5, $6, '{AuditTrail.Subjects.Unit}', $7, $8::jsonb from added
            """);
        cmd.Parameters.AddWithValue(body.UnitId!);
        cmd.Parameters.AddWithValue(body.Name!);
        cmd.Parameters.AddWithValue(body.Type!);
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)body.ParentId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        cmd.Parameters.AddWithValue(Caller.From(user).Client);
        cmd.Parameters.AddWithValue(AuditTrail.Actions.UnitCreated);
        cmd.Parameters.AddWithValue(body.UnitId!);
        cmd.Parameters.AddWithValue(AuditTrail.Details(new { name = body.Name, type = body.Type, parentId = body.ParentId }));
        if (await cmd.ExecuteNonQueryAsync(ct) == 0)
            throw new ProblemException(409, "Unit exists", $"A unit with id '{body.UnitId}' already exists.");
        await directory.ReloadAsync(ct);
        var unit = new Unit(body.UnitId!, body.Name!, body.Type!, body.ParentId);
        return TypedResults.Created($"/api/v1/units/{unit.UnitId}", UnitRules.ToResponse(unit));
    }
}
