using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Auth;
using CoordinationEvents.Api.Http;
using CoordinationEvents.Contracts.V1;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Marten;
using Npgsql;
using Wolverine;
using Wolverine.Http;

namespace CoordinationEvents.Api.Units;

/// <summary>
/// A unit got a new parent: the figures rolled up the tree must follow. Sent through Wolverine's durable local
/// queue, stored in the same transaction as the move (the outbox), so it is handled even if the process stops
/// right after the move commits (see <c>Statistics/UnitMovedHandler</c>).
/// </summary>
public sealed record UnitMoved(string UnitId, string? FromParentId, string? ToParentId);

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
    }

    static bool IsUpdate(ValidationContext<UnitRequest> context) =>
        context.RootContextData.TryGetValue(Http.FluentValidationPolicy.HttpContextKey, out var http)
        && HttpMethods.IsPut(((HttpContext)http).Request.Method);
}

/// <summary>The unit tree: read by everyone with a key, changed by administrators.</summary>
public static class UnitEndpoints
{
    /// <summary>Which parent type each unit type hangs under (null: a root).</summary>
    static readonly Dictionary<string, string?> ParentType = new()
    {
        [UnitTypes.Province] = null,
        [UnitTypes.District] = UnitTypes.Province,
        [UnitTypes.BorderPost] = UnitTypes.District,
        [UnitTypes.Commune] = UnitTypes.District,
    };

    const string Tag = "Units";

    [WolverineGet("/api/v1/units", Name = "UnitTree"), Authorize(Policy = Policies.ReadOwn), Tags(Tag)]
    [EndpointSummary("The unit tree (provinces at the top). With ?name=, the units whose name contains it (NFC, case-insensitive), as a flat list.")]
    public static async Task<Ok<IReadOnlyList<UnitNode>>> GetTree(UnitDirectory directory, CancellationToken ct, string? name = null)
    {
        var tree = await directory.GetAsync(ct);
        if (!string.IsNullOrWhiteSpace(name))
        {
            var needle = Text.Clean(name)!;
            return TypedResults.Ok<IReadOnlyList<UnitNode>>(tree.All
                .Where(u => u.Name.Contains(needle, StringComparison.CurrentCultureIgnoreCase))
                .OrderBy(u => u.UnitId, StringComparer.Ordinal)
                .Select(u => new UnitNode(u.UnitId, u.Name, u.Type, u.ParentId, [])).ToArray());
        }
        UnitNode Node(Unit u) => new(u.UnitId, u.Name, u.Type, u.ParentId, tree.ChildrenOf(u.UnitId).Select(Node).ToArray());
        return TypedResults.Ok<IReadOnlyList<UnitNode>>(tree.Roots.Select(Node).ToArray());
    }

    [WolverineGet("/api/v1/units/{unitId}", Name = "GetUnit"), Authorize(Policy = Policies.ReadOwn), Tags(Tag)]
    public static async Task<Results<Ok<UnitResponse>, ProblemHttpResult>> GetOne(string unitId, UnitDirectory directory, CancellationToken ct)
    {
        var unit = (await directory.GetKnowingAsync([unitId], ct)).Find(unitId);
        return unit is null ? NotFound(unitId) : TypedResults.Ok(ToResponse(unit));
    }

    [WolverinePost("/api/v1/units", Name = "CreateUnit"), Authorize(Policy = Policies.Admin), Tags(Tag)]
    [ProducesResponseType<ProblemDetails>(409, "application/problem+json")]
    public static async Task<Created<UnitResponse>> Create(UnitRequest request, UnitDirectory directory, NpgsqlDataSource db, CancellationToken ct)
    {
        var body = Normalize(request);
        var tree = await directory.GetKnowingAsync([body.UnitId, body.ParentId], ct);
        if (tree.Exists(body.UnitId!))
            throw new ProblemException(409, "Unit exists", $"A unit with id '{body.UnitId}' already exists.");
        CheckParent(tree, body.UnitId!, body.Type!, body.ParentId);

        await using var cmd = db.CreateCommand("insert into units (unit_id, name, type, parent_id) values ($1, $2, $3, $4) on conflict do nothing");
        cmd.Parameters.AddWithValue(body.UnitId!);
        cmd.Parameters.AddWithValue(body.Name!);
        cmd.Parameters.AddWithValue(body.Type!);
        cmd.Parameters.AddWithValue((object?)body.ParentId ?? DBNull.Value);
        if (await cmd.ExecuteNonQueryAsync(ct) == 0)
            throw new ProblemException(409, "Unit exists", $"A unit with id '{body.UnitId}' already exists.");
        await directory.ReloadAsync(ct);
        var unit = new Unit(body.UnitId!, body.Name!, body.Type!, body.ParentId);
        return TypedResults.Created($"/api/v1/units/{unit.UnitId}", ToResponse(unit));
    }

