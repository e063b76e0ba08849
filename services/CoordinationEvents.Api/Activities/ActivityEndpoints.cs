using System.Globalization;
using System.Text;
using System.Text.Json;
using CoordinationEvents.Api.Auth;
using CoordinationEvents.Api.Units;
using CoordinationEvents.Contracts.V1;
using CoordinationEvents.Api.Http;
using FluentValidation;
using FluentValidation.Results;
using JasperFx.Events;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace CoordinationEvents.Api.Activities;

/// <summary>
/// POST, batch POST, GET, list, history, PUT (correction) and DELETE (retraction) of activities, as
/// Wolverine.Http endpoints. Bodies are read strictly and validated by FluentValidation middleware before a
/// handler runs (<see cref="StrictJsonBodyStrategy"/>, <see cref="FluentValidationPolicy"/>); corrections and
/// retractions use Wolverine's aggregate handler workflow around the pure <see cref="Activity.Decide"/>.
/// </summary>
public static class ActivityEndpoints
{
    public const int MaxBatch = 1_000;
    const string Tag = "Activities";

    public static DateOnly TodayInVietnam(TimeProvider clock) => ActivityValidation.VietnamDate(clock.GetUtcNow());

    [WolverinePost("/api/v1/activities", Name = "RecordActivity"), Authorize(Policy = Policies.Record), Tags(Tag)]
    [EndpointSummary("Record one activity. 201 when new; 200 with the same activityId when the same externalId and content were already recorded by this client; 409 when that externalId holds other content.")]
    [ProducesResponseType<ActivityWritten>(201), ProducesResponseType<ActivityWritten>(200), ProducesResponseType<ProblemDetails>(409, "application/problem+json")]
    public static async Task<Results<Created<ActivityWritten>, Ok<ActivityWritten>>> Record(
        ActivityRequest request, HttpContext http, GroupCommit groupCommit, UnitDirectory units, CancellationToken ct)
    {
        var content = ActivityRequestCheck.ContentOf(http);
        var caller = Caller.From(http.User);
        await AuthorizeUnitsAsync(caller, units, ct, content.UnitId);

        var result = await groupCommit.RecordAsync(new RecordRequest(content, caller.Client, CorrelationId(http)), ct);
        var written = new ActivityWritten(result.ActivityId, result.Version);
        return result.Status switch
        {
            RecordStatus.Created => TypedResults.Created($"/api/v1/activities/{result.ActivityId}", written),
            RecordStatus.Duplicate => TypedResults.Ok(written),
            _ => throw new ProblemException(409, "externalId already used",
                $"Activity {result.ActivityId} was recorded with externalId '{content.ExternalId}' and other content. Correct it with PUT, or use a new externalId."),
        };
    }

    [WolverinePost("/api/v1/activities/batch", Name = "RecordActivities"), Authorize(Policy = Policies.Record), Tags(Tag)]
    [EndpointSummary("Record up to 1,000 activities; one result per item (created, duplicate, invalid, conflict). Valid items are stored even when others are not.")]
    public static async Task<Ok<BatchResponse>> RecordBatch(BatchRequest batch, HttpContext http, ActivityCommands commands, UnitDirectory units, TimeProvider clock, CancellationToken ct)
    {
        if (batch.Activities is null) throw InputException.For("activities", "Send {\"activities\": [ … ]}.");
        if (batch.Activities.Count > MaxBatch) throw InputException.For("activities", $"At most {MaxBatch} activities per batch; this one has {batch.Activities.Count}.");

        var caller = Caller.From(http.User);
        var today = TodayInVietnam(clock);
        var results = new BatchItemResult[batch.Activities.Count];
        var valid = new List<(int Index, RecordRequest Request)>();
        var tree = await units.GetKnowingAsync(batch.Activities.SelectMany(ActivityJson.UnitIdsIn), ct);
        for (var i = 0; i < batch.Activities.Count; i++)
        {
            var outcome = ValidateItem(batch.Activities[i], caller, tree, today);
            if (!outcome.IsValid)
                results[i] = new BatchItemResult(i, BatchItemStatus.Invalid, Errors: outcome.Errors);
            else
                valid.Add((i, new RecordRequest(outcome.Content!, caller.Client, CorrelationId(http))));
        }

        var recorded = valid.Count == 0 ? [] : await commands.RecordAsync(valid.Select(v => v.Request).ToArray(), ct);
        foreach (var ((index, _), result) in valid.Zip(recorded))
            results[index] = new BatchItemResult(index, result.Status switch
            {
                RecordStatus.Created => BatchItemStatus.Created,
                RecordStatus.Duplicate => BatchItemStatus.Duplicate,
                _ => BatchItemStatus.Conflict,
            }, result.ActivityId, result.Version,
            result.Status == RecordStatus.Conflict
                ? new Dictionary<string, string[]> { ["externalId"] = [ConflictMessage] }
                : null);
        return TypedResults.Ok(new BatchResponse(results));
    }

