using System.Collections.Frozen;
using Npgsql;

namespace CoordinationEvents.Api.Core;

public sealed record Unit(string UnitId, string Name, string Type, string? ParentId);

public static class UnitTypes
{
    public const string Province = "province";
    public const string District = "district";
    public const string BorderPost = "border-post";
    public const string Commune = "commune";

    public static readonly IReadOnlyList<string> All = [Province, District, BorderPost, Commune];
}

/// <summary>An immutable snapshot of the unit tree: the read side that every feature sees.</summary>
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
/// The unit tree from the database, cached. Local changes refresh it at once; changes by another instance
/// are seen within <see cref="MaxAge"/>, or at once when an id is not found.
/// </summary>
public sealed class UnitDirectory(NpgsqlDataSource db, TimeProvider clock)
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(5);

    /// <summary>The table the Units feature creates and writes (<c>Units/UnitsSchema</c>); read here.</summary>
    public const string TableName = "units";

    sealed record Snapshot(UnitTree Tree, DateTimeOffset LoadedAt);
    volatile Snapshot? cached;
    readonly SemaphoreSlim gate = new(1, 1);

    public async Task<UnitTree> GetAsync(CancellationToken ct = default)
    {
        var current = cached;
        if (current is { } c && clock.GetUtcNow() - c.LoadedAt < MaxAge) return c.Tree;
        return await ReloadAsync(ct);
    }

    /// <summary>The tree, reloaded first if any of <paramref name="unitIds"/> is unknown to the cached one.</summary>
    public async Task<UnitTree> GetKnowingAsync(IEnumerable<string?> unitIds, CancellationToken ct = default)
    {
        var tree = await GetAsync(ct);
        return unitIds.Any(id => id is not null && !tree.Exists(id)) ? await ReloadAsync(ct) : tree;
    }

    /// <summary>The tree as the connection's transaction sees it (projections read it inside their batch).</summary>
    public static async Task<UnitTree> LoadAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        var units = new List<Unit>();
        await using var cmd = new NpgsqlCommand($"select unit_id, name, type, parent_id from {TableName}", connection);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            units.Add(new Unit(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3)));
        return new UnitTree(units);
    }

    public async Task<UnitTree> ReloadAsync(CancellationToken ct = default)
    {
        await gate.WaitAsync(ct);
        try
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            var tree = await LoadAsync(connection, ct);
            cached = new Snapshot(tree, clock.GetUtcNow());
            return tree;
        }
        finally
        {
            gate.Release();
        }
    }
}
