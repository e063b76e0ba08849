using System.Collections.Frozen;
using Npgsql;

namespace CoordinationEvents.Api.Core;

/// <summary>A key made at run time (the Keys feature), as authentication sees it.</summary>
public sealed record StoredKey(string KeyId, ApiKeyConfig Key);

/// <summary>
/// The keys made at run time, from the database, cached: the read side of the Keys feature's table, as
/// <see cref="UnitDirectory"/> is the units'. Only active keys are loaded (not revoked), by their SHA-256, so a revoked
/// key, or a rotated key's old secret, is refused by every instance once its cache is older than <see cref="MaxAge"/>
/// (2 s; the promise is 5 s), and at once by the instance that made the change. A secret that is not in the cache
/// reloads it first when the cache is older than <see cref="MissReloadAfter"/>, so a key made on another instance works
/// there within half a second, and a flood of unknown keys costs at most two queries a second.
/// </summary>
public sealed class KeyDirectory(NpgsqlDataSource db, TimeProvider clock)
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan MissReloadAfter = TimeSpan.FromMilliseconds(500);

    /// <summary>The table the Keys feature creates and writes (<c>Keys/KeysFeature</c>); read here.</summary>
    public const string TableName = "api_keys";

    sealed record Snapshot(FrozenDictionary<string, StoredKey> ByHash, DateTimeOffset LoadedAt);
    volatile Snapshot? cached;
    readonly SemaphoreSlim gate = new(1, 1);

    /// <summary>The active stored key whose secret is <paramref name="secret"/>, or null.</summary>
    public async ValueTask<StoredKey?> FindAsync(string secret, CancellationToken ct)
    {
        var hash = ApiKeyOptions.Hash(secret);
        var snapshot = cached;
        var now = clock.GetUtcNow();
        if (snapshot is null || now - snapshot.LoadedAt >= MaxAge) snapshot = await ReloadAsync(snapshot, ct);
        if (snapshot.ByHash.TryGetValue(hash, out var found)) return found;
        if (now - snapshot.LoadedAt < MissReloadAfter) return null;
        return (await ReloadAsync(snapshot, ct)).ByHash.GetValueOrDefault(hash);
    }

    /// <summary>Reloads now (after a change on this instance).</summary>
    public async Task ReloadAsync(CancellationToken ct) => await ReloadAsync(cached, ct);

    async Task<Snapshot> ReloadAsync(Snapshot? seen, CancellationToken ct)
    {
        await gate.WaitAsync(ct);
        try
        {
            // Another caller reloaded while this one waited.
            if (cached is { } current && !ReferenceEquals(current, seen)) return current;
            var keys = new Dictionary<string, StoredKey>(StringComparer.Ordinal);
            await using (var cmd = db.CreateCommand($"select key_id, client, role, scope, key_sha256 from {TableName} where revoked_at is null"))
            await using (var reader = await cmd.ExecuteReaderAsync(ct))
                while (await reader.ReadAsync(ct))
                {
                    var key = new ApiKeyConfig
                    {
                        Client = reader.GetString(1), Role = reader.GetString(2), Scope = reader.GetFieldValue<string[]>(3), KeySha256 = reader.GetString(4),
                    };
                    keys[key.KeySha256] = new StoredKey(reader.GetString(0), key);
                }
            var snapshot = new Snapshot(keys.ToFrozenDictionary(StringComparer.Ordinal), clock.GetUtcNow());
            cached = snapshot;
            return snapshot;
        }
        finally
        {
            gate.Release();
        }
    }
}
