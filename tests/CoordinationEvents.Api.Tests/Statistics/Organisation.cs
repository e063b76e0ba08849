using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Tests.Infrastructure;
using CoordinationEvents.Api.Units;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Wolverine;

namespace CoordinationEvents.Api.Tests.Statistics;

/// <summary>
/// Changes of the organisation written straight into the store as unit events (the reorganisation endpoint is
/// another feature's), each change's message published through the host's Wolverine bus as the endpoint does, and
/// the test's own model of the tree over time (<see cref="Model"/>): where an activity counts, computed here without
/// the service's code.
/// </summary>
public sealed class Organisation(ServiceInstance api)
{
    public readonly Model Expected = new();

    public async Task AppendAsync(params UnitEvent[] events)
    {
        var store = api.Services.GetRequiredService<IDocumentStore>();
        await using var session = store.LightweightSession();
        foreach (var e in events)
        {
            var stamped = e with { RecordedAt = DateTimeOffset.UtcNow, By = "test" };
            session.Events.Append(UnitEventTypes.StreamIdOf(e.UnitId), stamped);
            Expected.Apply(stamped);
        }
        await session.SaveChangesAsync();
        await api.Services.GetRequiredService<UnitDirectory>().ReloadAsync();
    }

    /// <summary>The change's durable message, as the organisation's endpoints publish it.</summary>
    public async Task PublishAsync(string changeId, DateOnly? from, params string[] units)
    {
        using var scope = api.Services.CreateScope();
        await scope.ServiceProvider.GetRequiredService<IMessageBus>().PublishAsync(new OrganisationChanged(changeId, from, units));
    }

    /// <summary>Waits until every change's restatement is done and the projection has caught up.</summary>
    public async Task SettleAsync(int seconds = 120)
    {
        await Task.Delay(100);
        await api.WaitForRestatesAsync(0, seconds);
    }

    /// <summary>The test's own fold of the unit events: parents by date, ends and successors.</summary>
    public sealed class Model
    {
        public sealed class Life
        {
            public DateOnly? From;
            public DateOnly? Until;
            public string? Ending;
            public List<string> Successors = [];
            public SortedDictionary<DateOnly, string?> Parent = new();
            public SortedDictionary<DateOnly, string> Name = new();
        }

        public readonly Dictionary<string, Life> Lives = new();

        public void Apply(UnitEvent e)
        {
            if (!Lives.TryGetValue(e.UnitId, out var life)) Lives[e.UnitId] = life = new Life();
            var day = e.EffectiveFrom ?? DateOnly.MinValue;
            switch (e)
            {
                case UnitEstablished x:
                    life.From = x.EffectiveFrom;
                    life.Parent[DateOnly.MinValue] = x.ParentId;
                    life.Name[DateOnly.MinValue] = x.Name;
                    break;
                case UnitMoved x:
                    if (x.EffectiveFrom is null) life.Parent.Clear();
                    life.Parent[day] = x.ParentId;
                    break;
                case UnitRenamed x:
                    life.Name[day] = x.Name;
                    break;
                case UnitMerged x:
                    (life.Until, life.Ending, life.Successors) = (x.EffectiveFrom, "merged", [x.Into]);
                    break;
                case UnitSplit x:
                    (life.Until, life.Ending, life.Successors) = (x.EffectiveFrom, "split", [.. x.Into]);
                    break;
                case UnitDissolved x:
                    (life.Until, life.Ending) = (x.EffectiveFrom, "dissolved");
                    break;
            }
        }

        public string? ParentOn(string unit, DateOnly day) => Lives[unit].Parent.Where(p => p.Key <= day).Last().Value;

        public bool ExistsOn(string unit, DateOnly day) =>
            Lives.TryGetValue(unit, out var l) && (l.From is null || day >= l.From) && (l.Until is null || day < l.Until);

        /// <summary>Where an activity of <paramref name="unit"/> on <paramref name="day"/> counts, self first (organisation.md).</summary>
        public List<string> Holders(string unit, DateOnly day)
        {
            var life = Lives[unit];
            while (life.Until is { } until && day >= until && life.Ending == "merged")
            {
                unit = life.Successors[0];
                life = Lives[unit];
            }
            var on = life.Until is { } end && day >= end ? end.AddDays(-1) : day;
            var chain = new List<string>();
            for (string? u = unit; u is not null; u = ParentOn(u, on)) chain.Add(u);
            return chain;
        }

        /// <summary>The units merged into <paramref name="unit"/>, transitively, each with the first day it no longer existed.</summary>
        public Dictionary<string, DateOnly> Carried(string unit)
        {
            var carried = new Dictionary<string, DateOnly>();
            var queue = new Queue<string>([unit]);
            while (queue.TryDequeue(out var id))
                foreach (var (other, life) in Lives)
                    if (life.Ending == "merged" && life.Successors[0] == id && carried.TryAdd(other, life.Until!.Value))
                        queue.Enqueue(other);
            return carried;
        }
    }
}
