using System.Collections.Frozen;
using CoordinationEvents.Api.Activities;
using Marten;
using Marten.Schema;
using Npgsql;
using Weasel.Postgresql.Tables;

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

    /// <summary>The units table, created and upgraded by Marten (Weasel) with the rest of the schema.</summary>
    public static Table Table()
    {
        var t = new Table("units");
        t.AddColumn("unit_id", "text").AsPrimaryKey();
        t.AddColumn("name", "text").NotNull();
        t.AddColumn("type", "text").NotNull();
        t.AddColumn("parent_id", "text").ForeignKeyTo("units", "unit_id");
        t.AddColumn("created_at", "timestamptz").NotNull().DefaultValueByExpression("now()");
        t.AddColumn("updated_at", "timestamptz").NotNull().DefaultValueByExpression("now()");
        t.Indexes.Add(new IndexDefinition("units_parent") { Columns = ["parent_id"] });
        return t;
    }

    /// <summary>
    /// The seeded tree, written once into an empty table. Two instances starting together may both find it
    /// empty: the second one's rows conflict with the first one's and are skipped.
    /// </summary>
    public static string SeedSql() => "insert into units (unit_id, name, type, parent_id) select * from (values\n" + string.Join(",\n",
        UnitSeed.Units.Select(u => $"('{u.UnitId}', '{u.Name.Normalize(System.Text.NormalizationForm.FormC)}', '{u.Type}', {(u.ParentId is null ? "null::text" : $"'{u.ParentId}'")})"))
        + "\n) as seed where not exists (select 1 from units) on conflict do nothing";

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

/// <summary>Seeds the unit tree after Marten has created the schema, when the table is empty.</summary>
public sealed class UnitSeedData(NpgsqlDataSource db) : Marten.Schema.IInitialData
{
    public async Task Populate(IDocumentStore store, CancellationToken cancellation)
    {
        await using var cmd = db.CreateCommand(UnitDirectory.SeedSql());
        await cmd.ExecuteNonQueryAsync(cancellation);
    }
}
