using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;
using FluentValidation;
using FluentValidation.Results;

namespace CoordinationEvents.Api.Activities;

/// <summary>
/// The result of validating one activity: the normalized content, or every error keyed by the camelCase JSON
/// path of the field (<c>occurredOn</c>, <c>partnerUnitIds[2]</c>, <c>details.patrols</c>).
/// </summary>
public sealed record ValidationOutcome(ActivityContent? Content, IReadOnlyDictionary<string, string[]> Errors)
{
    [MemberNotNullWhen(true, nameof(Content))]
    public bool IsValid => Content is not null;
}

/// <summary>
/// Every rule of domain.md "What makes a record valid" but those of <c>details</c>, which
/// <see cref="KindDetailsRules"/> checks and normalizes in one pass. Built once and shared (FluentValidation
/// validators are thread-safe once built); the per-call units (a <see cref="UnitCalendar"/>) and today's date are its
/// inputs, in <see cref="IValidationContext.RootContextData"/> under <see cref="UnitsKey"/> and <see cref="TodayKey"/>;
/// use <see cref="ActivityRules.Check(ActivityRequest, UnitHistory, DateOnly, ActivityContent?)"/> rather than this class.
/// <para>The units are judged on the activity's <c>occurredOn</c> (organisation.md, "Posting"): <c>unitId</c>, each
/// partner and the location's commune must exist on that day (a unit that had ended: the error names its successors;
/// one not yet established: the day it starts), and the commune must be a commune or a ward in that day's tree.</para>
/// Strings are checked as they will be stored: NFC, trimmed.
/// <para>Choices beyond domain.md: a partner equal to <c>unitId</c> is an error (a unit does not coordinate
/// with itself; silently dropping it would hide a posting system's bug); repeated partners and markers are
/// accepted and de-duplicated; <c>details</c> absent or null means "no fields" (so the kind's dimensions are
/// reported missing as <c>details.&lt;name&gt;</c>, and a kind without dimensions needs no details); an empty
/// text field or <c>location.communeId</c> is left out; dates before <see cref="EarliestDate"/> are refused.</para>
/// </summary>
public sealed class ActivityRequestValidator : AbstractValidator<ActivityRequest>
{
    public const string UnitsKey = "units";
    public const string TodayKey = "today";

    public const int MaxExternalIdLength = 200;
    public const int MaxSummaryLength = 4_000;
    public const int MaxPlaceNameLength = 500;
    public const int MaxMarkers = 50;
    public const int MaxMarkerLength = 50;

    /// <summary>No activity is older than this; an earlier date is a posting system's default value (0001-01-01).</summary>
    public static readonly DateOnly EarliestDate = new(1900, 1, 1);

    static readonly string KindList = string.Join(", ", KindCatalog.All.Select(k => k.Name));

