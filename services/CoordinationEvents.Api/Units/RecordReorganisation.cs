using System.Text.Json;
using System.Text.RegularExpressions;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;
using Wolverine;
using Wolverine.Http;

namespace CoordinationEvents.Api.Units;

/// <summary>
/// <c>POST /api/v1/reorganisations</c> (admin): one decision, many changes of units on one date, all or nothing
/// (organisation.md). The body is read and normalized (<see cref="ReorganisationPlan.Read"/>); under the
/// organisation's lock, the same id with the same body is answered 200 and changes nothing, with another body 409;
/// otherwise each change becomes unit events dated <c>effectiveFrom</c>, checked against the history and then, folded
/// into it in memory, against the tree's rules on every day from that date on (<see cref="TreeRules"/>). Any error
/// is a 400 keyed <c>changes[i].field</c>, and nothing is stored.
/// </summary>
public static class RecordReorganisationEndpoint
{
    public const string Example = """
        {
          "reorganisationId": "nq-1670-ubtvqh15-lai-chau",
          "title": "Nghị quyết 1670/NQ-UBTVQH15",
          "effectiveFrom": "2025-07-01",
          "changes": [
            { "op": "establish", "unitId": "khong-lao", "name": "Khổng Lào", "type": "commune", "parentId": "lai-chau" },
            { "op": "merge", "unitIds": ["hoang-then", "ban-lang"], "into": "khong-lao" },
            { "op": "establish", "unitId": "bch-bdbp-lai-chau", "name": "Ban Chỉ huy Bộ đội Biên phòng tỉnh Lai Châu", "type": "border-guard-command", "parentId": "lai-chau" },
            { "op": "move", "unitId": "don-ma-lu-thang", "parentId": "bch-bdbp-lai-chau" },
            { "op": "dissolve", "unitId": "phong-tho", "childrenTo": "lai-chau" }
          ]
        }
        """;

    /// <summary>The units an event touches: its own, and the one it names (a parent, a successor, where children go).</summary>
    static IEnumerable<string?> Touched(UnitEvent e) => e switch
    {
        UnitEstablished x => [x.UnitId, x.ParentId],
        UnitMoved x => [x.UnitId, x.ParentId],
        UnitMerged x => [x.UnitId, x.Into],
        UnitSplit x => [x.UnitId, .. x.Into],
        UnitDissolved x => [x.UnitId, x.ChildrenTo],
        _ => [e.UnitId],
    };

