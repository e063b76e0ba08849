using System.Collections.Frozen;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.EventStore;
using Npgsql;

namespace CoordinationEvents.Api.Units;

public sealed record Unit(string UnitId, string Name, string Type, string? ParentId);

/// <summary>An immutable snapshot of the unit tree.</summary>
public sealed class UnitTree : IUnitLookup
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

    public static readonly Migration Schema = new("units", 1, """
        create table units (
            unit_id text primary key check (unit_id ~ '^[a-z0-9]+(-[a-z0-9]+)*$' and length(unit_id) <= 64),
            name text not null,
            type text not null,
            parent_id text references units (unit_id),
            created_at timestamptz not null default now(),
            updated_at timestamptz not null default now());
        create index units_parent on units (parent_id);
        """ + Seed());

    static string Seed() => "insert into units (unit_id, name, type, parent_id) values\n" + string.Join(",\n",
        UnitSeed.Units.Select(u => $"('{u.UnitId}', '{u.Name.Normalize(System.Text.NormalizationForm.FormC)}', '{u.Type}', {(u.ParentId is null ? "null" : $"'{u.ParentId}'")})"))
        + "\non conflict do nothing;";

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
        await using var cmd = new NpgsqlCommand("select unit_id, name, type, parent_id from units", connection);
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
