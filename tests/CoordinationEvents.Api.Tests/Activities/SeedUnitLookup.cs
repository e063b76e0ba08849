using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Units;

namespace CoordinationEvents.Api.Tests.Activities;

/// <summary>The seeded unit tree, in memory.</summary>
public static class SeedUnitLookup
{
    public static readonly UnitTree Instance = new(UnitSeed.Units.Select(u => new Unit(u.UnitId, u.Name, u.Type, u.ParentId)));
}
