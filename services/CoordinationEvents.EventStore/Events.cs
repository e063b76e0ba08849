using System.Text.Json;

namespace CoordinationEvents.EventStore;

/// <summary>Who caused an event, on whose behalf, and when. Stored as jsonb beside the event's data.</summary>
public sealed record EventMetadata(string Actor, string? CorrelationId, DateTimeOffset RecordedAt);

/// <summary>An event as the store holds it.</summary>
/// <param name="Position">Unique, from one global sequence. Sequence order is not commit order.</param>
/// <param name="TransactionId">The id of the transaction that appended it (<c>pg_current_xact_id()</c>).</param>
public sealed record StoredEvent(
    long Position,
    long TransactionId,
    Guid StreamId,
    int Version,
    string Type,
    object Data,
    EventMetadata Metadata)
{
    public LogCursor Cursor => new(TransactionId, Position);
}

/// <summary>
/// A place in the global log in commit order: events are read in (transaction id, position) order and only
/// below the oldest transaction still running, so a late commit can never land behind a reader's cursor.
/// </summary>
public readonly record struct LogCursor(long TransactionId, long Position) : IComparable<LogCursor>
{
    public static readonly LogCursor Start = new(0, 0);

    public int CompareTo(LogCursor other) =>
        TransactionId != other.TransactionId ? TransactionId.CompareTo(other.TransactionId) : Position.CompareTo(other.Position);

    public static bool operator <(LogCursor a, LogCursor b) => a.CompareTo(b) < 0;
    public static bool operator >(LogCursor a, LogCursor b) => a.CompareTo(b) > 0;
    public static bool operator <=(LogCursor a, LogCursor b) => a.CompareTo(b) <= 0;
    public static bool operator >=(LogCursor a, LogCursor b) => a.CompareTo(b) >= 0;

    /// <summary>An opaque token for HTTP consumers.</summary>
    public override string ToString() => $"{TransactionId}-{Position}";

    public static bool TryParse(string? text, out LogCursor cursor)
    {
        cursor = Start;
        if (string.IsNullOrEmpty(text)) return true;
        var parts = text.Split('-');
        if (parts.Length == 2
            && long.TryParse(parts[0], System.Globalization.NumberStyles.None, null, out var xid)
            && long.TryParse(parts[1], System.Globalization.NumberStyles.None, null, out var position))
        {
            cursor = new LogCursor(xid, position);
            return true;
        }
        return false;
    }
}

/// <summary>What one stream should get in an append.</summary>
/// <param name="ExpectedVersion">The stream's version the decision was made on; 0 means the stream must not exist yet.</param>
public sealed record StreamAppend(Guid StreamId, string StreamType, int ExpectedVersion, IReadOnlyList<object> Events, EventMetadata Metadata);

/// <summary>The outcome for one stream: appended (with its stored events), or lost the race.</summary>
public sealed record AppendOutcome(Guid StreamId, bool Appended, IReadOnlyList<StoredEvent> Events)
{
    public int NextVersion => Events.Count > 0 ? Events[^1].Version : 0;
}

/// <summary>The stream was not at the expected version: another writer got there first.</summary>
public sealed class ConcurrencyException(Guid streamId, int expectedVersion)
    : Exception($"Stream {streamId} is no longer at version {expectedVersion}.")
{
    public Guid StreamId { get; } = streamId;
    public int ExpectedVersion { get; } = expectedVersion;
}

/// <summary>
/// Stable event type names, never .NET type names: renaming a class must not break five years of data.
/// </summary>
public sealed class EventTypeRegistry
{
    readonly Dictionary<string, Type> byName = new(StringComparer.Ordinal);
    readonly Dictionary<Type, string> byType = new();

    public EventTypeRegistry(JsonSerializerOptions? options = null) =>
        SerializerOptions = options ?? new JsonSerializerOptions(JsonSerializerDefaults.Web);

    public JsonSerializerOptions SerializerOptions { get; }

    public EventTypeRegistry Register<T>(string name)
    {
        if (byName.TryGetValue(name, out var existing) && existing != typeof(T))
            throw new InvalidOperationException($"Event type name '{name}' is already registered for {existing.Name}.");
        byName[name] = typeof(T);
        byType[typeof(T)] = name;
        return this;
    }

    public string NameOf(object @event) =>
        byType.TryGetValue(@event.GetType(), out var name)
            ? name
            : throw new InvalidOperationException($"Event type {@event.GetType().Name} is not registered.");

    public string Serialize(object @event) => JsonSerializer.Serialize(@event, @event.GetType(), SerializerOptions);

    /// <summary>Unknown names come back as a <see cref="JsonElement"/>, so old or foreign events never break a read.</summary>
    public object Deserialize(string name, string json) =>
        byName.TryGetValue(name, out var type)
            ? JsonSerializer.Deserialize(json, type, SerializerOptions)!
            : JsonSerializer.Deserialize<JsonElement>(json);

    public JsonElement ToJson(object data) =>
        data is JsonElement element ? element : JsonSerializer.SerializeToElement(data, data.GetType(), SerializerOptions);
}
