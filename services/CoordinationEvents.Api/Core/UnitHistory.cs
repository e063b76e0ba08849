using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;
using JasperFx.Events;
using Marten;

namespace CoordinationEvents.Api.Core;

// ---- The unit events (organisation.md): each unit is an event stream; each change holds from its EffectiveFrom. ----

/// <summary>
/// A change of one unit. <see cref="EffectiveFrom"/> is the first day it holds (Vietnam's calendar); null means
/// "from the unit's beginning": it was always so (a correction, as a PUT without a date has always meant).
/// <see cref="Change"/> names it as the history answers it.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "change")]
[JsonDerivedType(typeof(UnitEstablished), UnitEventTypes.EstablishedChange)]
[JsonDerivedType(typeof(UnitRenamed), UnitEventTypes.RenamedChange)]
[JsonDerivedType(typeof(UnitRetyped), UnitEventTypes.RetypedChange)]
[JsonDerivedType(typeof(UnitMoved), UnitEventTypes.MovedChange)]
[JsonDerivedType(typeof(UnitMerged), UnitEventTypes.MergedChange)]
[JsonDerivedType(typeof(UnitSplit), UnitEventTypes.SplitChange)]
[JsonDerivedType(typeof(UnitDissolved), UnitEventTypes.DissolvedChange)]
public abstract record UnitEvent
{
    public required string UnitId { get; init; }
    public DateOnly? EffectiveFrom { get; init; }
    public DateTimeOffset RecordedAt { get; init; }
    /// <summary>The client (API key) that made the change.</summary>
    public string By { get; init; } = "";
    public string? ReorganisationId { get; init; }
}

/// <summary>The unit begins (<see cref="UnitEvent.EffectiveFrom"/> null: it has always existed).</summary>
public sealed record UnitEstablished : UnitEvent
{
    public required string Name { get; init; }
    public required string Type { get; init; }
    public string? ParentId { get; init; }
}

public sealed record UnitRenamed : UnitEvent
{
    public required string Name { get; init; }
}

public sealed record UnitRetyped : UnitEvent
{
    public required string Type { get; init; }
}

/// <summary>The unit hangs under another parent (null: it becomes a root).</summary>
public sealed record UnitMoved : UnitEvent
{
    public string? ParentId { get; init; }
}

/// <summary>The unit ends on <see cref="UnitEvent.EffectiveFrom"/>: <see cref="Into"/> succeeds it, and its figures may be carried forward.</summary>
public sealed record UnitMerged : UnitEvent
{
    public required string Into { get; init; }
}

/// <summary>The unit ends, divided between <see cref="Into"/>: its figures are never guessed into one of them.</summary>
public sealed record UnitSplit : UnitEvent
{
    public required IReadOnlyList<string> Into { get; init; }
}

/// <summary>The unit ends without a successor; its children move to <see cref="ChildrenTo"/> (their own move events).</summary>
public sealed record UnitDissolved : UnitEvent
{
    public string? ChildrenTo { get; init; }
}

/// <summary>The stable names the unit events are stored under (mt_events.type), and each unit's stream id.</summary>
public static class UnitEventTypes
{
    public const string EstablishedChange = "established", RenamedChange = "renamed", RetypedChange = "retyped", MovedChange = "moved",
        MergedChange = "merged", SplitChange = "split", DissolvedChange = "dissolved";

    static readonly (Type Type, string Change)[] Entries =
    [
        (typeof(UnitEstablished), EstablishedChange), (typeof(UnitRenamed), RenamedChange), (typeof(UnitRetyped), RetypedChange),
        (typeof(UnitMoved), MovedChange), (typeof(UnitMerged), MergedChange), (typeof(UnitSplit), SplitChange), (typeof(UnitDissolved), DissolvedChange),
    ];

    /// <summary>Every stored type name, <c>unit-established</c> and so on.</summary>
    public static readonly IReadOnlyList<string> All = Entries.Select(e => "unit-" + e.Change).ToArray();

