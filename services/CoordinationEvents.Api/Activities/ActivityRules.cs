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
/// validators are thread-safe once built); the per-call unit tree and today's date are its inputs, in
/// <see cref="IValidationContext.RootContextData"/> under <see cref="UnitsKey"/> and <see cref="TodayKey"/>;
/// use <see cref="ActivityRules.Check(ActivityRequest, UnitTree, DateOnly)"/> rather than this class.
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
            .Must((_, id, context) => Units(context).Exists(id!))
            .WithMessage((_, id) => $"There is no unit '{id}'.")
            .OverridePropertyName("unitId");

        RuleForEach(r => (r.PartnerUnitIds ?? Array.Empty<string>()).Select(Text.Clean))
            .NotEmpty()
            .WithMessage("A partner unit id must not be empty.")
            .Must((request, id) => id != Text.Clean(request.UnitId))
            .WithMessage((_, id) => $"'{id}' is the activity's own unit; list in 'partnerUnitIds' only the units it was coordinated with.")
            .Must((_, id, context) => Units(context).Exists(id!))
            .WithMessage((_, id) => $"There is no unit '{id}'.")
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
                var type = units.Exists(communeId) ? units.TypeOf(communeId) : null;
                if (type is null)
                    Fail(context, "location.communeId", $"There is no unit '{communeId}'.");
                else if (type != UnitTypes.Commune)
                    Fail(context, "location.communeId", $"'{communeId}' is a {type}, not a commune.");
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

    static UnitTree Units(ValidationContext<ActivityRequest> context) =>
        context.RootContextData.TryGetValue(UnitsKey, out var value) && value is UnitTree units
            ? units
            : throw new InvalidOperationException($"Put the {nameof(UnitTree)} in RootContextData[\"{UnitsKey}\"].");

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
    /// Checks every rule and returns the normalized content, or every error (all of them, not the first).
    /// Cheap: one shared validator; <paramref name="units"/> and <paramref name="today"/> are per call.
    /// </summary>
    public static ValidationOutcome Check(ActivityRequest request, UnitTree units, DateOnly today)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(units);

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
/// the unit tree as it is now (reloaded when it names a unit the cache does not know) and today's date in Vietnam.
/// Wolverine passes the content it returns to the endpoint; invalid input ends the request with a 400 and nothing stored.
/// </summary>
public static class ActivityBody
{
    public static async Task<ActivityContent> CheckAsync(ActivityRequest request, UnitDirectory units, TimeProvider clock, CancellationToken ct)
    {
        var named = new[] { request.UnitId, request.Location?.CommuneId }.Concat(request.PartnerUnitIds ?? []);
        var tree = (await units.GetKnowingAsync(named.Select(Text.Clean), ct)).Current;
        var outcome = ActivityRules.Check(request, tree, VietnamCalendar.Today(clock));
        return outcome.IsValid ? outcome.Content : throw new InputException(outcome.Errors);
    }
}
