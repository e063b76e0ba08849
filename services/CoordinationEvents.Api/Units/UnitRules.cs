using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CoordinationEvents.Api.Units;

/// <summary>
/// A unit as an administrator sends it, checked as it will be stored (trimmed, NFC). On PUT the id may be left
/// out: the URL gives it.
/// </summary>
public sealed class UnitRequestValidator : AbstractValidator<UnitRequest>
{
    public UnitRequestValidator()
    {
        RuleFor(u => u.UnitId).Custom((id, context) =>
        {
            var slug = id?.Trim();
            if (string.IsNullOrEmpty(slug))
            {
                if (id is not null || !IsUpdate(context)) context.AddFailure("unitId", "'unitId' is required: a lowercase slug such as 'phong-tho'.");
            }
            else if (slug.Length > 64 || !System.Text.RegularExpressions.Regex.IsMatch(slug, "^[a-z0-9]+(-[a-z0-9]+)*$"))
                context.AddFailure("unitId", "'unitId' must be a lowercase slug such as 'phong-tho'.");
        });
        RuleFor(u => u.Name).Must(n => Text.IsStorable(n)).WithMessage(Text.NotStorable("name")).OverridePropertyName("name");
        RuleFor(u => Text.Clean(u.Name)).NotEmpty().WithMessage("'name' is required.")
            .MaximumLength(200).WithMessage("'name' must be at most 200 characters.").OverridePropertyName("name");
        RuleFor(u => Text.Clean(u.Type)).Must(t => t is not null && UnitTypes.All.Contains(t))
            .WithMessage($"'type' must be one of: {string.Join(", ", UnitTypes.All)}.").OverridePropertyName("type");
        RuleFor(u => u.ValidFrom).Custom((day, context) =>
        {
            if (day is null) return;
            if (IsUpdate(context)) context.AddFailure("validFrom", "A PUT changes a unit from 'effectiveFrom'; 'validFrom' is the first day of a new unit (POST).");
            else if (!UnitRules.IsPlausible(day.Value)) context.AddFailure("validFrom", UnitRules.ImplausibleDate("validFrom"));
        });
        RuleFor(u => u.EffectiveFrom).Custom((day, context) =>
        {
            if (day is null) return;
            if (!IsUpdate(context)) context.AddFailure("effectiveFrom", "A new unit begins on 'validFrom'; 'effectiveFrom' is the first day of a change (PUT).");
            else if (!UnitRules.IsPlausible(day.Value)) context.AddFailure("effectiveFrom", UnitRules.ImplausibleDate("effectiveFrom"));
        });
    }

    static bool IsUpdate(ValidationContext<UnitRequest> context) =>
        context.RootContextData.TryGetValue(FluentValidationPolicy.HttpContextKey, out var http)
        && HttpMethods.IsPut(((HttpContext)http).Request.Method);
}

/// <summary>The rules that the create and update use cases share: the stored form of a request, the tree checked over the days a change affects, the answers.</summary>
public static class UnitRules
{
    /// <summary>
    /// The units whose figures a change from <paramref name="from"/> may move: the touched units, and every unit that held
    /// one of them on a day from then on, as the history was before the change. A later change of the same attribute
    /// on the same day replaces the earlier one, so the old holders are named here, or the restatement would not see them.
    /// </summary>
    public static string[] Restated(UnitHistory before, IEnumerable<string> touched, DateOnly? from)
    {
        var units = touched.ToHashSet(StringComparer.Ordinal);
        var first = from ?? DateOnly.MinValue;
        return units.Concat(before.Ancestry().Where(s => units.Contains(s.UnitId) && s.Until > first).Select(s => s.Ancestor))
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
    }

    public static UnitRequest Normalize(UnitRequest u) => u with
    {
        UnitId = u.UnitId?.Trim(),
        Name = Text.IsStorable(u.Name) ? Text.Clean(u.Name) : u.Name,   // text that cannot be stored is the validator's to refuse
        Type = u.Type?.Trim(),
        ParentId = string.IsNullOrWhiteSpace(u.ParentId) ? null : u.ParentId.Trim(),
    };

