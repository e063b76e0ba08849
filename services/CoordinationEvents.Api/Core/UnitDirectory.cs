using System.Collections.Frozen;
using Npgsql;

namespace CoordinationEvents.Api.Core;

public sealed record Unit(string UnitId, string Name, string Type, string? ParentId);

public static class UnitTypes
{
    public const string Province = "province";
    /// <summary>A centrally-run city, at province level.</summary>
    public const string City = "city";
    public const string District = "district";
    public const string BorderGuardCommand = "border-guard-command";
    public const string BorderPost = "border-post";
    public const string Commune = "commune";
    public const string Ward = "ward";

    public static readonly IReadOnlyList<string> All = [Province, City, District, BorderGuardCommand, BorderPost, Commune, Ward];
}

/// <summary>An immutable snapshot of the unit tree on one day (<see cref="UnitHistory.TreeOn"/>).</summary>
public sealed class UnitTree
{
    readonly FrozenDictionary<string, Unit> byId;
    readonly FrozenDictionary<string, Unit[]> children;

    public UnitTree(IEnumerable<Unit> units)
    {
        byId = units.ToFrozenDictionary(u => u.UnitId, StringComparer.Ordinal);
        children = byId.Values.Where(u => u.ParentId is not null).GroupBy(u => u.ParentId!)
            .ToFrozenDictionary(g => g.Key, g => g.OrderBy(u => u.UnitId, StringComparer.Ordinal).ToArray(), StringComparer.Ordinal);
        Roots = byId.Values.Where(u => u.ParentId is null).OrderBy(u => u.UnitId, StringComparer.Ordinal).ToArray();
    }

    public IReadOnlyList<Unit> Roots { get; }
    public IEnumerable<Unit> All => byId.Values;

    public bool Exists(string unitId) => byId.ContainsKey(unitId);
    /// <summary>The unit's type (<see cref="UnitTypes"/>), or null if there is no such unit.</summary>
    public string? TypeOf(string unitId) => byId.TryGetValue(unitId, out var u) ? u.Type : null;
    public Unit? Find(string unitId) => byId.GetValueOrDefault(unitId);

    public IReadOnlyList<Unit> ChildrenOf(string unitId) => children.TryGetValue(unitId, out var c) ? c : [];

    /// <summary>The unit itself, then its parent, up to the root.</summary>
    public IEnumerable<string> SelfAndAncestors(string unitId)
    {
        for (var u = Find(unitId); u is not null; u = u.ParentId is null ? null : Find(u.ParentId))
            yield return u.UnitId;
    }

    public IEnumerable<string> Subtree(string unitId)
    {
        var stack = new Stack<string>([unitId]);
        while (stack.TryPop(out var id))
        {
            yield return id;
            foreach (var c in ChildrenOf(id)) stack.Push(c.UnitId);
        }
    }

    public bool IsWithin(string unitId, string ancestorId) => SelfAndAncestors(unitId).Contains(ancestorId);
}

/// <summary>
/// The organisation's history (<see cref="UnitHistory"/>) from the database, cached. Local changes refresh it at
/// once; changes by another instance are seen within <see cref="MaxAge"/>, or at once when an id is not found.
/// </summary>
public sealed class UnitDirectory(NpgsqlDataSource db, TimeProvider clock)
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(5);

    sealed record Snapshot(Versioned Loaded, DateTimeOffset LoadedAt);
    volatile Snapshot? cached;
    readonly SemaphoreSlim gate = new(1, 1);

    /// <summary>
    /// The cached history; past <see cref="MaxAge"/>, the same one again when no unit record changed since (one narrow
    /// aggregate, <see cref="LoadIfChangedAsync"/>), so its trees, built as they are asked for, are built once.
    /// </summary>
    public async Task<UnitHistory> GetAsync(CancellationToken ct = default)
    {
        var current = cached;
        if (current is { } c && clock.GetUtcNow() - c.LoadedAt < MaxAge && c.Loaded.History.Today == VietnamCalendar.Today(clock)) return c.Loaded.History;
        return await RefreshAsync(current?.Loaded, ct);
    }

    /// <summary>The history, reloaded first if any of <paramref name="unitIds"/> is unknown to the cached one.</summary>
    public async Task<UnitHistory> GetKnowingAsync(IEnumerable<string?> unitIds, CancellationToken ct = default)
    {
        var history = await GetAsync(ct);
        return unitIds.Any(id => id is not null && !history.Knows(id)) ? await ReloadAsync(ct) : history;
    }

    /// <summary>Every unit's events, as the connection's transaction sees them (projections read them inside their batch).</summary>
    public static async Task<IReadOnlyList<UnitRecord>> LoadRecordsAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        var records = new List<UnitRecord>();
        await using var cmd = new NpgsqlCommand($"select data from {UnitRecord.TableName}", connection);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            records.Add(System.Text.Json.JsonSerializer.Deserialize<UnitRecord>(reader.GetString(0), StoreJson.Options)!);
        return records;
    }

    /// <summary>The history as the connection's transaction sees it.</summary>
    public static async Task<UnitHistory> LoadAsync(NpgsqlConnection connection, DateOnly today, CancellationToken ct) =>
        new(await LoadRecordsAsync(connection, ct), today);

    /// <summary>A history and the version of the unit records it was folded from.</summary>
    public sealed record Versioned(UnitHistory History, string Version);

    /// <summary>
    /// The history as the connection sees it, <paramref name="known"/> again when no unit record has changed since it
    /// was read (every write of a Marten document gives it a new <c>mt_version</c>): one narrow aggregate instead of
    /// reading and folding every record. A change committed between the two reads only makes the next call read again.
    /// </summary>
    public static async Task<Versioned> LoadIfChangedAsync(NpgsqlConnection connection, DateOnly today, Versioned? known, CancellationToken ct)
    {
        string version;
        await using (var cmd = new NpgsqlCommand(
            $"select count(*)::text || ':' || coalesce(md5(string_agg(mt_version::text, ',' order by id)), '') from {UnitRecord.TableName}", connection))
            version = (string)(await cmd.ExecuteScalarAsync(ct))!;
        if (known is not null && known.Version == version && known.History.Today == today) return known;
        return new Versioned(await LoadAsync(connection, today, ct), version);
    }

    /// <summary>The history read and folded again, whatever the cache holds (after a change made here).</summary>
    public Task<UnitHistory> ReloadAsync(CancellationToken ct = default) => RefreshAsync(null, ct);

    async Task<UnitHistory> RefreshAsync(Versioned? known, CancellationToken ct)
    {
        await gate.WaitAsync(ct);
        try
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            var loaded = await LoadIfChangedAsync(connection, VietnamCalendar.Today(clock), known, ct);
            cached = new Snapshot(loaded, clock.GetUtcNow());
            return loaded.History;
        }
        finally
        {
            gate.Release();
        }
    }
}
