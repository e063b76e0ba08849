using System.Text.Json;

namespace CoordinationEvents.Contracts.V1;

public sealed record FeedEvent(long Position, string Type, Guid ActivityId, int Version, DateTimeOffset RecordedAt, JsonElement Data);

public sealed record FeedPage(IReadOnlyList<FeedEvent> Events, string? NextAfter);