    [WolverineGet("/api/v1/activities/{activityId}", Name = "GetActivity"), Authorize(Policy = Policies.ReadOwn), Tags(Tag)]
    [EndpointSummary("The activity as it stands now; the ETag is its version, for If-Match on a correction.")]
    [ResponseHeader(200, "ETag")]
    public static async Task<Results<Ok<ActivityResponse>, ProblemHttpResult>> Get(
        Guid activityId, HttpContext http, IQuerySession session, UnitDirectory units, CancellationToken ct)
    {
        var view = await session.LoadAsync<ActivityView>(activityId, ct);
        if (view is null) return NotFound(activityId);
        var activity = view.ToResponse();
        await AuthorizeUnitsAsync(Caller.From(http.User), units, ct, activity.UnitId);
        http.Response.Headers.ETag = ETag(activity.Version);
        return TypedResults.Ok(activity);
    }

    [WolverineGet("/api/v1/activities", Name = "ListActivities"), Authorize(Policy = Policies.Read), Tags(Tag)]
    [EndpointSummary("Activities newest occurredOn first. unitId includes its subtree; follow nextCursor for the next page.")]
    public static async Task<Ok<ActivityPage>> List(
        IQuerySession session, UnitDirectory units, CancellationToken ct,
        string? unitId = null, string? kind = null, string? from = null, string? to = null, int? limit = null, string? cursor = null)
    {
        var errors = new Dictionary<string, string[]>();
        var fromDate = ParseDate(from, "from", errors);
        var toDate = ParseDate(to, "to", errors);
        if (fromDate > toDate) errors["to"] = ["'to' must not be before 'from'."];
        if (kind is not null && !KindCatalog.TryGet(kind, out _)) errors["kind"] = [$"Unknown kind '{kind}'."];
        if (limit is < 1 or > 500) errors["limit"] = ["'limit' must be from 1 to 500."];
        var after = DecodeCursor(cursor, errors);
        IReadOnlyList<string>? subtree = null;
        if (unitId is not null)
        {
            var tree = await units.GetKnowingAsync([unitId], ct);
            if (!tree.Exists(unitId)) errors["unitId"] = [$"Unknown unit '{unitId}'."];
            else subtree = tree.Subtree(unitId).ToArray();
        }
        if (errors.Count > 0) throw new InputException(errors);

        var (items, next) = await ListAsync(session, subtree, kind, fromDate, toDate, limit ?? 50, after, ct);
        return TypedResults.Ok(new ActivityPage(items, next is { } n ? EncodeCursor(n) : null));
    }

