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
    }

    static bool IsUpdate(ValidationContext<UnitRequest> context) =>
        context.RootContextData.TryGetValue(FluentValidationPolicy.HttpContextKey, out var http)
        && HttpMethods.IsPut(((HttpContext)http).Request.Method);
}

/// <summary>The rules of the tree that the create and update use cases share: where a unit may hang, and the stored form of a request.</summary>
public static class UnitRules
{
    /// <summary>Which parent type each unit type hangs under (null: a root).</summary>
    static readonly Dictionary<string, string?> ParentType = new()
    {
        [UnitTypes.Province] = null,
        [UnitTypes.District] = UnitTypes.Province,
        [UnitTypes.BorderPost] = UnitTypes.District,
        [UnitTypes.Commune] = UnitTypes.District,
    };

    public static UnitRequest Normalize(UnitRequest u) => u with
    {
        UnitId = u.UnitId?.Trim(),
        Name = Text.IsStorable(u.Name) ? Text.Clean(u.Name) : u.Name,   // text that cannot be stored is the validator's to refuse
        Type = u.Type?.Trim(),
        ParentId = string.IsNullOrWhiteSpace(u.ParentId) ? null : u.ParentId.Trim(),
    };

    public static void CheckParent(UnitTree tree, string unitId, string type, string? parentId)
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

    public static UnitResponse ToResponse(Unit u) => new(u.UnitId, u.Name, u.Type, u.ParentId);

    public static ProblemHttpResult NotFound(string unitId) =>
        TypedResults.Problem($"Unit '{unitId}' does not exist.", statusCode: 404, title: "Not found");
}