    [WolverinePost("/api/v1/reorganisations", Name = "RecordReorganisation"), Authorize(Policy = Policies.Admin), Tags("Units")]
    [EndpointSummary("Record a reorganisation: many changes of units (establish, rename, move, merge, split, dissolve) that take effect together on effectiveFrom, or not at all. 201 the first time; the same body again under the same id: 200, nothing changes; another body under that id: 409.")]
    [EndpointDescription("Changes: {op: establish, unitId, name, type, parentId}, {op: rename, unitId, name}, {op: move, unitId, parentId}, {op: merge, unitIds: [...], into} (the units end and `into` succeeds them; `into` may be established in the same reorganisation, or be one of them, which then continues), {op: split, unitId, into: [...]}, {op: dissolve, unitId, childrenTo} (its children move to childrenTo that day). Every error is keyed by the change, as `changes[3].into`. Example (Lai Châu, 2025-07-01; the merger of Hoang Thèn and Bản Lang into Khổng Lào is that of Nghị quyết 1670/NQ-UBTVQH15): " + Example)]
    [ProducesResponseType<ProblemDetails>(409, "application/problem+json")]
    public static async Task<Results<Created<ReorganisationResponse>, Ok<ReorganisationResponse>>> Post(ReorganisationRequest request, System.Security.Claims.ClaimsPrincipal user, IDocumentSession session, IMessageBus bus,
        UnitDirectory directory, NpgsqlDataSource db, TimeProvider clock, CancellationToken ct)
    {
        var plan = ReorganisationPlan.Read(request);
        var history = await UnitsFeature.LockAsync(session, clock, ct);

        // The same id again: the same body is the same decision (200, nothing appended); another body is a conflict.
        if (await Reorganisations.FindAsync(session, plan.Id, ct) is { } recorded)
        {
            if (recorded.Hash != plan.Hash)
                throw new ProblemException(409, "Reorganisation exists",
                    $"Reorganisation '{plan.Id}' was recorded on {recorded.RecordedAt:yyyy-MM-dd} with another body ('{recorded.Title}', from {VietnamCalendar.Iso(recorded.EffectiveFrom)}). A reorganisation is never changed: record the correction as a reorganisation of its own.");
            var done = await OrganisationRestates.DoneAsync(db, [OrganisationRestates.ChangeIdOfReorganisation(plan.Id)], ct);
            return TypedResults.Ok(Reorganisations.ToResponse(recorded, done.Count > 0));
        }

        var (by, now) = (Caller.From(user).Client, clock.GetUtcNow());
        var events = plan.Apply(history, now, by);

        var units = events.SelectMany(Touched)
            .OfType<string>().Distinct().Order(StringComparer.Ordinal).ToArray();
        var record = new ReorganisationRecorded
        {
            ReorganisationId = plan.Id, Title = plan.Title, EffectiveFrom = plan.EffectiveFrom, Changes = plan.Steps, Units = units,
            Hash = plan.Hash, RecordedAt = now, By = by,
        };

        // The unit events, the reorganisation's own stream, its audit row and its message commit together.
        foreach (var e in events)
        {
            var stream = UnitEventTypes.StreamIdOf(e.UnitId);
            if (e is UnitEstablished) session.Events.StartStream(stream, e);
            else session.Events.Append(stream, e);
        }
        session.Events.StartStream(Reorganisations.StreamIdOf(plan.Id), record);
        session.QueueSqlCommand(AuditTrail.QueuedInsertSql(Reorganisations.AuditSubject), by, Reorganisations.AuditAction, plan.Id,
            AuditTrail.Details(new { title = plan.Title, effectiveFrom = plan.EffectiveFrom, changes = plan.Steps.Count, units }));
        await bus.PublishAsync(new OrganisationChanged(OrganisationRestates.ChangeIdOfReorganisation(plan.Id), plan.EffectiveFrom, UnitRules.Restated(history, units, plan.EffectiveFrom)));
        await session.SaveChangesAsync(ct);
        await directory.ReloadAsync(ct);
        return TypedResults.Created($"/api/v1/reorganisations/{plan.Id}", Reorganisations.ToResponse(record, false));
    }
}

/// <summary>
/// A reorganisation's body, read, normalized and checked field by field (<see cref="Read"/>), then turned into unit
/// events against the history (<see cref="Apply"/>). Every error names its change: <c>changes[i].field</c>.
/// </summary>
public sealed partial class ReorganisationPlan
{
    public const string Establish = "establish", Rename = "rename", Move = "move", Merge = "merge", Split = "split", Dissolve = "dissolve";
    public static readonly IReadOnlyList<string> Ops = [Establish, Rename, Move, Merge, Split, Dissolve];
    public const int MaxChanges = 20_000, MaxTitle = 300, MaxName = 200;

    public required string Id { get; init; }
    public required string Title { get; init; }
    public DateOnly EffectiveFrom { get; init; }
    public required IReadOnlyList<ReorganisationStep> Steps { get; init; }
    public required string Hash { get; init; }

    [GeneratedRegex("^[a-z0-9]+(-[a-z0-9]+)*$")]
    private static partial Regex SlugPattern();

    static bool IsSlug(string? s) => s is { Length: > 0 and <= 64 } && SlugPattern().IsMatch(s);

    sealed class Errors
    {
        public readonly Dictionary<string, List<string>> All = new(StringComparer.Ordinal);

        public void Add(string key, string message)
        {
            if (!All.TryGetValue(key, out var list)) All[key] = list = [];
            if (!list.Contains(message)) list.Add(message);
        }

        public void ThrowIfAny()
        {
            if (All.Count > 0) throw new InputException(All.ToDictionary(e => e.Key, e => e.Value.ToArray()), "The reorganisation has invalid changes; none was applied.");
        }
    }