    public static string ChangeOf(UnitEvent e) => Entries.First(x => x.Type == e.GetType()).Change;

    public static void Map(StoreOptions options)
    {
        foreach (var (type, change) in Entries) options.Events.MapEventType(type, "unit-" + change);
    }

    /// <summary>A unit's stream id: a name-based UUID (version 3 layout) of its slug, the same on every instance and forever.</summary>
    public static Guid StreamIdOf(string unitId)
    {
        var hash = MD5.HashData(Encoding.UTF8.GetBytes("coordination-events/unit/" + unitId));
        hash[6] = (byte)((hash[6] & 0x0F) | 0x30);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash, bigEndian: true);
    }
}

/// <summary>
/// One unit's events as a Marten document (<c>mt_doc_unitrecord</c>), kept inline with the events (the Units feature
/// registers the projection), so that the whole organisation's history is one small read.
/// </summary>
public sealed record UnitRecord
{
    public Guid Id { get; init; }
    public string UnitId { get; init; } = "";
    public IReadOnlyList<UnitEvent> Changes { get; init; } = [];

    public const string TableName = "mt_doc_unitrecord";

    public UnitRecord With(UnitEvent e) => this with { UnitId = e.UnitId, Changes = [.. Changes, e] };
}

// ---- The folded history ----

/// <summary>How a unit ended, if it did.</summary>
public static class UnitEndings
{
    public const string Merged = UnitEventTypes.MergedChange, Split = UnitEventTypes.SplitChange, Dissolved = UnitEventTypes.DissolvedChange;
}

/// <summary>A value that changes over dates: the value from each date on (DateOnly.MinValue: from the beginning).</summary>
public sealed class Timeline<T>
{
    readonly SortedList<DateOnly, T> values = new();

    public void Set(DateOnly? from, T value)
    {
        if (from is null) values.Clear();
        values[from ?? DateOnly.MinValue] = value;
    }

    public T On(DateOnly day)
    {
        var keys = values.Keys;
        int lo = 0, hi = keys.Count - 1, found = 0;
        while (lo <= hi)
        {
            var mid = (lo + hi) / 2;
            if (keys[mid] <= day) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        return values.Values[found];
    }

    public IEnumerable<DateOnly> Dates => values.Keys.Where(d => d != DateOnly.MinValue);
}

/// <summary>
/// One unit's life: from <see cref="ValidFrom"/> (null: always) up to, not including, <see cref="Until"/> (null:
/// it lasts), with its name, type and parent on each day.
/// </summary>
public sealed class UnitLife
{
    public required string UnitId { get; init; }
    public DateOnly? ValidFrom { get; internal set; }
    /// <summary>The first day it no longer exists (the effective date of its merge, split or dissolution).</summary>
    public DateOnly? Until { get; internal set; }
    /// <summary>The last day it existed, as the API answers it.</summary>
    public DateOnly? ValidTo => Until?.AddDays(-1);
    public string? Ending { get; internal set; }
    public IReadOnlyList<string> Successors { get; internal set; } = [];
    public Timeline<string> Name { get; } = new();
    public Timeline<string> Type { get; } = new();
    public Timeline<string?> Parent { get; } = new();
    public List<UnitEvent> Changes { get; } = [];

    public bool ExistsOn(DateOnly day) => (ValidFrom is null || day >= ValidFrom) && (Until is null || day < Until);

    /// <summary>The last day the unit existed on or before <paramref name="day"/> (or its first day, if it began after).</summary>
    public DateOnly Clamp(DateOnly day) =>
        Until is { } until && day >= until ? until.AddDays(-1) : ValidFrom is { } from && day < from ? from : day;