    /// <summary>The first and last years a date of the organisation may have (a guard against typos such as 0202-07-01).</summary>
    public const int FirstYear = 1900, LastYear = 2199;

    public static bool IsPlausible(DateOnly day) => day.Year is >= FirstYear and <= LastYear;

    public static string ImplausibleDate(string field) => $"'{field}' must be a date between {FirstYear} and {LastYear}.";

    /// <summary>
    /// Folds <paramref name="events"/> (the change of <paramref name="unitId"/>) into the history in memory and checks the
    /// tree on every day from <paramref name="from"/> on (<see cref="TreeRules"/>); a break is a 400 keyed <c>parentId</c>,
    /// or <c>type</c> when it is the unit's new type that its parent or its children cannot take.
    /// </summary>
    public static void CheckTree(UnitHistory history, string unitId, IReadOnlyList<UnitEvent> events, DateOnly? from)
    {
        var candidate = TreeRules.With(history, events);
        var broken = TreeRules.NewViolations(history, candidate, from);
        if (broken.Count == 0) return;
        var retyped = events.Any(e => e is UnitRetyped);
        var moved = events.Any(e => e is UnitMoved or UnitEstablished);
        var errors = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var v in broken)
        {
            var key = v.UnitId == unitId
                ? (retyped && !moved && v.Kind is TreeViolation.WrongParentType or TreeViolation.NeedsParent ? "type" : "parentId")
                : retyped ? "type" : "parentId";
            if (!errors.TryGetValue(key, out var list)) errors[key] = list = [];
            if (!list.Contains(v.Message)) list.Add(v.Message);
        }
        throw new InputException(errors.ToDictionary(e => e.Key, e => e.Value.ToArray()));
    }

    /// <summary>The 409 of a change to a unit that has ended: it takes no more changes.</summary>
    public static ProblemException Ended(UnitHistory history, UnitLife life) =>
        new(409, "Unit ended", $"Unit '{life.UnitId}' ended on {VietnamCalendar.Iso(life.Until!.Value)} ({Ending(history, life)}): it takes no more changes from then on. A change dated before its end needs effectiveFrom.");

    static string Ending(UnitHistory history, UnitLife life) => life.Ending switch
    {
        UnitEndings.Merged => $"merged into '{life.Successors.FirstOrDefault()}'",
        UnitEndings.Split => $"split into {string.Join(", ", life.Successors.Select(s => "'" + s + "'"))}",
        _ => "dissolved",
    };

    public static string EndedWords(UnitHistory history, UnitLife life) => Ending(history, life);

    /// <summary>A unit as it is on <paramref name="day"/> (clamped to its life), with its dates, predecessors and successors.</summary>
    public static UnitResponse ToResponse(UnitHistory history, UnitLife life, DateOnly day)
    {
        var u = life.On(day);
        return new UnitResponse(u.UnitId, u.Name, u.Type, u.ParentId)
        {
            ValidFrom = life.ValidFrom, ValidTo = life.ValidTo, Ending = life.Ending,
            Predecessors = history.PredecessorsOf(life.UnitId)
                .Select(p => new UnitLinkResponse(p.UnitId, history.Life(p.UnitId)?.On(p.Until.AddDays(-1)).Name ?? p.UnitId, p.How, p.Until))
                .OrderBy(p => p.EffectiveFrom).ThenBy(p => p.UnitId, StringComparer.Ordinal).ToArray(),
            Successors = SuccessorsOf(history, life),
        };
    }

    public static IReadOnlyList<UnitLinkResponse> SuccessorsOf(UnitHistory history, UnitLife life) =>
        life.Until is not { } until ? [] : life.Successors
            .Select(s => new UnitLinkResponse(s, history.Life(s)?.On(until).Name ?? s, life.Ending!, until)).ToArray();

    public static ProblemHttpResult NotFound(string unitId) =>
        TypedResults.Problem($"Unit '{unitId}' does not exist.", statusCode: 404, title: "Not found");
}
