using System.Security.Claims;
using CoordinationEvents.Api.Core;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Wolverine.Http;

namespace CoordinationEvents.Api.Keys;

/// <summary>
/// <c>DELETE /api/v1/admin/keys/{keyId}</c> (admin): revoke a key. It gets 401 at once from this instance and within
/// <see cref="KeyDirectory.MaxAge"/> from the others. Revoking a revoked key changes nothing (204 again, no new history).
/// </summary>
public static class RevokeKeyEndpoint
{
    [WolverineDelete("/api/v1/admin/keys/{keyId}", Name = "RevokeKey"), Authorize(Policy = Policies.Admin), Tags("Keys")]
    [EndpointSummary("Revoke a key: every instance refuses it within 5 s. Its row and history stay.")]
    public static async Task<Results<NoContent, ProblemHttpResult>> Delete(string keyId, ClaimsPrincipal user, KeyDirectory keys,
        NpgsqlDataSource db, CancellationToken ct)
    {
        var actor = Caller.From(user).Client;
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var existing = await KeysFeature.FindAsync(connection, keyId, ct);
        if (existing is null) return KeysFeature.NotFound(keyId);
        await using (var cmd = new NpgsqlCommand(
            $"update {KeyDirectory.TableName} set revoked_at = now(), revoked_by = $2 where key_id = $1 and revoked_at is null", connection, tx))
        {
            cmd.Parameters.AddWithValue(keyId);
            cmd.Parameters.AddWithValue(actor);
            if (await cmd.ExecuteNonQueryAsync(ct) == 0) return TypedResults.NoContent();
        }
        await using (var audit = new NpgsqlCommand(AuditTrail.InsertSql(AuditTrail.Subjects.Key), connection, tx))
        {
            audit.Parameters.AddWithValue(actor);
            audit.Parameters.AddWithValue(AuditTrail.Actions.KeyRevoked);
            audit.Parameters.AddWithValue(keyId);
            audit.Parameters.AddWithValue(AuditTrail.Details(new { existing.Client }));
            await audit.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        await keys.ReloadAsync(ct);
        return TypedResults.NoContent();
    }
}