    public ActivityRequestValidator()
    {
        RuleLevelCascadeMode = CascadeMode.Stop;

        RuleFor(r => Text.Clean(r.ExternalId))
            .NotEmpty()
            .WithMessage($"'externalId' is required: the posting system's own id for the record, 1 to {MaxExternalIdLength} characters.")
            .Must((request, _) => Text.IsStorable(request.ExternalId))
            .WithMessage(Text.NotStorable("externalId"))
            .Must(id => id!.Length <= MaxExternalIdLength)
            .WithMessage((_, id) => $"'externalId' must be at most {MaxExternalIdLength} characters; it has {id!.Length}.")
            .OverridePropertyName("externalId");

        RuleFor(r => Text.Clean(r.Kind))
            .NotEmpty()
            .WithMessage($"'kind' is required: one of {KindList}.")
            .Must(kind => KindCatalog.TryGet(kind, out _))
            .WithMessage((_, kind) => $"'{kind}' is not a kind; use one of {KindList}.")
            .OverridePropertyName("kind");

        RuleFor(r => Text.Clean(r.UnitId))
            .NotEmpty()
            .WithMessage("'unitId' is required: the id of the unit that led or reported the activity.")
            .Must((_, id, context) => Units(context).Knows(id!))
            .WithMessage((_, id) => $"There is no unit '{id}'.")
            .Must((_, id, context) => OnTheDay(context, id!))
            .WithMessage("{WhyNot}")
            .OverridePropertyName("unitId");

        RuleForEach(r => (r.PartnerUnitIds ?? Array.Empty<string>()).Select(Text.Clean))
            .NotEmpty()
            .WithMessage("A partner unit id must not be empty.")
            .Must((request, id) => id != Text.Clean(request.UnitId))
            .WithMessage((_, id) => $"'{id}' is the activity's own unit; list in 'partnerUnitIds' only the units it was coordinated with.")
            .Must((_, id, context) => Units(context).Knows(id!))
            .WithMessage((_, id) => $"There is no unit '{id}'.")
            .Must((_, id, context) => OnTheDay(context, id!))
            .WithMessage("{WhyNot}")
            .OverridePropertyName("partnerUnitIds");

        RuleFor(r => r.OccurredOn).Custom((date, context) =>
        {
            var today = Today(context);
            if (date is not { } d)
                Fail(context, "occurredOn", "'occurredOn' is required: the date of the activity in Vietnam, YYYY-MM-DD.");
            else if (d > today)
                Fail(context, "occurredOn", $"'occurredOn' ({Iso(d)}) is in the future; today in Vietnam is {Iso(today)}.");
            else if (d < EarliestDate)
                Fail(context, "occurredOn", $"'occurredOn' ({Iso(d)}) must be {Iso(EarliestDate)} or later.");
        });

        RuleFor(r => r.EndsOn).Custom((date, context) =>
        {
            if (date is not { } d)
                return;
            var today = Today(context);
            if (context.InstanceToValidate.OccurredOn is { } start && d < start)
                Fail(context, "endsOn", $"'endsOn' ({Iso(d)}) must not be before 'occurredOn' ({Iso(start)}).");
            else if (d > today)
                Fail(context, "endsOn", $"'endsOn' ({Iso(d)}) is in the future; today in Vietnam is {Iso(today)}.");
        });

        RuleFor(r => r.Location).Custom((location, context) =>
        {
            if (location is null)
                return;
            var units = Units(context);
            var communeId = Text.Clean(location.CommuneId);
            if (!string.IsNullOrEmpty(communeId))
            {
                if (!units.Knows(communeId))
                    Fail(context, "location.communeId", $"There is no unit '{communeId}'.");
                else if (Day(context) is { } day)
                {
                    if (units.NotOn(communeId, day) is { } whyNot)
                        Fail(context, "location.communeId", whyNot);
                    else if (!units.IsExempt(communeId) && units.TreeOn(day).TypeOf(communeId) is { } type && type is not (UnitTypes.Commune or UnitTypes.Ward))
                        Fail(context, "location.communeId", units.IsDated
                            ? $"'{communeId}' was a {type} on {Iso(day)}, not a commune or a ward."
                            : $"'{communeId}' is a {type}, not a commune or a ward.");
                }
            }
            if (!Text.IsStorable(location.PlaceName))
                Fail(context, "location.placeName", Text.NotStorable("placeName"));
            else if (Text.Clean(location.PlaceName) is { Length: > MaxPlaceNameLength } placeName)
                Fail(context, "location.placeName", $"'placeName' must be at most {MaxPlaceNameLength} characters; it has {placeName.Length}.");
            if (location.Markers is { } markers)
            {
                if (markers.Count > MaxMarkers)
                {
                    Fail(context, "location.markers", $"'markers' may list at most {MaxMarkers} border markers; it has {markers.Count}.");
                    return;
                }
                for (var i = 0; i < markers.Count; i++)
                {
                    var marker = Text.Clean(markers[i]);
                    if (!Text.IsStorable(markers[i]))
                        Fail(context, $"location.markers[{i}]", Text.NotStorable($"markers[{i}]"));
                    else if (string.IsNullOrEmpty(marker) || marker.Length > MaxMarkerLength)
                        Fail(context, $"location.markers[{i}]", $"A border marker must be text of 1 to {MaxMarkerLength} characters, such as \"79\" or \"80(2)\".");
                }
            }
        });

        RuleFor(r => Text.Clean(r.Summary))
            .Must((request, _) => Text.IsStorable(request.Summary))
            .WithMessage(Text.NotStorable("summary"))
            .Must(summary => summary is null || summary.Length <= MaxSummaryLength)
            .WithMessage((_, summary) => $"'summary' must be at most {Thousands(MaxSummaryLength)} characters; it has {Thousands(summary!.Length)}.")
            .OverridePropertyName("summary");

        RuleFor(r => r.Details).Custom((details, context) =>
        {
            if (details is { ValueKind: not (JsonValueKind.Object or JsonValueKind.Null or JsonValueKind.Undefined) })
                Fail(context, "details", "'details' must be a JSON object holding the fields of the activity's kind.");
        });
    }