    /// <summary>The unit as it was on a day (clamped to its life).</summary>
    public Unit On(DateOnly day)
    {
        var d = Clamp(day);
        return new Unit(UnitId, Name.On(d), Type.On(d), Parent.On(d));
    }
}

/// <summary>A predecessor of a unit: one that merged or was split into it, and the first day it no longer existed.</summary>
public sealed record UnitLink(string UnitId, string How, DateOnly Until);

/// <summary>A span of days over which <see cref="Ancestor"/> counts an activity of <see cref="UnitId"/> (the unit itself among them).</summary>
public readonly record struct AncestrySpan(string UnitId, string Ancestor, DateOnly From, DateOnly Until);

/// <summary>
/// The whole organisation over time, folded from the unit events: the tree on any day, each unit's life, and where
/// an activity of a unit on a day counts. Immutable; <see cref="UnitDirectory"/> caches it.
/// </summary>
public sealed class UnitHistory
{
    readonly Dictionary<string, UnitLife> lives = new(StringComparer.Ordinal);
    readonly Dictionary<string, List<UnitLink>> predecessors = new(StringComparer.Ordinal);
    readonly DateOnly[] changeDates;
    readonly UnitTree?[] trees;

    public UnitHistory(IEnumerable<UnitRecord> records, DateOnly today)
    {
        Today = today;
        foreach (var record in records)
        foreach (var e in record.Changes)
            Apply(e);
        foreach (var life in lives.Values)
            if (life.Until is { } until)
                foreach (var s in life.Successors)
                {
                    if (!predecessors.TryGetValue(s, out var list)) predecessors[s] = list = [];
                    list.Add(new UnitLink(life.UnitId, life.Ending!, until));
                }
        changeDates = lives.Values.SelectMany(l => l.Name.Dates.Concat(l.Type.Dates).Concat(l.Parent.Dates)
                .Concat(l.ValidFrom is { } f ? [f] : []).Concat(l.Until is { } u ? [u] : []))
            .Distinct().Order().ToArray();
        trees = new UnitTree?[changeDates.Length + 1];
    }

    /// <summary>Today in Vietnam, when the history was read.</summary>
    public DateOnly Today { get; }

    /// <summary>The tree today.</summary>
    public UnitTree Current => TreeOn(Today);

    public IReadOnlyCollection<UnitLife> Lives => lives.Values;

    /// <summary>The days on which the tree changes, in order.</summary>
    public IReadOnlyList<DateOnly> ChangeDates => changeDates;

    public UnitLife? Life(string unitId) => lives.GetValueOrDefault(unitId);

    public bool Knows(string unitId) => lives.ContainsKey(unitId);

    public bool ExistsOn(string unitId, DateOnly day) => Life(unitId)?.ExistsOn(day) == true;

    /// <summary>The units that merged or were split into this one, directly.</summary>
    public IReadOnlyList<UnitLink> PredecessorsOf(string unitId) => predecessors.TryGetValue(unitId, out var list) ? list : [];

    /// <summary>The tree on a day: the units that exist on it, each with its name, type and parent of that day.</summary>
    public UnitTree TreeOn(DateOnly day)
    {
        var index = IntervalOf(day);
        return trees[index] ??= Build(index == 0 ? DateOnly.MinValue : changeDates[index - 1]);
    }

    UnitTree Build(DateOnly day) => new(lives.Values.Where(l => l.ExistsOn(day)).Select(l => l.On(day)));

