// TEMPORARY STUB — replaced by the validation branch.
using CoordinationEvents.Contracts.V1;
using System.Text.Json;

namespace CoordinationEvents.Api.Activities;

public interface IUnitLookup { bool Exists(string unitId); string? TypeOf(string unitId); }

public sealed record ValidationOutcome(ActivityContent? Content, IReadOnlyDictionary<string, string[]> Errors) { public bool IsValid => Content is not null; }

public static class ActivityValidation
{
    public static ValidationOutcome Validate(ActivityRequest r, IUnitLookup units, DateOnly today)
    {
        if (r.ExternalId is null || r.Kind is null || r.UnitId is null || r.OccurredOn is null || !units.Exists(r.UnitId))
            return new(null, new Dictionary<string, string[]> { ["externalId"] = ["bad"] });
        var details = new SortedDictionary<string, JsonElement>(StringComparer.Ordinal);
        if (r.Details is { ValueKind: JsonValueKind.Object } d) foreach (var p in d.EnumerateObject()) details[p.Name] = p.Value.Clone();
        return new(new ActivityContent(r.ExternalId, r.Kind, r.UnitId, r.PartnerUnitIds ?? [], r.OccurredOn.Value, r.EndsOn, r.Location, r.Summary ?? "", details), new Dictionary<string, string[]>());
    }
}
