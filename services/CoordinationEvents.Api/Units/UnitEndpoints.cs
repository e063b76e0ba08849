using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Auth;
using CoordinationEvents.Api.Http;
using CoordinationEvents.Contracts.V1;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace CoordinationEvents.Api.Units;

/// <summary>Told when a unit gets a new parent, so that figures rolled up the tree can follow.</summary>
public interface IUnitMoveListener
{
    Task UnitMovedAsync(string unitId, CancellationToken ct);
}

public sealed class UnitRequestValidator : AbstractValidator<UnitRequest>
{
    public UnitRequestValidator()
    {
        RuleFor(u => u.UnitId).NotEmpty().MaximumLength(64).Matches("^[a-z0-9]+(-[a-z0-9]+)*$")
            .WithMessage("'unitId' must be a lowercase slug such as 'phong-tho'.");
        RuleFor(u => u.Name).NotEmpty().MaximumLength(200).Must(Text.IsStorable).WithMessage(Text.NotStorable("name"));
        RuleFor(u => u.Type).NotEmpty().Must(t => UnitTypes.All.Contains(t))
            .WithMessage($"'type' must be one of: {string.Join(", ", UnitTypes.All)}.");
    }
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

    static readonly UnitRequestValidator Validator = new();

    public static IEndpointRouteBuilder MapUnitEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/units").WithTags("Units");
        group.MapGet("/", GetTree).RequireAuthorization(Policies.ReadOwn)
            .WithSummary("The unit tree (provinces at the top). With ?name=, the units whose name contains it (NFC, case-insensitive), as a flat list.");
        group.MapGet("/{unitId}", GetOne).RequireAuthorization(Policies.ReadOwn);
        group.MapPost("/", Create).RequireAuthorization(Policies.Admin).Accepts<UnitRequest>("application/json");
        group.MapPut("/{unitId}", Update).RequireAuthorization(Policies.Admin).Accepts<UnitRequest>("application/json")
            .WithSummary("Rename or move a unit. Moving it re-projects the statistics, which roll up the tree.");
        return app;
    }

    static async Task<Ok<IReadOnlyList<UnitNode>>> GetTree(UnitDirectory directory, string? name, CancellationToken ct)
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

    static async Task<Results<Ok<UnitResponse>, ProblemHttpResult>> GetOne(string unitId, UnitDirectory directory, CancellationToken ct)
    {
        var unit = (await directory.GetKnowingAsync([unitId], ct)).Find(unitId);
        return unit is null ? NotFound(unitId) : TypedResults.Ok(ToResponse(unit));
    }

    static async Task<Created<UnitResponse>> Create(HttpRequest request, UnitDirectory directory, NpgsqlDataSource db, CancellationToken ct)
    {
        var body = Normalize(await JsonBody.ReadAsync<UnitRequest>(request, JsonBody.SingleLimit, ct));
        Validate(body);
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

    static async Task<Results<Ok<UnitResponse>, ProblemHttpResult>> Update(
        string unitId, HttpRequest request, UnitDirectory directory, NpgsqlDataSource db, IEnumerable<IUnitMoveListener> listeners, CancellationToken ct)
    {
        var body = Normalize(await JsonBody.ReadAsync<UnitRequest>(request, JsonBody.SingleLimit, ct));
        body = body with { UnitId = body.UnitId ?? unitId };
        Validate(body);
        if (body.UnitId != unitId)
            throw InputException.For("unitId", "A unit's id cannot change; it must equal the id in the URL.");
        var tree = await directory.GetKnowingAsync([unitId, body.ParentId], ct);
        var existing = tree.Find(unitId);
        if (existing is null) return NotFound(unitId);
        if (body.Type != existing.Type && tree.ChildrenOf(unitId).Count > 0)
            throw InputException.For("type", "The type of a unit that has children cannot change.");
        CheckParent(tree, unitId, body.Type!, body.ParentId);

        await using var cmd = db.CreateCommand("update units set name = $2, type = $3, parent_id = $4, updated_at = now() where unit_id = $1");
        cmd.Parameters.AddWithValue(unitId);
        cmd.Parameters.AddWithValue(body.Name!);
        cmd.Parameters.AddWithValue(body.Type!);
        cmd.Parameters.AddWithValue((object?)body.ParentId ?? DBNull.Value);
        await cmd.ExecuteNonQueryAsync(ct);
        await directory.ReloadAsync(ct);
        if (existing.ParentId != body.ParentId)
            foreach (var listener in listeners) await listener.UnitMovedAsync(unitId, ct);
        return TypedResults.Ok(ToResponse(new Unit(unitId, body.Name!, body.Type!, body.ParentId)));
    }

    static UnitRequest Normalize(UnitRequest u) => u with
    {
        UnitId = u.UnitId?.Trim(),
        Name = Text.IsStorable(u.Name) ? Text.Clean(u.Name) : u.Name,   // text that cannot be stored is the validator's to refuse
        Type = u.Type?.Trim(),
        ParentId = string.IsNullOrWhiteSpace(u.ParentId) ? null : u.ParentId.Trim(),
    };

    static void Validate(UnitRequest body)
    {
        var result = Validator.Validate(body);
        if (!result.IsValid)
            throw new InputException(result.Errors.GroupBy(e => char.ToLowerInvariant(e.PropertyName[0]) + e.PropertyName[1..])
                .ToDictionary(g => g.Key, g => g.Select(e => e.ErrorMessage).ToArray()));
    }

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
