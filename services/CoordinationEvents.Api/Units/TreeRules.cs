using CoordinationEvents.Api.Core;

namespace CoordinationEvents.Api.Units;

/// <summary>A break of the tree's rules on one day: the unit, the day, what is wrong, and the parent it had.</summary>
public sealed record TreeViolation(string UnitId, DateOnly Day, string Kind, string? ParentId, string Message)
{
    public const string MissingParent = "missing-parent", ParentGone = "parent-gone", WrongParentType = "wrong-parent-type",
        NeedsParent = "needs-parent", Cycle = "cycle";
}

/// <summary>
/// The rules of the tree over time (organisation.md; the one checker of every organisation write: a new unit, a
/// PUT, a reorganisation). On every day, each unit's parent exists that day and is of a type that may hold it,
/// and no unit is its own ancestor. A change is checked by folding it into the history in memory and looking at
/// every day it can affect: the tree on its first day and on each later day on which the tree changes.
/// </summary>
public static class TreeRules
{
    /// <summary>The types of parent each type may hang under (empty: a root). Both shapes hold on any date.</summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> AllowedParents = new Dictionary<string, IReadOnlyList<string>>
    {
        [UnitTypes.Province] = [],
        [UnitTypes.City] = [],
        [UnitTypes.District] = [UnitTypes.Province, UnitTypes.City],
        [UnitTypes.Commune] = [UnitTypes.District, UnitTypes.Province, UnitTypes.City],
        [UnitTypes.Ward] = [UnitTypes.District, UnitTypes.Province, UnitTypes.City],
        [UnitTypes.BorderGuardCommand] = [UnitTypes.Province, UnitTypes.City],
        [UnitTypes.BorderPost] = [UnitTypes.District, UnitTypes.BorderGuardCommand, UnitTypes.Province, UnitTypes.City],
    };

    static string Article(string type) => type.Length > 0 && "aeiou".Contains(type[0]) ? "an" : "a";

    /// <summary>Where a unit of the type may hang, in words.</summary>
    public static string PlaceOf(string type) => AllowedParents.TryGetValue(type, out var parents) && parents.Count > 0
        ? $"{Article(type)} {type} belongs under {string.Join(" or ", parents.Select(p => Article(p) + " " + p))}"
        : $"{Article(type)} {type} has no parent";

    /// <summary>The days to look at: <paramref name="from"/> (null: the beginning) and every later day on which the tree changes.</summary>
    public static IEnumerable<DateOnly> DaysFrom(UnitHistory history, DateOnly? from)
    {
        var first = from ?? DateOnly.MinValue;
        yield return first;
        foreach (var d in history.ChangeDates)
            if (d > first) yield return d;
    }

    /// <summary>Every break of the rules on the days from <paramref name="from"/> on, at most one of each kind per unit (its first day).</summary>
    public static IReadOnlyList<TreeViolation> Check(UnitHistory history, DateOnly? from)
    {
        var found = new Dictionary<(string, string, string?), TreeViolation>();
        foreach (var day in DaysFrom(history, from))
            foreach (var v in CheckDay(history, history.TreeOn(day), day))
                found.TryAdd((v.UnitId, v.Kind, v.ParentId), v);
        return found.Values.ToList();
    }

    /// <summary>
    /// The breaks that <paramref name="candidate"/> (the history with a change folded in) has and <paramref name="before"/>
    /// did not: a change answers for what it breaks, not for what was already there.
    /// </summary>
    public static IReadOnlyList<TreeViolation> NewViolations(UnitHistory before, UnitHistory candidate, DateOnly? from)
    {
        var after = Check(candidate, from);
        if (after.Count == 0) return after;
        var old = Check(before, from).Select(v => (v.UnitId, v.Kind, v.ParentId)).ToHashSet();
        return after.Where(v => !old.Contains((v.UnitId, v.Kind, v.ParentId))).ToList();
    }

    static IEnumerable<TreeViolation> CheckDay(UnitHistory history, UnitTree tree, DateOnly day)
    {
        var when = day == DateOnly.MinValue ? "from the beginning" : "on " + VietnamCalendar.Iso(day);
        foreach (var unit in tree.All)
        {
            var allowed = AllowedParents.TryGetValue(unit.Type, out var a) ? a : [];
            if (unit.ParentId is null)
            {
                if (allowed.Count > 0)
                    yield return new(unit.UnitId, day, TreeViolation.NeedsParent, null, $"'{unit.UnitId}' needs a parent {when}: {PlaceOf(unit.Type)}.");
                continue;
            }
            var parent = tree.Find(unit.ParentId);
            if (parent is null)
            {
                var life = history.Life(unit.ParentId);
                if (life is null)
                    yield return new(unit.UnitId, day, TreeViolation.MissingParent, unit.ParentId, $"Unknown unit '{unit.ParentId}' (the parent of '{unit.UnitId}').");
                else if (life.Until is { } until && day >= until)
                    yield return new(unit.UnitId, day, TreeViolation.ParentGone, unit.ParentId,
                        $"'{unit.UnitId}' would still be under '{unit.ParentId}' {when}, after '{unit.ParentId}' ended ({life.Ending} from {VietnamCalendar.Iso(until)}): move it first, or name where its children go.");
                else
                    yield return new(unit.UnitId, day, TreeViolation.MissingParent, unit.ParentId,
                        $"'{unit.ParentId}' does not exist yet {when} (it begins on {(life.ValidFrom is { } f ? VietnamCalendar.Iso(f) : "?")}), and '{unit.UnitId}' would be under it.");
                continue;
            }
            if (!allowed.Contains(parent.Type))
                yield return new(unit.UnitId, day, TreeViolation.WrongParentType, unit.ParentId,
                    allowed.Count == 0 ? $"'{unit.UnitId}' is a {unit.Type}: {PlaceOf(unit.Type)}, and it would be under '{parent.UnitId}' {when}."
                        : $"{PlaceOf(unit.Type)}, and '{parent.UnitId}' is {Article(parent.Type)} {parent.Type} {when} (the parent of '{unit.UnitId}').");
            // A cycle: walking up from the unit comes back to it.
            var seen = new HashSet<string>(StringComparer.Ordinal) { unit.UnitId };
            for (var p = parent; p is not null; p = p.ParentId is null ? null : tree.Find(p.ParentId))
                if (!seen.Add(p.UnitId))
                {
                    if (p.UnitId == unit.UnitId)
                        yield return new(unit.UnitId, day, TreeViolation.Cycle, unit.ParentId, $"'{unit.UnitId}' would be under itself {when} (a unit cannot move under itself or its own subtree).");
                    break;
                }
        }
    }

    /// <summary>The history with more events folded in (checked before anything is stored).</summary>
    public static UnitHistory With(UnitHistory history, IEnumerable<UnitEvent> events)
    {
        var byUnit = history.Lives.ToDictionary(l => l.UnitId, l => new UnitRecord { Id = UnitEventTypes.StreamIdOf(l.UnitId), UnitId = l.UnitId, Changes = l.Changes.ToList() }, StringComparer.Ordinal);
        foreach (var e in events)
            byUnit[e.UnitId] = (byUnit.TryGetValue(e.UnitId, out var r) ? r : new UnitRecord { Id = UnitEventTypes.StreamIdOf(e.UnitId) }).With(e);
        return new UnitHistory(byUnit.Values, history.Today);
    }
}