    [WolverinePut("/api/v1/units/{unitId}", Name = "UpdateUnit"), Authorize(Policy = Policies.Admin), Tags(Tag)]
    [EndpointSummary("Rename or move a unit. A move reaches the statistics, which roll up the tree, through a durable message.")]
    public static async Task<Results<Ok<UnitResponse>, ProblemHttpResult>> Update(
        string unitId, UnitRequest request, UnitDirectory directory, IDocumentSession session, IMessageBus bus, CancellationToken ct)
    {
        var body = Normalize(request);
        body = body with { UnitId = body.UnitId ?? unitId };
        if (body.UnitId != unitId)
            throw InputException.For("unitId", "A unit's id cannot change; it must equal the id in the URL.");
        var tree = await directory.GetKnowingAsync([unitId, body.ParentId], ct);
        var existing = tree.Find(unitId);
        if (existing is null) return NotFound(unitId);
        if (body.Type != existing.Type && tree.ChildrenOf(unitId).Count > 0)
            throw InputException.For("type", "The type of a unit that has children cannot change.");
        CheckParent(tree, unitId, body.Type!, body.ParentId);

        // The move and its message commit together (Wolverine's outbox in Marten's transaction).
        if (body.ParentId is null)
            session.QueueSqlCommand("update units set name = ?, type = ?, parent_id = null, updated_at = now() where unit_id = ?", body.Name!, body.Type!, unitId);
        else
            session.QueueSqlCommand("update units set name = ?, type = ?, parent_id = ?, updated_at = now() where unit_id = ?", body.Name!, body.Type!, body.ParentId, unitId);
        if (existing.ParentId != body.ParentId) await bus.PublishAsync(new UnitMoved(unitId, existing.ParentId, body.ParentId));
        await session.SaveChangesAsync(ct);
        await directory.ReloadAsync(ct);
        return TypedResults.Ok(ToResponse(new Unit(unitId, body.Name!, body.Type!, body.ParentId)));
    }

    static UnitRequest Normalize(UnitRequest u) => u with
    {
        UnitId = u.UnitId?.Trim(),
        Name = Text.IsStorable(u.Name) ? Text.Clean(u.Name) : u.Name,   // text that cannot be stored is the validator's to refuse
        Type = u.Type?.Trim(),
        ParentId = string.IsNullOrWhiteSpace(u.ParentId) ? null : u.ParentId.Trim(),
    };

    static void CheckParent(UnitTree tree, string unitId, string type, string? parentId)
    {
        var expected = ParentType[type];
        if (parentId is null)
        {
            if (expected is not null) throw InputException.For("parentId", $"A {type} needs a parent of type {expected}.");
            return;
        }
        var parent = tree.Find(parentId) ?? throw InputException.For("parentId", $"Unknown unit '{parentId}'.");
        if (expected is null) throw InputException.For("parentId", "A province has no parent.");
        if (parent.Type != expected) throw InputException.For("parentId", $"A {type} belongs under a {expected}, and '{parentId}' is a {parent.Type}.");
        if (tree.IsWithin(parentId, unitId)) throw InputException.For("parentId", "A unit cannot move under itself or its own subtree.");
    }

    static UnitResponse ToResponse(Unit u) => new(u.UnitId, u.Name, u.Type, u.ParentId);

    static ProblemHttpResult NotFound(string unitId) =>
        TypedResults.Problem($"Unit '{unitId}' does not exist.", statusCode: 404, title: "Not found");
}