    /// <summary>The fields each op takes (the others must be absent).</summary>
    static readonly Dictionary<string, string[]> FieldsOf = new()
    {
        [Establish] = ["unitId", "name", "type", "parentId"],
        [Rename] = ["unitId", "name"],
        [Move] = ["unitId", "parentId"],
        [Merge] = ["unitIds", "into"],
        [Split] = ["unitId", "into"],
        [Dissolve] = ["unitId", "childrenTo"],
    };

    /// <summary>The body read and checked on its own (before the history is looked at): 400 with every error, or the plan.</summary>
    public static ReorganisationPlan Read(ReorganisationRequest request)
    {
        var errors = new Errors();
        var id = request.ReorganisationId?.Trim();
        if (string.IsNullOrEmpty(id)) errors.Add("reorganisationId", "'reorganisationId' is required: a lowercase slug such as 'nq-1670-ubtvqh15'.");
        else if (!IsSlug(id)) errors.Add("reorganisationId", "'reorganisationId' must be a lowercase slug (at most 64 characters) such as 'nq-1670-ubtvqh15'.");
        string? title = null;
        if (!Text.IsStorable(request.Title)) errors.Add("title", Text.NotStorable("title"));
        else
        {
            title = Text.Clean(request.Title);
            if (string.IsNullOrEmpty(title)) errors.Add("title", "'title' is required: the decision, such as 'Nghị quyết 1670/NQ-UBTVQH15'.");
            else if (title.Length > MaxTitle) errors.Add("title", $"'title' must be at most {MaxTitle} characters.");
        }
        if (request.EffectiveFrom is not { } day) errors.Add("effectiveFrom", "'effectiveFrom' is required: the day the changes take effect (YYYY-MM-DD).");
        else if (!UnitRules.IsPlausible(day)) errors.Add("effectiveFrom", UnitRules.ImplausibleDate("effectiveFrom"));
        var steps = new List<ReorganisationStep>();
        if (request.Changes is not { Count: > 0 } changes) errors.Add("changes", "'changes' is required: at least one change.");
        else if (changes.Count > MaxChanges) errors.Add("changes", $"At most {MaxChanges} changes in one reorganisation.");
        else
            for (var i = 0; i < changes.Count; i++)
                if (ReadStep(changes[i], $"changes[{i}].", errors) is { } step) steps.Add(step);
        errors.ThrowIfAny();
        return new ReorganisationPlan
        {
            Id = id!, Title = title!, EffectiveFrom = request.EffectiveFrom!.Value, Steps = steps,
            Hash = Reorganisations.HashOf(title!, request.EffectiveFrom!.Value, steps),
        };
    }

