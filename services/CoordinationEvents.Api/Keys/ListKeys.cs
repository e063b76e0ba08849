using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;
using Wolverine.Http;

namespace CoordinationEvents.Api.Keys;

/// <summary>
/// <c>GET /api/v1/admin/keys</c> (admin): the keys made at run time (revoked ones too, with when and by whom), then
/// the keys in configuration. Never a secret nor a hash.
/// </summary>
public static class ListKeysEndpoint
{
    [WolverineGet("/api/v1/admin/keys", Name = "ListKeys"), Authorize(Policy = Policies.Admin), Tags("Keys")]
    [EndpointSummary("The API keys: those made at run time (oldest first, revoked ones included) and those in configuration. Never their secrets or hashes.")]
    public static async Task<Ok<KeyListResponse>> Get(NpgsqlDataSource db, IOptions<ApiKeyOptions> configured, CancellationToken ct)
    {
        var keys = new List<KeyResponse>();
        await using (var cmd = db.CreateCommand($"select {KeysFeature.Columns} from {KeyDirectory.TableName} order by created_at, key_id"))
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct)) keys.Add(KeysFeature.Read(reader));
        keys.AddRange(configured.Value.Keys.Select(k =>
            new KeyResponse(null, k.Client, k.Role, k.Scope, KeysFeature.Configuration, null, null, null, null, null)));
        return TypedResults.Ok(new KeyListResponse(keys));
    }
}
