using Npgsql;

namespace CoordinationEvents.EventStore;

/// <summary>Runs inside the append's transaction: its writes commit with the events, or neither does.</summary>
public interface IInlineProjection
{
    Task ApplyAsync(NpgsqlConnection connection, IReadOnlyList<StoredEvent> events, CancellationToken ct);
}

/// <summary>
/// Follows the global log in the background, in batches. Each batch's writes and the projection's new
/// position commit in one transaction, so a crash never applies an event twice and never skips one.
/// </summary>
public interface IAsyncProjection
{
    /// <summary>Stable name: the key of its stored progress.</summary>
    string Name { get; }

    /// <summary>
    /// The tables the projection writes. A rebuild fills copies of them (<c>CREATE TABLE … (LIKE … INCLUDING ALL)</c>)
    /// and swaps them in when it has caught up.
    /// </summary>
    IReadOnlyList<string> Tables { get; }

    /// <summary>Applies a batch in commit order. Write only to <see cref="ProjectionTarget.Table"/> names.</summary>
    Task ApplyAsync(NpgsqlConnection connection, ProjectionTarget target, IReadOnlyList<StoredEvent> events, CancellationToken ct);
}

/// <summary>
/// A projection that can fill fresh tables from the events table in one set-based statement, much faster
/// than replaying batches. A rebuild uses it for everything committed before it starts (below
/// <c>horizon</c>: events whose transaction id is lower), then replays the rest in batches as usual.
/// </summary>
public interface ISetBasedRebuild
{
    Task FillAsync(NpgsqlConnection connection, ProjectionTarget target, long horizon, CancellationToken ct);
}

/// <summary>Where a batch goes: the live tables, or a rebuild's copies of them.</summary>
public sealed record ProjectionTarget(bool IsRebuild)
{
    public const string RebuildSuffix = "__rebuild";
    public static readonly ProjectionTarget Live = new(false);
    public static readonly ProjectionTarget Rebuild = new(true);

    public string Table(string table) => IsRebuild ? table + RebuildSuffix : table;
}

public sealed record ProjectionStatus(
    string Name,
    long Position,
    long TransactionId,
    long EventsApplied,
    long Lag,
    DateTimeOffset UpdatedAt,
    bool Rebuilding,
    long? RebuildPosition,
    long? RebuildEventsApplied,
    DateTimeOffset? RebuildRequestedAt,
    DateTimeOffset? LastRebuildCompletedAt,
    string? LastError);
