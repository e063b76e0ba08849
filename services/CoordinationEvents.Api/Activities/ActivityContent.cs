// TEMPORARY STUB — replaced by the validation branch.
using System.Text.Json;
using CoordinationEvents.Contracts.V1;

namespace CoordinationEvents.Api.Activities;

public sealed record ActivityContent(string ExternalId, string Kind, string UnitId, IReadOnlyList<string> PartnerUnitIds, DateOnly OccurredOn, DateOnly? EndsOn, ActivityLocation? Location, string Summary, IReadOnlyDictionary<string, JsonElement> Details)
{
    public string ContentHash() => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(this)));
    public decimal Metric(string name) => Details.TryGetValue(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDecimal() : 0m;
    public string? DimensionValue(string name) => Details.TryGetValue(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
