using System.Security.Claims;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;
using Wolverine.Http;

namespace CoordinationEvents.Api.Keys;

/// <summary>
/// <c>POST /api/v1/admin/keys/{keyId}/rotate</c> (admin): a new secret for the key (shown once), same id, client, role
/// and scope. The old secret is refused at once by this instance and within <see cref="KeyDirectory.MaxAge"/> by the others.
/// </summary>
public static class RotateKeyEndpoint
{
    [WolverinePost("/api/v1/admin/keys/{keyId}/rotate", Name = "RotateKey"), Authorize(Policy = Policies.Admin), Tags("Keys")]
    [EndpointSummary("Give a key a new secret, shown once. The old secret is refused by every instance within 5 s.")]
    [ProducesResponseType<ProblemDetails>(409, "application/problem+json")]
    public static async Task<Results<Ok<KeySecretResponse>, ProblemHttpResult>> Post(string keyId, ClaimsPrincipal user, KeyDirectory keys,
        NpgsqlDataSource db, CancellationToken ct)
    {
        var actor = Caller.From(user).Client;
        var secret = KeysFeature.NewSecret();
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var existing = await KeysFeature.FindAsync(connection, keyId, ct);
        if (existing is null) return KeysFeature.NotFound(keyId);
        await using (var cmd = new NpgsqlCommand(
            $"update {KeyDirectory.TableName} set key_sha256 = $2, rotated_at = now() where key_id = $1 and revoked_at is null", connection, tx))
        {
            cmd.Parameters.AddWithValue(keyId);
            cmd.Parameters.AddWithValue(ApiKeyOptions.Hash(secret));
            if (await cmd.ExecuteNonQueryAsync(ct) == 0)
                return TypedResults.Problem($"API key '{keyId}' is revoked; make a new one.", statusCode: 409, title: "Key revoked");
        }
        await using (var audit = new NpgsqlCommand(AuditTrail.InsertSql(AuditTrail.Subjects.Key), connection, tx))
        {
            audit.Parameters.AddWithValue(actor);
            audit.Parameters.AddWithValue(AuditTrail.Actions.KeyRotated);
            audit.Parameters.AddWithValue(keyId);
            audit.Parameters.AddWithValue(AuditTrail.Details(new { existing.Client }));
            await audit.ExecuteNonQueryAsync(ct);
        }
        var key = await KeysFeature.FindAsync(connection, keyId, ct);
        await tx.CommitAsync(ct);
        await keys.ReloadAsync(ct);
        return TypedResults.Ok(new KeySecretResponse(keyId, secret, key!));
    }
}
