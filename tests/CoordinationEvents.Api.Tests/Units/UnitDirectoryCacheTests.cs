using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Tests.Infrastructure;
using CoordinationEvents.Api.Tests.Statistics;
using CoordinationEvents.Api.Units;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CoordinationEvents.Api.Tests.Units;

/// <summary>
/// The cached organisation: past its age the same history is kept when no unit record changed (its trees are built
/// once), and a change made by another instance is seen at the next look.
/// </summary>
public sealed class UnitDirectoryCacheTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    sealed class Clock : TimeProvider
    {
        public DateTimeOffset Now = DateTimeOffset.UtcNow;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public async Task An_unchanged_organisation_is_the_same_history_and_a_change_elsewhere_is_read()
    {
        var clock = new Clock();
        var directory = new UnitDirectory(api.Services.GetRequiredService<NpgsqlDataSource>(), clock);
        var first = await directory.GetAsync();

        clock.Now += UnitDirectory.MaxAge + TimeSpan.FromSeconds(1);
        Assert.Same(first, await directory.GetAsync());

        // Another instance (the test's store) records a unit; within the age the cache still answers, past it the change shows.
        var unitId = $"udc{Environment.TickCount & 0xFFFFF:x}";
        await new Organisation(api).AppendAsync(new UnitEstablished { UnitId = unitId, Name = "Tỉnh mới", Type = UnitTypes.Province });
        Assert.Same(first, await directory.GetAsync());
        clock.Now += UnitDirectory.MaxAge + TimeSpan.FromSeconds(1);
        var changed = await directory.GetAsync();
        Assert.NotSame(first, changed);
        Assert.True(changed.Knows(unitId));
        Assert.False(first.Knows(unitId));
    }
}