    static void Fail(ValidationContext<ActivityRequest> context, string key, string message) =>
        context.AddFailure(new ValidationFailure(key, message));

    static UnitCalendar Units(ValidationContext<ActivityRequest> context) =>
        context.RootContextData.TryGetValue(UnitsKey, out var value) && value is UnitCalendar units
            ? units
            : throw new InvalidOperationException($"Put the {nameof(UnitCalendar)} in RootContextData[\"{UnitsKey}\"].");

    /// <summary>The activity's day, when it is one the rules accept (otherwise <c>occurredOn</c>'s own error is reported, and the units are not judged on it).</summary>
    static DateOnly? Day(ValidationContext<ActivityRequest> context) =>
        context.InstanceToValidate.OccurredOn is { } d && d <= Today(context) && d >= EarliestDate ? d : null;

    /// <summary>
    /// Whether the (known) unit exists on the activity's day (or is exempt: a correction keeps it); if not, the
    /// message's <c>{WhyNot}</c> says why.
    /// </summary>
    static bool OnTheDay(ValidationContext<ActivityRequest> context, string unitId)
    {
        if (Day(context) is not { } day) return true;
        var problem = Units(context).NotOn(unitId, day);
        if (problem is not null) context.MessageFormatter.AppendArgument("WhyNot", problem);
        return problem is null;
    }

    static DateOnly Today(ValidationContext<ActivityRequest> context) =>
        context.RootContextData.TryGetValue(TodayKey, out var value) && value is DateOnly today
            ? today
            : throw new InvalidOperationException($"Put today's Vietnam date (a DateOnly) in RootContextData[\"{TodayKey}\"].");

    static string Iso(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    static string Thousands(int n) => n.ToString("#,0", CultureInfo.InvariantCulture);
}

/// <summary>
/// The one door from a posted activity (a body, a batch item, an import line) to <see cref="ActivityContent"/>:
/// every rule checked, every error reported at once, the content normalized.
/// </summary>
public static class ActivityRules
{
    static readonly ActivityRequestValidator Validator = new();

    static readonly IReadOnlyDictionary<string, string[]> NoErrors =
        ImmutableDictionary<string, string[]>.Empty.WithComparers(StringComparer.Ordinal);

    /// <summary>
    /// Checks every rule and returns the normalized content, or every error (all of them, not the first). The units
    /// are judged on the activity's <c>occurredOn</c> in <paramref name="history"/>. A correction passes the
    /// <paramref name="current"/> content: when it keeps its <c>occurredOn</c>, the units that content already named
    /// are not judged again on that day (organisation.md: an activity accepted before a reorganisation recorded late
    /// is never rejected afterwards).
    /// Cheap: one shared validator; the units and <paramref name="today"/> are per call.
    /// </summary>
    public static ValidationOutcome Check(ActivityRequest request, UnitHistory history, DateOnly today, ActivityContent? current = null)
    {
        ArgumentNullException.ThrowIfNull(history);
        var exempt = current is not null && request.OccurredOn == current.OccurredOn
            ? current.PartnerUnitIds.Append(current.UnitId).Concat(current.Location?.CommuneId is { } c ? [c] : []).ToHashSet(StringComparer.Ordinal)
            : null;
        return Check(request, new UnitCalendar(history, null, exempt), today);
    }

