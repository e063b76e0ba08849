using System.Globalization;
using System.Text;
using System.Text.Json;
using CoordinationEvents.Api.Auth;
using CoordinationEvents.Api.Http;
using CoordinationEvents.Api.Units;
using CoordinationEvents.Contracts.V1;
using CoordinationEvents.EventStore;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace CoordinationEvents.Api.Activities;

/// <summary>POST, batch POST, GET, list, history, PUT (correction) and DELETE (retraction) of activities.</summary>
public static class ActivityEndpoints
{
    public const int MaxBatch = 1_000;

    public static IEndpointRouteBuilder MapActivityEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/activities").WithTags("Activities");
        group.MapPost("/", Record).RequireAuthorization(Policies.Record).Accepts<ActivityRequest>("application/json")
            .WithSummary("Record one activity. 201 when new; 200 with the same activityId when the same externalId and content were already recorded by this client; 409 when that externalId holds other content.");
        group.MapPost("/batch", RecordBatch).RequireAuthorization(Policies.Record).Accepts<BatchRequest>("application/json")
            .WithSummary($"Record up to {MaxBatch} activities; one result per item. Valid items are stored even when others are not.");
        group.MapGet("/", List).RequireAuthorization(Policies.Read)
            .WithSummary("Activities newest occurredOn first. unitId includes its subtree; follow nextCursor for the next page.");
        group.MapGet("/{activityId:guid}", Get).RequireAuthorization(Policies.ReadOwn)
            .WithSummary("The activity as it stands now; the ETag is its version, for If-Match on a correction.");
        group.MapGet("/{activityId:guid}/history", History).RequireAuthorization(Policies.ReadOwn);
        group.MapPut("/{activityId:guid}", Correct).RequireAuthorization(Policies.Record).Accepts<ActivityRequest>("application/json")
            .WithSummary("Correct an activity: send the whole corrected activity with If-Match: \"<version>\". 412 when stale, 428 without If-Match.");
        group.MapDelete("/{activityId:guid}", Retract).RequireAuthorization(Policies.Record).Accepts<RetractionRequest>("application/json")
            .WithSummary("Retract an activity with a reason: it leaves every figure, its history stays.");
        return app;
    }

    public static DateOnly TodayInVietnam(TimeProvider clock) => ActivityValidation.VietnamDate(clock.GetUtcNow());

    static async Task<Results<Created<ActivityWritten>, Ok<ActivityWritten>>> Record(
        HttpContext http, GroupCommit groupCommit, UnitDirectory units, TimeProvider clock, CancellationToken ct)
    {
        var body = await JsonBody.ReadAsync<JsonElement>(http.Request, JsonBody.SingleLimit, ct);
        var content = await ValidateAsync(body, units, clock, ct);
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

    static async Task<Ok<BatchResponse>> RecordBatch(HttpContext http, ActivityCommands commands, UnitDirectory units, TimeProvider clock, CancellationToken ct)
    {
        var batch = await JsonBody.ReadAsync<BatchRequest>(http.Request, JsonBody.BatchLimit, ct);
        if (batch.Activities is null) throw InputException.For("activities", "Send {\"activities\": [ … ]}.");
        if (batch.Activities.Count > MaxBatch) throw InputException.For("activities", $"At most {MaxBatch} activities per batch; this one has {batch.Activities.Count}.");

        var caller = Caller.From(http.User);
        var today = TodayInVietnam(clock);
        var results = new BatchItemResult[batch.Activities.Count];
        var valid = new List<(int Index, RecordRequest Request)>();
        var tree = await units.GetKnowingAsync(batch.Activities.SelectMany(ActivityJson.UnitIdsIn), ct);
        for (var i = 0; i < batch.Activities.Count; i++)
        {
            var outcome = ActivityValidation.Validate(batch.Activities[i], tree, today);
            if (!outcome.IsValid)
                results[i] = new BatchItemResult(i, BatchItemStatus.Invalid, Errors: outcome.Errors);
            else if (caller.IsScoped && !InScope(caller, tree, outcome.Content!.UnitId))
                results[i] = new BatchItemResult(i, BatchItemStatus.Invalid,
                    Errors: new Dictionary<string, string[]> { ["unitId"] = [OutOfScope(outcome.Content!.UnitId)] });
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
                ? new Dictionary<string, string[]> { ["externalId"] = ["This externalId was already recorded with other content."] }
                : null);
        return TypedResults.Ok(new BatchResponse(results));
    }

    static async Task<Results<Ok<ActivityResponse>, ProblemHttpResult>> Get(
        Guid activityId, HttpContext http, NpgsqlDataSource db, EventTypeRegistry registry, UnitDirectory units, CancellationToken ct)
    {
        var activity = await ActivityReadModel.GetAsync(db, registry.SerializerOptions, activityId, ct);
        if (activity is null) return NotFound(activityId);
        await AuthorizeUnitsAsync(Caller.From(http.User), units, ct, activity.UnitId);
        http.Response.Headers.ETag = ETag(activity.Version);
        return TypedResults.Ok(activity);
    }

    static async Task<Ok<ActivityPage>> List(
        NpgsqlDataSource db, EventTypeRegistry registry, UnitDirectory units, CancellationToken ct,
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

        var (items, next) = await ActivityReadModel.ListAsync(db, registry.SerializerOptions,
            new ActivityReadModel.ListQuery(subtree, kind, fromDate, toDate, limit ?? 50, after), ct);
        return TypedResults.Ok(new ActivityPage(items, next is { } n ? EncodeCursor(n) : null));
    }

    static async Task<Results<Ok<ActivityHistory>, ProblemHttpResult>> History(
        Guid activityId, HttpContext http, EventStore.EventStore store, UnitDirectory units, CancellationToken ct)
    {
        var events = await store.ReadStreamAsync(activityId, ct);
        if (events.Count == 0) return NotFound(activityId);
        var state = Activity.Fold(events.Select(e => (ActivityEvent)e.Data));
        await AuthorizeUnitsAsync(Caller.From(http.User), units, ct, state.Content!.UnitId);
        return TypedResults.Ok(new ActivityHistory(activityId, events.Select(e => new ActivityHistoryEntry(
            e.Type, e.Version, e.Position, e.Metadata.RecordedAt, e.Metadata.Actor, e.Metadata.CorrelationId,
            store.Registry.ToJson(e.Data))).ToArray()));
    }

    static async Task<Ok<ActivityWritten>> Correct(
        Guid activityId, HttpContext http, ActivityCommands commands, UnitDirectory units, TimeProvider clock, CancellationToken ct)
    {
        var expected = IfMatch(http) ?? throw new ProblemException(428, "Precondition required",
            "A correction needs If-Match: \"<version>\" with the ETag of the version it corrects.");
        var body = await JsonBody.ReadAsync<JsonElement>(http.Request, JsonBody.SingleLimit, ct);
        var content = await ValidateAsync(body, units, clock, ct);
        var caller = Caller.From(http.User);
        await AuthorizeUnitsAsync(caller, units, ct, content.UnitId);

        var state = await commands.HandleAsync(activityId, expected, now => new CorrectActivity(activityId, content, now),
            caller.Client, CorrelationId(http), s => AuthorizeUnitsAsync(caller, units, ct, s.Content!.UnitId), ct);
        http.Response.Headers.ETag = ETag(state.Version);
        return TypedResults.Ok(new ActivityWritten(activityId, state.Version));
    }

    static async Task<Ok<ActivityWritten>> Retract(Guid activityId, HttpContext http, ActivityCommands commands, UnitDirectory units, CancellationToken ct)
    {
        var request = await JsonBody.ReadAsync<RetractionRequest>(http.Request, JsonBody.SingleLimit, ct);
        if (!ActivityValidation.TryReadReason(request, out var reason, out var errors)) throw new InputException(errors);
        var caller = Caller.From(http.User);

        var state = await commands.HandleAsync(activityId, IfMatch(http), now => new RetractActivity(activityId, reason, now),
            caller.Client, CorrelationId(http), s => AuthorizeUnitsAsync(caller, units, ct, s.Content!.UnitId), ct);
        http.Response.Headers.ETag = ETag(state.Version);
        return TypedResults.Ok(new ActivityWritten(activityId, state.Version));
    }

    static async Task<ActivityContent> ValidateAsync(JsonElement body, UnitDirectory units, TimeProvider clock, CancellationToken ct)
    {
        var tree = await units.GetKnowingAsync(ActivityJson.UnitIdsIn(body), ct);
        var outcome = ActivityValidation.Validate(body, tree, TodayInVietnam(clock));
        return outcome.Content ?? throw new InputException(outcome.Errors);
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