    /// <summary>Newest occurredOn first; keyset paging on (occurredOn, id), on the read model's duplicated columns.</summary>
    static async Task<(IReadOnlyList<ActivityResponse> Items, (DateOnly, Guid)? Next)> ListAsync(IQuerySession session,
        IReadOnlyList<string>? unitIds, string? kind, DateOnly? from, DateOnly? to, int limit, (DateOnly OccurredOn, Guid Id)? after, CancellationToken ct)
    {
        var conditions = new List<string>();
        var parameters = new List<object>();
        if (unitIds is not null) { conditions.Add("d.unit_id = any(?)"); parameters.Add(unitIds.ToArray()); }
        if (kind is not null) { conditions.Add("d.kind = ?"); parameters.Add(kind); }
        if (from is { } f) { conditions.Add("d.occurred_on >= ?"); parameters.Add(f); }
        if (to is { } t) { conditions.Add("d.occurred_on <= ?"); parameters.Add(t); }
        if (after is { } a) { conditions.Add("(d.occurred_on, d.id) < (?, ?)"); parameters.Add(a.OccurredOn); parameters.Add(a.Id); }
        parameters.Add(limit + 1);
        var where = conditions.Count == 0 ? "" : "where " + string.Join(" and ", conditions);
        var views = await session.QueryAsync<ActivityView>($"{where} order by d.occurred_on desc, d.id desc limit ?", ct, [.. parameters]);
        var items = views.Select(v => v.ToResponse()).ToList();
        if (items.Count <= limit) return (items, null);
        items.RemoveAt(items.Count - 1);
        return (items, (items[^1].OccurredOn, items[^1].ActivityId));
    }

    [WolverineGet("/api/v1/activities/{activityId}/history", Name = "ActivityHistory"), Authorize(Policy = Policies.ReadOwn), Tags(Tag)]
    [EndpointSummary("The activity's events in order: type, version, position, when, by whom, and the data.")]
    public static async Task<Results<Ok<ActivityHistory>, ProblemHttpResult>> History(
        Guid activityId, HttpContext http, IQuerySession session, UnitDirectory units, CancellationToken ct)
    {
        var events = await session.Events.FetchStreamAsync(activityId, token: ct);
        if (events.Count == 0) return NotFound(activityId);
        var state = Activity.Fold(events.Select(e => (ActivityEvent)e.Data));
        await AuthorizeUnitsAsync(Caller.From(http.User), units, ct, state.Content!.UnitId);
        return TypedResults.Ok(new ActivityHistory(activityId, events.Select(e => new ActivityHistoryEntry(
            e.EventTypeName, (int)e.Version, e.Sequence, e.Timestamp,
            e.GetHeader(ActivityCommands.ClientHeader)?.ToString() ?? "", e.CorrelationId,
            JsonSerializer.SerializeToElement(e.Data, e.EventType, Storage.StoreJson.Options))).ToArray()));
    }