    /// <summary>
    /// The rules against one fixed tree, the same on every day (tests and the benchmarks' peer, whose units never
    /// change): a unit exists if the tree has it.
    /// </summary>
    public static ValidationOutcome Check(ActivityRequest request, UnitTree units, DateOnly today)
    {
        ArgumentNullException.ThrowIfNull(units);
        return Check(request, new UnitCalendar(null, units, null), today);
    }

    static ValidationOutcome Check(ActivityRequest request, UnitCalendar units, DateOnly today)
    {
        ArgumentNullException.ThrowIfNull(request);

        var context = new ValidationContext<ActivityRequest>(request);
        context.RootContextData[ActivityRequestValidator.UnitsKey] = units;
        context.RootContextData[ActivityRequestValidator.TodayKey] = today;
        var failures = Validator.Validate(context).Errors;
        // The details are checked against the kind, when it is known (without it there is nothing to check them against).
        IReadOnlyDictionary<string, JsonElement>? details = null;
        if (request.Details is not { ValueKind: not (JsonValueKind.Object or JsonValueKind.Null or JsonValueKind.Undefined) }
            && KindCatalog.TryGet(Text.Clean(request.Kind), out var kind))
            details = KindDetailsRules.For(kind).Validate(request.Details, (key, message) => failures.Add(new ValidationFailure(key, message)));
        if (failures.Count > 0 || details is null)
            return new(null, ValidationErrors.From(failures));

        var unitId = Text.Clean(request.UnitId)!;
        return new(new ActivityContent(
            ExternalId: Text.Clean(request.ExternalId)!,
            Kind: Text.Clean(request.Kind)!,
            UnitId: unitId,
            PartnerUnitIds: (request.PartnerUnitIds ?? []).Select(id => Text.Clean(id)!).Distinct(StringComparer.Ordinal).ToArray(),
            OccurredOn: request.OccurredOn!.Value,
            EndsOn: request.EndsOn,
            Location: Normalize(request.Location),
            Summary: Text.Clean(request.Summary) ?? "",
            Details: details), NoErrors);
    }

    /// <summary>
    /// Reads one activity from JSON (a batch item, or a body already parsed) and validates it: JSON-shape errors
    /// (a date that is not a date, a number where a string belongs, an unknown field) are reported under the
    /// same keys as rule violations.
    /// </summary>
    public static ValidationOutcome Check(JsonElement body, UnitHistory history, DateOnly today) =>
        JsonInput.TryRead<ActivityRequest>(body, out var request, out var errors)
            ? Check(request, history, today)
            : new(null, errors);

    /// <inheritdoc cref="Check(JsonElement, UnitHistory, DateOnly)"/>
    public static ValidationOutcome Check(JsonElement body, UnitTree units, DateOnly today) =>
        JsonInput.TryRead<ActivityRequest>(body, out var request, out var errors)
            ? Check(request, units, today)
            : new(null, errors);

