using System.Security.Claims;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;
using FluentValidation;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Wolverine.Http;

namespace CoordinationEvents.Api.Keys;

public sealed class KeyRequestValidator : AbstractValidator<KeyRequest>
{
    static readonly string[] RoleNames = [Roles.Reporter, Roles.Analyst, Roles.Admin];

    public KeyRequestValidator()
    {
        RuleFor(k => k.Client).Must(c => Text.IsStorable(c)).WithMessage(Text.NotStorable("client")).OverridePropertyName("client");
        RuleFor(k => Text.Clean(k.Client)).NotEmpty().WithMessage("'client' is required: the name of the system or team that uses the key.")
            .MaximumLength(100).WithMessage("'client' must be at most 100 characters.").OverridePropertyName("client");
        RuleFor(k => Text.Clean(k.Role)).Must(r => r is not null && RoleNames.Contains(r))
            .WithMessage($"'role' must be one of: {string.Join(", ", RoleNames)}.").OverridePropertyName("role");
        RuleFor(k => k.Scope).Must((k, scope) => scope is null || scope.Count == 0 || Text.Clean(k.Role) == Roles.Reporter)
            .WithMessage("Only a reporter's key has a 'scope'.").OverridePropertyName("scope");
        RuleFor(k => k.Scope).Must(scope => scope is null || (scope.Count <= 100 && scope.All(s => !string.IsNullOrWhiteSpace(s) && Text.IsStorable(s) && s.Length <= 64)))
            .WithMessage("'scope' lists at most 100 unit ids.").OverridePropertyName("scope");
    }
}

/// <summary>
/// <c>POST /api/v1/admin/keys</c> (admin): a new API key. Its secret is in this answer only; the service keeps its SHA-256.
/// Every instance accepts it within half a second (<see cref="KeyDirectory"/>).
/// </summary>
public static class CreateKeyEndpoint
{
    [WolverinePost("/api/v1/admin/keys", Name = "CreateKey"), Authorize(Policy = Policies.Admin), Tags("Keys")]
    [EndpointSummary("Make an API key. The secret is shown once, in this answer; only its SHA-256 is stored.")]
    public static async Task<Created<KeySecretResponse>> Post(KeyRequest request, ClaimsPrincipal user, UnitDirectory units, KeyDirectory keys,
        NpgsqlDataSource db, CancellationToken ct)
    {
        var client = Text.Clean(request.Client)!;
        var role = Text.Clean(request.Role)!;
        var scope = (request.Scope ?? []).Select(s => Text.Clean(s)!).Distinct(StringComparer.Ordinal).ToArray();
        // Any unit of the organisation's history may scope a key, a former one too: scope is judged on each activity's day.
        var history = await units.GetKnowingAsync(scope, ct);
        if (scope.FirstOrDefault(s => !history.Knows(s)) is { } unknown) throw InputException.For("scope", $"Unknown unit '{unknown}'.");

        var actor = Caller.From(user).Client;
        var keyId = KeysFeature.NewKeyId();
        var secret = KeysFeature.NewSecret();
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await using (var cmd = new NpgsqlCommand(
            $"insert into {KeyDirectory.TableName} (key_id, client, role, scope, key_sha256, created_by) values ($1, $2, $3, $4, $5, $6)", connection, tx))
        {
            cmd.Parameters.AddWithValue(keyId);
            cmd.Parameters.AddWithValue(client);
            cmd.Parameters.AddWithValue(role);
            cmd.Parameters.AddWithValue(scope);
            cmd.Parameters.AddWithValue(ApiKeyOptions.Hash(secret));
            cmd.Parameters.AddWithValue(actor);
            await cmd.ExecuteNonQueryAsync(ct);
        }
        await using (var audit = new NpgsqlCommand(AuditTrail.InsertSql(AuditTrail.Subjects.Key), connection, tx))
        {
            audit.Parameters.AddWithValue(actor);
            audit.Parameters.AddWithValue(AuditTrail.Actions.KeyCreated);
            audit.Parameters.AddWithValue(keyId);
            audit.Parameters.AddWithValue(AuditTrail.Details(new { client, role, scope }));
            await audit.ExecuteNonQueryAsync(ct);
        }
        var key = await KeysFeature.FindAsync(connection, keyId, ct);
        await tx.CommitAsync(ct);
        await keys.ReloadAsync(ct);
        return TypedResults.Created(KeysFeature.Location(keyId), new KeySecretResponse(keyId, secret, key!));
    }
}