    [WolverinePut("/api/v1/activities/{activityId}", Name = "CorrectActivity"), Authorize(Policy = Policies.Record), Tags(Tag)]
    [EndpointSummary("Correct an activity: send the whole corrected activity with If-Match: \"<version>\". 412 when stale, 428 without If-Match, 409 once retracted.")]
    [ProducesResponseType<ProblemDetails>(404, "application/problem+json"), ProducesResponseType<ProblemDetails>(409, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(412, "application/problem+json"), ProducesResponseType<ProblemDetails>(428, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(422, "application/problem+json"), RequestHeader("If-Match", Required = true), ResponseHeader(200, "ETag")]
    public static async Task<Ok<ActivityWritten>> Correct(
        Guid activityId, ActivityRequest request, [WriteAggregate(Required = true)] IEventStream<Activity> stream,
        HttpContext http, UnitDirectory units, TimeProvider clock, CancellationToken ct)
    {
        var expected = IfMatch(http) ?? throw new ProblemException(428, "Precondition required",
            "A correction needs If-Match: \"<version>\" with the ETag of the version it corrects.");
        var content = ActivityRequestCheck.ContentOf(http);
        var caller = Caller.From(http.User);
        await AuthorizeUnitsAsync(caller, units, ct, content.UnitId);
        return await DecideAsync(stream, expected, new CorrectActivity(activityId, content, clock.GetUtcNow()), caller, http, units, ct);
    }

    [WolverineDelete("/api/v1/activities/{activityId}", Name = "RetractActivity"), Authorize(Policy = Policies.Record), Tags(Tag)]
    [EndpointSummary("Retract an activity with a reason: it leaves every figure, its history stays. If-Match is optional here.")]
    [ProducesResponseType<ProblemDetails>(404, "application/problem+json"), ProducesResponseType<ProblemDetails>(412, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(409, "application/problem+json"), RequestHeader("If-Match"), ResponseHeader(200, "ETag")]
    public static async Task<Ok<ActivityWritten>> Retract(
        Guid activityId, RetractionRequest request, [WriteAggregate(Required = true)] IEventStream<Activity> stream,
        HttpContext http, UnitDirectory units, TimeProvider clock, CancellationToken ct)
    {
        if (!ActivityValidation.TryReadReason(request, out var reason, out _)) throw new InvalidOperationException("validated by RetractionRequestValidator");
        return await DecideAsync(stream, IfMatch(http), new RetractActivity(activityId, reason, clock.GetUtcNow()), Caller.From(http.User), http, units, ct);
    }

    /// <summary>
    /// The aggregate workflow's middle: the stream is loaded (FetchForWriting), our pure Decide runs on its
    /// state, the events are appended to it, and Wolverine's transaction commits them, with Marten checking
    /// that the stream is still at the version it was read at (a racing writer: 412).
    /// </summary>
    static async Task<Ok<ActivityWritten>> DecideAsync(IEventStream<Activity> stream, int? expected, ActivityCommand command, Caller caller,
        HttpContext http, UnitDirectory units, CancellationToken ct)
    {
        var state = stream.Aggregate ?? throw new ActivityNotFoundException(stream.Id);
        await AuthorizeUnitsAsync(caller, units, ct, state.Content!.UnitId);
        if (expected is { } version && version != stream.CurrentVersion)
            throw new StaleVersionException(stream.Id, version, stream.CurrentVersion ?? 0);
        var events = Activity.Decide(command, state);
        foreach (var e in events) stream.AppendOne(ActivityCommands.Wrap(e, caller.Client, CorrelationId(http)));
        var after = events.Aggregate(state, Activity.Next);
        http.Response.Headers.ETag = ETag(after.Version);
        return TypedResults.Ok(new ActivityWritten(stream.Id, after.Version));
    }

    /// <summary>The error of an item (of a batch, or a line of an import) whose externalId holds other content.</summary>
    internal const string ConflictMessage = "This externalId was already recorded with other content.";

    /// <summary>One item of a batch or one line of an import: every rule of the activity, then the poster's unit scope.</summary>
    internal static ValidationOutcome ValidateItem(JsonElement item, Caller caller, UnitTree tree, DateOnly today)
    {
        var outcome = ActivityValidation.Validate(item, tree, today);
        return outcome.IsValid && caller.IsScoped && !InScope(caller, tree, outcome.Content.UnitId)
            ? new ValidationOutcome(null, new Dictionary<string, string[]> { ["unitId"] = [OutOfScope(outcome.Content.UnitId)] })
            : outcome;
    }

    static bool InScope(Caller caller, UnitTree tree, string unitId) => caller.Scope.Any(s => tree.IsWithin(unitId, s));

    static string OutOfScope(string unitId) => $"Unit '{unitId}' is outside the units this API key may write.";

    static async Task AuthorizeUnitsAsync(Caller caller, UnitDirectory units, CancellationToken ct, string unitId)
    {
        if (!caller.IsScoped) return;
        var tree = await units.GetAsync(ct);
        if (!InScope(caller, tree, unitId)) throw new ProblemException(403, "Forbidden", OutOfScope(unitId));
    }

    static int? IfMatch(HttpContext http)
    {
        var header = http.Request.Headers.IfMatch.ToString();
        if (string.IsNullOrWhiteSpace(header)) return null;
        var value = header.Trim();
        if (value.StartsWith("W/", StringComparison.Ordinal)) value = value[2..];
        value = value.Trim('"');
        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var version) && version > 0
            ? version
            : throw InputException.For("If-Match", "If-Match must be the activity's ETag, such as \"3\".");
    }

    static string ETag(int version) => $"\"{version}\"";

    static string? CorrelationId(HttpContext http) =>
        http.Request.Headers.TryGetValue("X-Correlation-Id", out var id) && id.ToString().Length is > 0 and <= 200 && Text.IsStorable(id.ToString()) ? id.ToString() : http.TraceIdentifier;

    internal static DateOnly? ParseDate(string? text, string field, Dictionary<string, string[]> errors)
    {
        if (text is null) return null;
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)) return date;
        errors[field] = [$"'{field}' must be a real date written YYYY-MM-DD."];
        return null;
    }

