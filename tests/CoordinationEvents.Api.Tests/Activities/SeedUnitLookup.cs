using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Units;

namespace CoordinationEvents.Api.Tests.Activities;

/// <summary>The seeded unit tree as an <see cref="IUnitLookup"/>, in memory.</summary>
public sealed class SeedUnitLookup : IUnitLookup
{
    public static readonly SeedUnitLookup Instance = new();

    readonly Dictionary<string, string> typeById = UnitSeed.Units.ToDictionary(u => u.UnitId, u => u.Type, StringComparer.Ordinal);

    public bool Exists(string unitId) => typeById.ContainsKey(unitId);

    public string? TypeOf(string unitId) => typeById.GetValueOrDefault(unitId);
}