    static ActivityLocation? Normalize(ActivityLocation? location)
    {
        if (location is null)
            return null;
        var communeId = Text.Clean(location.CommuneId);
        var placeName = Text.Clean(location.PlaceName);
        var markers = (location.Markers ?? []).Select(m => Text.Clean(m)!).Distinct(StringComparer.Ordinal).ToArray();
        if (string.IsNullOrEmpty(communeId) && string.IsNullOrEmpty(placeName) && markers.Length == 0)
            return null;
        return new ActivityLocation
        {
            CommuneId = string.IsNullOrEmpty(communeId) ? null : communeId,
            PlaceName = string.IsNullOrEmpty(placeName) ? null : placeName,
            Markers = markers,
        };
    }
}

/// <summary>
/// The <c>LoadAsync</c> step of the endpoints that take a whole activity (record, correct): the body checked against
/// the units' history (reloaded when it names a unit the cache does not know), each unit on the activity's day, and
/// today's date in Vietnam. Wolverine passes the content it returns to the endpoint; invalid input ends the request
/// with a 400 and nothing stored. A correction passes the content it replaces (<see cref="ActivityRules.Check(ActivityRequest, UnitHistory, DateOnly, ActivityContent?)"/>).
/// </summary>
public static class ActivityBody
{
    public static async Task<ActivityContent> CheckAsync(ActivityRequest request, UnitDirectory units, TimeProvider clock, CancellationToken ct,
        ActivityContent? current = null)
    {
        var named = new[] { request.UnitId, request.Location?.CommuneId }.Concat(request.PartnerUnitIds ?? []);
        var history = await units.GetKnowingAsync(named.Select(Text.Clean), ct);
        var outcome = ActivityRules.Check(request, history, VietnamCalendar.Today(clock), current);
        return outcome.IsValid ? outcome.Content : throw new InputException(outcome.Errors);
    }
}

/// <summary>
/// The units an activity is checked against: a <see cref="UnitHistory"/> (each unit judged on the activity's day), or
/// one fixed <see cref="UnitTree"/> (the same every day). <see cref="IsExempt"/>: the units a correction keeps.
/// </summary>
public sealed class UnitCalendar
{
    readonly UnitHistory? history;
    readonly UnitTree? fixedTree;
    readonly IReadOnlySet<string>? exempt;

    internal UnitCalendar(UnitHistory? history, UnitTree? fixedTree, IReadOnlySet<string>? exempt) =>
        (this.history, this.fixedTree, this.exempt) = (history, fixedTree, exempt);

    /// <summary>Whether the units change over dates (a history), or not (one tree).</summary>
    public bool IsDated => history is not null;

    /// <summary>Whether the unit exists on some day.</summary>
    public bool Knows(string unitId) => history?.Knows(unitId) ?? fixedTree!.Exists(unitId);

    public bool IsExempt(string unitId) => exempt?.Contains(unitId) == true;

    public UnitTree TreeOn(DateOnly day) => history?.TreeOn(day) ?? fixedTree!;

    /// <summary>
    /// Null when the (known) unit exists on <paramref name="day"/> or is exempt; otherwise why not: the successors and
    /// the date it ended, or the day it starts.
    /// </summary>
    public string? NotOn(string unitId, DateOnly day)
    {
        if (history is null || IsExempt(unitId) || history.Life(unitId) is not { } life || life.ExistsOn(day)) return null;
        var name = $"'{unitId}' ({life.On(day).Name})";
        if (life.ValidFrom is { } from && day < from)
            return $"Unit {name} did not exist yet on {Iso(day)}: it was established on {Iso(from)}. Record activities before that date under the units it came from.";
        var until = life.Until!.Value;
        string Named(string id) => history.Life(id) is { } s ? $"'{id}' ({s.On(until).Name})" : $"'{id}'";
        var successors = string.Join(" and ", life.Successors.Select(Named));
        return life.Ending switch
        {
            UnitEndings.Merged => $"Unit {name} no longer existed on {Iso(day)}: it merged into {successors} from {Iso(until)}. Record the activity under {successors}.",
            UnitEndings.Split => $"Unit {name} no longer existed on {Iso(day)}: it was split into {successors} from {Iso(until)}. Record the activity under the one where it took place.",
            _ => $"Unit {name} no longer existed on {Iso(day)}: it was dissolved from {Iso(until)} (its last day was {Iso(until.AddDays(-1))}).",
        };
    }

    static string Iso(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