    int IntervalOf(DateOnly day)
    {
        int lo = 0, hi = changeDates.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (changeDates[mid] <= day) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    /// <summary>
    /// Where an activity of <paramref name="unitId"/> on <paramref name="day"/> counts (organisation.md, "as it was"):
    /// its unit and the ancestors that unit had on that day. A unit that had merged by then counts as its successor
    /// (a reorganisation recorded after the activity); one that was split or dissolved keeps it, with the ancestors
    /// of its last day. An unknown unit counts for itself alone.
    /// </summary>
    public IEnumerable<string> HoldersOn(string unitId, DateOnly day)
    {
        var (holder, on) = HolderOn(unitId, day);
        return holder is null ? [unitId] : TreeOn(on).SelfAndAncestors(holder);
    }

    /// <summary>The unit that holds an activity of <paramref name="unitId"/> on <paramref name="day"/>, and the day whose tree places it.</summary>
    public (string? UnitId, DateOnly Day) HolderOn(string unitId, DateOnly day)
    {
        var life = Life(unitId);
        for (var hops = 0; life is not null && hops < 64; hops++)
        {
            if (life.Until is { } until && day >= until)
            {
                if (life.Ending == UnitEndings.Merged && life.Successors.Count == 1 && Life(life.Successors[0]) is { } next)
                {
                    life = next;
                    continue;
                }
                return (life.UnitId, until.AddDays(-1));
            }
            return (life.UnitId, life.Clamp(day));
        }
        return (null, day);
    }

    /// <summary>
    /// Every unit's holders over all time as spans of days (<see cref="HoldersOn"/> for each day of each span), for
    /// set-based SQL: a few rows per unit, since the tree changes on few days.
    /// </summary>
    public IReadOnlyList<AncestrySpan> Ancestry()
    {
        var spans = new List<AncestrySpan>();
        var bounds = new List<DateOnly> { DateOnly.MinValue };
        bounds.AddRange(changeDates);
        bounds.Add(DateOnly.MaxValue);
        foreach (var unit in lives.Keys)
        {
            string[]? chain = null;
            var from = DateOnly.MinValue;
            for (var i = 0; i < bounds.Count - 1; i++)
            {
                var next = HoldersOn(unit, bounds[i]).ToArray();
                if (chain is not null && !chain.SequenceEqual(next))
                {
                    spans.AddRange(chain.Select(a => new AncestrySpan(unit, a, from, bounds[i])));
                    from = bounds[i];
                }
                chain = next;
            }
            spans.AddRange(chain!.Select(a => new AncestrySpan(unit, a, from, DateOnly.MaxValue)));
        }
        return spans;
    }

    /// <summary>
    /// The units whose figures a unit carries forward (<c>lineage=true</c>): those merged into it, or into one of
    /// them, each up to the day it ended; and, never carried, those split into it.
    /// </summary>
    public (IReadOnlyList<UnitLink> Carried, IReadOnlyList<UnitLink> NotCarried) LineageOf(string unitId)
    {
        var carried = new List<UnitLink>();
        var notCarried = new List<UnitLink>();
        var seen = new HashSet<string>(StringComparer.Ordinal) { unitId };
        var queue = new Queue<string>([unitId]);
        while (queue.TryDequeue(out var id))
            foreach (var link in PredecessorsOf(id))
            {
                if (!seen.Add(link.UnitId)) continue;
                if (link.How == UnitEndings.Merged)
                {
                    carried.Add(link);
                    queue.Enqueue(link.UnitId);
                }
                else notCarried.Add(link);
            }
        return (carried, notCarried);
    }

    void Apply(UnitEvent e)
    {
        if (!lives.TryGetValue(e.UnitId, out var life))
            lives[e.UnitId] = life = new UnitLife { UnitId = e.UnitId };
        life.Changes.Add(e);
        switch (e)
        {
            case UnitEstablished x:
                life.ValidFrom = x.EffectiveFrom;
                life.Name.Set(null, x.Name);
                life.Type.Set(null, x.Type);
                life.Parent.Set(null, x.ParentId);
                break;
            case UnitRenamed x:
                life.Name.Set(x.EffectiveFrom, x.Name);
                break;
            case UnitRetyped x:
                life.Type.Set(x.EffectiveFrom, x.Type);
                break;
            case UnitMoved x:
                life.Parent.Set(x.EffectiveFrom, x.ParentId);
                break;
            case UnitMerged x:
                (life.Until, life.Ending, life.Successors) = (x.EffectiveFrom, UnitEndings.Merged, [x.Into]);
                break;
            case UnitSplit x:
                (life.Until, life.Ending, life.Successors) = (x.EffectiveFrom, UnitEndings.Split, x.Into);
                break;
            case UnitDissolved x:
                (life.Until, life.Ending, life.Successors) = (x.EffectiveFrom, UnitEndings.Dissolved, []);
                break;
        }
    }
}
