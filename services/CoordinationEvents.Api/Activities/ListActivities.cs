using System.Text;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Wolverine.Http;

namespace CoordinationEvents.Api.Activities;

/// <summary><c>GET /api/v1/activities</c>: a page of activities, newest <c>occurredOn</c> first, keyset-paged.</summary>
public static class ListActivitiesEndpoint
{
    [WolverineGet("/api/v1/activities", Name = "ListActivities"), Authorize(Policy = Policies.Read), Tags("Activities")]
    [EndpointSummary("Activities newest occurredOn first. unitId includes its subtree as it was on each activity's day (a former unit too); follow nextCursor for the next page.")]
    public static async Task<Ok<ActivityPage>> Get(
        IQuerySession session, UnitDirectory units, CancellationToken ct,
        string? unitId = null, string? kind = null, string? from = null, string? to = null, int? limit = null, string? cursor = null)
    {
        var errors = new Dictionary<string, string[]>();
        var (fromDate, toDate) = VietnamCalendar.ParsePeriod(from, to, errors, required: false);
        if (kind is not null && !KindCatalog.TryGet(kind, out _)) errors["kind"] = [$"Unknown kind '{kind}'."];
        if (limit is < 1 or > 500) errors["limit"] = ["'limit' must be from 1 to 500."];
        var after = DecodeCursor(cursor, errors);
        AncestrySpan[]? subtree = null;
        if (unitId is not null)
        {
            var history = await units.GetKnowingAsync([unitId], ct);
            if (!history.Knows(unitId)) errors["unitId"] = [$"Unknown unit '{unitId}'."];
            // The activities that count for the unit (organisation.md, "as it was"): of each unit, over the days it was held under it.
            else subtree = history.Ancestry().Where(s => s.Ancestor == unitId).ToArray();
        }
        if (errors.Count > 0) throw new InputException(errors);

        var (items, next) = await ListAsync(session, subtree, kind, fromDate, toDate, limit ?? 50, after, ct);
        return TypedResults.Ok(new ActivityPage(items, next is { } n ? EncodeCursor(n) : null));
    }

    /// <summary>Newest occurredOn first; keyset paging on (occurredOn, id), on the read model's duplicated columns.</summary>
    static async Task<(IReadOnlyList<ActivityResponse> Items, (DateOnly, Guid)? Next)> ListAsync(IQuerySession session,
        IReadOnlyList<AncestrySpan>? spans, string? kind, DateOnly? from, DateOnly? to, int limit, (DateOnly OccurredOn, Guid Id)? after, CancellationToken ct)
    {
        var conditions = new List<string>();
        var parameters = new List<object>();
        if (spans is not null)
        {
            conditions.Add("d.unit_id = any(?) and exists (select 1 from unnest(?, ?, ?) s(u, f, t) where s.u = d.unit_id and d.occurred_on >= s.f and d.occurred_on < s.t)");
            parameters.Add(spans.Select(s => s.UnitId).Distinct().ToArray());
            parameters.Add(spans.Select(s => s.UnitId).ToArray());
            parameters.Add(spans.Select(s => s.From).ToArray());
            parameters.Add(spans.Select(s => s.Until).ToArray());
        }
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

    static string EncodeCursor((DateOnly OccurredOn, Guid Id) at) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{VietnamCalendar.Iso(at.OccurredOn)}|{at.Id}"));

    static (DateOnly, Guid)? DecodeCursor(string? cursor, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrEmpty(cursor)) return null;
        try
        {
            var parts = Encoding.UTF8.GetString(Convert.FromBase64String(cursor)).Split('|');
            if (parts.Length == 2 && VietnamCalendar.TryParse(parts[0], out var d) && Guid.TryParse(parts[1], out var id)) return (d, id);
        }
        catch (FormatException) { }
        errors["cursor"] = ["Not a cursor this service gave out; use nextCursor from the previous page."];
        return null;
    }
}