    static ReorganisationStep? ReadStep(ReorganisationChange? change, string at, Errors errors)
    {
        if (change is null)
        {
            errors.Add(at.TrimEnd('.'), "A change must be an object with an 'op'.");
            return null;
        }
        var op = change.Op?.Trim();
        if (string.IsNullOrEmpty(op) || !FieldsOf.TryGetValue(op, out var fields))
        {
            errors.Add(at + "op", $"'op' must be one of: {string.Join(", ", Ops)}.");
            return null;
        }
        var given = new (string Field, bool Present)[]
        {
            ("unitId", change.UnitId is not null), ("unitIds", change.UnitIds is not null), ("name", change.Name is not null),
            ("type", change.Type is not null), ("parentId", change.ParentId is not null),
            ("into", change.Into is { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined }), ("childrenTo", change.ChildrenTo is not null),
        };
        foreach (var (field, present) in given)
            if (present && !fields.Contains(field)) errors.Add(at + field, $"'{field}' is not a field of a {op} (it takes {string.Join(", ", fields)}).");

        string? Slug(string? value, string field, bool required)
        {
            var s = string.IsNullOrWhiteSpace(value) ? null : value.Trim();
            if (s is null)
            {
                if (required) errors.Add(at + field, $"'{field}' is required for a {op}: a unit id such as 'phong-tho'.");
                return null;
            }
            if (!IsSlug(s)) errors.Add(at + field, $"'{field}' must be a unit id: a lowercase slug such as 'phong-tho'.");
            return s;
        }
        IReadOnlyList<string>? Slugs(IReadOnlyList<string>? values, string field, int min)
        {
            if (values is null || values.Count < min)
            {
                errors.Add(at + field, $"'{field}' of a {op} must list at least {min} unit id{(min > 1 ? "s" : "")}.");
                return null;
            }
            var list = values.Select(v => v?.Trim() ?? "").ToArray();
            foreach (var v in list)
                if (!IsSlug(v)) errors.Add(at + field, $"'{field}' must hold unit ids: lowercase slugs such as 'phong-tho'; '{v}' is not one.");
            if (list.Distinct(StringComparer.Ordinal).Count() < list.Length) errors.Add(at + field, $"'{field}' names a unit more than once.");
            return list;
        }
        string? Name()
        {
            if (!Text.IsStorable(change.Name)) { errors.Add(at + "name", Text.NotStorable("name")); return null; }
            var name = Text.Clean(change.Name);
            if (string.IsNullOrEmpty(name)) errors.Add(at + "name", $"'name' is required for a {op}.");
            else if (name.Length > MaxName) errors.Add(at + "name", $"'name' must be at most {MaxName} characters.");
            return name;
        }

        switch (op)
        {
            case Establish:
            {
                var type = change.Type?.Trim();
                if (type is null || !UnitTypes.All.Contains(type)) errors.Add(at + "type", $"'type' must be one of: {string.Join(", ", UnitTypes.All)}.");
                return new ReorganisationStep { Op = op, UnitId = Slug(change.UnitId, "unitId", true), Name = Name(), Type = type, ParentId = Slug(change.ParentId, "parentId", false) };
            }
            case Rename:
                return new ReorganisationStep { Op = op, UnitId = Slug(change.UnitId, "unitId", true), Name = Name() };
            case Move:
                return new ReorganisationStep { Op = op, UnitId = Slug(change.UnitId, "unitId", true), ParentId = Slug(change.ParentId, "parentId", false) };
            case Merge:
            {
                string? into = null;
                if (change.Into is { ValueKind: JsonValueKind.String } s && JsonInput.TryGetString(s, out var text)) into = Slug(text, "into", true);
                else errors.Add(at + "into", "'into' of a merge is the id of the unit that succeeds them (a string).");
                return new ReorganisationStep { Op = op, UnitIds = Slugs(change.UnitIds, "unitIds", 1), Into = into };
            }
            case Split:
            {
                IReadOnlyList<string>? into = null;
                if (change.Into is { ValueKind: JsonValueKind.Array } a)
                {
                    var items = a.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.String && JsonInput.TryGetString(x, out var t) ? t : "").ToArray();
                    into = Slugs(items, "into", 2);
                }
                else errors.Add(at + "into", "'into' of a split is the list of the units that succeed it (an array of at least 2 ids).");
                var unitId = Slug(change.UnitId, "unitId", true);
                if (unitId is not null && into?.Contains(unitId) == true) errors.Add(at + "into", "A unit cannot be split into itself.");
                return new ReorganisationStep { Op = op, UnitId = unitId, IntoUnits = into };
            }
            default:
                return new ReorganisationStep { Op = op, UnitId = Slug(change.UnitId, "unitId", true), ChildrenTo = Slug(change.ChildrenTo, "childrenTo", false) };
        }
    }

    /// <summary>
    /// The unit events of the plan on the history (all dated <see cref="EffectiveFrom"/>): every change checked against
    /// the units that exist that day (or are established by this reorganisation), then the tree, with the events folded
    /// in, on every day from then on. 400 with every error, keyed by change.
    /// </summary>
    public IReadOnlyList<UnitEvent> Apply(UnitHistory history, DateTimeOffset now, string by)
    {
        var day = EffectiveFrom;
        var on = VietnamCalendar.Iso(day);
        var errors = new Errors();
        string At(int i, string field) => $"changes[{i}].{field}";

        // What this reorganisation establishes and ends, wherever in the list: the changes hold together, on one day.
        var establishedAt = new Dictionary<string, int>(StringComparer.Ordinal);
        var endedAt = new Dictionary<string, (int Index, string Field)>(StringComparer.Ordinal);
        for (var i = 0; i < Steps.Count; i++)
        {
            var s = Steps[i];
            switch (s.Op)
            {
                case Establish:
                    if (history.Life(s.UnitId!) is { } known)
                        errors.Add(At(i, "unitId"), known.Until is null
                            ? $"A unit with id '{s.UnitId}' already exists: an established unit must be new."
                            : $"A unit with id '{s.UnitId}' existed until {VietnamCalendar.Iso(known.ValidTo!.Value)}: ids are never reused.");
                    else if (!establishedAt.TryAdd(s.UnitId!, i))
                        errors.Add(At(i, "unitId"), $"'{s.UnitId}' is established twice (changes[{establishedAt[s.UnitId!]}] too).");
                    break;
                case Merge:
                    foreach (var u in s.UnitIds!.Where(u => u != s.Into))
                        if (!endedAt.TryAdd(u, (i, "unitIds")))
                            errors.Add(At(i, "unitIds"), $"'{u}' already ends in changes[{endedAt[u].Index}] of this reorganisation.");
                    if (s.UnitIds!.All(u => u == s.Into)) errors.Add(At(i, "unitIds"), "A merge must end at least one unit other than 'into'.");
                    break;
                case Split or Dissolve:
                    if (!endedAt.TryAdd(s.UnitId!, (i, "unitId")))
                        errors.Add(At(i, "unitId"), $"'{s.UnitId}' already ends in changes[{endedAt[s.UnitId!].Index}] of this reorganisation.");
                    break;
            }
        }

        // A unit the change is about: it exists on the day (or is established by this reorganisation), and has not ended.
        bool Exists(int i, string field, string unitId, bool mayEndHere = false)
        {
            if (!establishedAt.ContainsKey(unitId))
            {
                var life = history.Life(unitId);
                if (life is null) { errors.Add(At(i, field), $"Unknown unit '{unitId}'."); return false; }
                if (life.Until is { } until && until <= day)
                {
                    errors.Add(At(i, field), $"'{unitId}' ended on {VietnamCalendar.Iso(until)} ({UnitRules.EndedWords(history, life)}): it takes no more changes on or after its end.");
                    return false;
                }
                if (life.ValidFrom is { } first && first > day)
                {
                    errors.Add(At(i, field), $"'{unitId}' does not exist on {on}: it begins on {VietnamCalendar.Iso(first)}.");
                    return false;
                }
            }
            if (!mayEndHere && endedAt.TryGetValue(unitId, out var end))
            {
                errors.Add(At(i, field), $"'{unitId}' ends on {on} in changes[{end.Index}] of this reorganisation: it takes no more changes, and cannot be a parent or successor.");
                return false;
            }
            return true;
        }
        // A unit the change ends: nothing of it may hold after its end.
        void Ends(int i, string field, string unitId)
        {
            if (!Exists(i, field, unitId, mayEndHere: true) || establishedAt.ContainsKey(unitId)) return;
            var life = history.Life(unitId)!;
            if (life.Until is { } until)
                errors.Add(At(i, field), $"'{unitId}' already ends on {VietnamCalendar.Iso(until)} ({UnitRules.EndedWords(history, life)}).");
            else if (life.Changes.Where(c => c.EffectiveFrom > day).Select(c => c.EffectiveFrom!.Value).Order().FirstOrDefault() is var later && later > day)
                errors.Add(At(i, field), $"'{unitId}' has changes from {VietnamCalendar.Iso(later)} on: it cannot end before them, on {on}.");
        }

        var events = new List<UnitEvent>();
        var parentSetBy = new Dictionary<string, string>(StringComparer.Ordinal);
        UnitEvent Dated(UnitEvent e) => e with { EffectiveFrom = day, RecordedAt = now, By = by, ReorganisationId = Id };
        // The units established first (a unit's stream begins with its establishment), then the other changes in order, the dissolutions last.
        foreach (var i in Enumerable.Range(0, Steps.Count).Where(i => Steps[i].Op == Establish))
        {
            var s = Steps[i];
            if (s.ParentId is not null) Exists(i, "parentId", s.ParentId);
            events.Add(Dated(new UnitEstablished { UnitId = s.UnitId!, Name = s.Name!, Type = s.Type!, ParentId = s.ParentId }));
            parentSetBy[s.UnitId!] = At(i, "parentId");
        }
        for (var i = 0; i < Steps.Count; i++)
        {
            var s = Steps[i];
            switch (s.Op)
            {
                case Rename:
                    if (Exists(i, "unitId", s.UnitId!)) events.Add(Dated(new UnitRenamed { UnitId = s.UnitId!, Name = s.Name! }));
                    break;
                case Move:
                    var moves = Exists(i, "unitId", s.UnitId!);
                    if (s.ParentId is not null) moves &= Exists(i, "parentId", s.ParentId);
                    if (!moves) break;
                    events.Add(Dated(new UnitMoved { UnitId = s.UnitId!, ParentId = s.ParentId }));
                    if (!parentSetBy.TryAdd(s.UnitId!, At(i, "parentId")))
                        errors.Add(At(i, "unitId"), $"'{s.UnitId}' is placed twice in this reorganisation ({parentSetBy[s.UnitId!]} too).");
                    break;
                case Merge:
                    if (!Exists(i, "into", s.Into!)) break;
                    foreach (var u in s.UnitIds!.Where(u => u != s.Into))
                    {
                        Ends(i, "unitIds", u);
                        events.Add(Dated(new UnitMerged { UnitId = u, Into = s.Into! }));
                    }
                    break;
                case Split:
                    Ends(i, "unitId", s.UnitId!);
                    foreach (var u in s.IntoUnits!) Exists(i, "into", u);
                    events.Add(Dated(new UnitSplit { UnitId = s.UnitId!, Into = s.IntoUnits! }));
                    break;
            }
        }
        errors.ThrowIfAny();

        // Each dissolved unit's children on the day (as the other changes leave them) move to childrenTo.
        var dissolutions = Enumerable.Range(0, Steps.Count).Where(i => Steps[i].Op == Dissolve).ToArray();
        if (dissolutions.Length > 0)
        {
            var tree = TreeRules.With(history, events).TreeOn(day);
            foreach (var i in dissolutions)
            {
                var s = Steps[i];
                Ends(i, "unitId", s.UnitId!);
                if (s.ChildrenTo is not null)
                {
                    if (s.ChildrenTo == s.UnitId) errors.Add(At(i, "childrenTo"), "A unit's children cannot move to the unit itself.");
                    else Exists(i, "childrenTo", s.ChildrenTo);
                }
                var children = tree.ChildrenOf(s.UnitId!).Where(c => !endedAt.ContainsKey(c.UnitId)).ToArray();
                events.Add(Dated(new UnitDissolved { UnitId = s.UnitId!, ChildrenTo = s.ChildrenTo }));
                if (children.Length > 0 && s.ChildrenTo is null)
                    errors.Add(At(i, "childrenTo"), $"'{s.UnitId}' still has children on {on} ({string.Join(", ", children.Take(10).Select(c => c.UnitId))}{(children.Length > 10 ? ", …" : "")}): name 'childrenTo', where they go, or move them in this reorganisation.");
                else if (s.ChildrenTo is not null)
                    foreach (var c in children)
                    {
                        events.Add(Dated(new UnitMoved { UnitId = c.UnitId, ParentId = s.ChildrenTo }));
                        parentSetBy.TryAdd(c.UnitId, At(i, "childrenTo"));
                    }
            }
        }

        // The tree with every change, on every day from the reorganisation's on.
        var candidate = TreeRules.With(history, events);
        foreach (var v in TreeRules.NewViolations(history, candidate, day))
        {
            var key = parentSetBy.TryGetValue(v.UnitId, out var placed) ? placed
                : v.ParentId is not null && endedAt.TryGetValue(v.ParentId, out var end) ? At(end.Index, Steps[end.Index].Op == Dissolve ? "childrenTo" : end.Field)
                : "changes";
            // (A dissolution without childrenTo has said already that its children are left.)
            if (key.EndsWith(".childrenTo", StringComparison.Ordinal) && errors.All.ContainsKey(key)) continue;
            errors.Add(key, v.Message);
        }
        errors.ThrowIfAny();
        return events;
    }
}