    static string EncodeCursor((DateOnly OccurredOn, Guid Id) at) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{at.OccurredOn:yyyy-MM-dd}|{at.Id}"));

    static (DateOnly, Guid)? DecodeCursor(string? cursor, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrEmpty(cursor)) return null;
        try
        {
            var parts = Encoding.UTF8.GetString(Convert.FromBase64String(cursor)).Split('|');
            if (parts.Length == 2 && DateOnly.TryParseExact(parts[0], "yyyy-MM-dd", out var d) && Guid.TryParse(parts[1], out var id)) return (d, id);
        }
        catch (FormatException) { }
        errors["cursor"] = ["Not a cursor this service gave out; use nextCursor from the previous page."];
        return null;
    }

    static ProblemHttpResult NotFound(Guid id) =>
        TypedResults.Problem($"Activity {id} does not exist.", statusCode: 404, title: "Not found");
}

/// <summary>
/// The validator that <see cref="FluentValidationPolicy"/> runs before the POST and PUT of an activity: every
/// rule of <see cref="ActivityRequestValidator"/>, with the unit tree and today's date it needs. The normalized
/// content it produces is left on the request for the endpoint (<see cref="ContentOf"/>), so nothing is validated twice.
/// </summary>
public sealed class ActivityRequestCheck(UnitDirectory units, TimeProvider clock) : AbstractValidator<ActivityRequest>
{
    static readonly object ContentKey = new();

    public override async Task<ValidationResult> ValidateAsync(ValidationContext<ActivityRequest> context, CancellationToken cancellation = default)
    {
        var request = context.InstanceToValidate;
        var named = new[] { request.UnitId, request.Location?.CommuneId }.Concat(request.PartnerUnitIds ?? []);
        var tree = await units.GetKnowingAsync(named.Select(Text.Clean), cancellation);
        var outcome = ActivityValidation.Validate(request, tree, ActivityEndpoints.TodayInVietnam(clock));
        if (outcome.IsValid && context.RootContextData.TryGetValue(FluentValidationPolicy.HttpContextKey, out var http))
            ((HttpContext)http).Items[ContentKey] = outcome.Content;
        return new ValidationResult(outcome.Errors.SelectMany(e => e.Value.Select(message => new ValidationFailure(e.Key, message))));
    }

    public static ActivityContent ContentOf(HttpContext http) =>
        http.Items[ContentKey] as ActivityContent
        ?? throw new InvalidOperationException($"The request was not validated: {nameof(FluentValidationPolicy)} runs {nameof(ActivityRequestCheck)} first.");
}

/// <summary>The body of a retraction: a reason of 1 to 1,000 characters that can be stored (<see cref="ActivityValidation.TryReadReason"/>).</summary>
public sealed class RetractionRequestValidator : AbstractValidator<RetractionRequest>
{
    public RetractionRequestValidator() => RuleFor(r => r).Custom((request, context) =>
    {
        if (!ActivityValidation.TryReadReason(request, out _, out var errors))
            foreach (var (key, messages) in errors)
                foreach (var message in messages) context.AddFailure(key, message);
    });
}
