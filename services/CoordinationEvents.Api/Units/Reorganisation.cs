using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;
using Marten;

namespace CoordinationEvents.Api.Units;

/// <summary>One change of a reorganisation as stored (normalized): the request's change, with merge's and split's <c>into</c> apart.</summary>
public sealed record ReorganisationStep
{
    public required string Op { get; init; }
    public string? UnitId { get; init; }
    public IReadOnlyList<string>? UnitIds { get; init; }
    public string? Name { get; init; }
    public string? Type { get; init; }
    public string? ParentId { get; init; }
    /// <summary>merge: the successor.</summary>
    public string? Into { get; init; }
    /// <summary>split: the successors.</summary>
    public IReadOnlyList<string>? IntoUnits { get; init; }
    public string? ChildrenTo { get; init; }

    public ReorganisationChange ToContract() => new()
    {
        Op = Op, UnitId = UnitId, UnitIds = UnitIds, Name = Name, Type = Type, ParentId = ParentId, ChildrenTo = ChildrenTo,
        Into = Into is not null ? JsonSerializer.SerializeToElement(Into) : IntoUnits is not null ? JsonSerializer.SerializeToElement(IntoUnits) : null,
    };
}

/// <summary>
/// A reorganisation was recorded: the one event of its own stream (<see cref="Reorganisations.StreamIdOf"/>), stored as
/// <c>reorganisation-recorded</c>, in the same transaction as the unit events it made (each with its
/// <see cref="UnitEvent.ReorganisationId"/>). <see cref="Hash"/> is that of the normalized body: the same body again
/// is recognised, another one under the same id refused.
/// </summary>
public sealed record ReorganisationRecorded
{
    public required string ReorganisationId { get; init; }
    public required string Title { get; init; }
    public DateOnly EffectiveFrom { get; init; }
    public required IReadOnlyList<ReorganisationStep> Changes { get; init; }
    /// <summary>The units whose place or life the reorganisation changed (those of <c>OrganisationChanged</c>).</summary>
    public required IReadOnlyList<string> Units { get; init; }
    public required string Hash { get; init; }
    public DateTimeOffset RecordedAt { get; init; }
    public string By { get; init; } = "";
}

public static class Reorganisations
{
    public const string EventTypeName = "reorganisation-recorded";

    public const string AuditSubject = "reorganisation", AuditAction = "reorganisation-recorded";

    public static void Map(StoreOptions options) => options.Events.MapEventType<ReorganisationRecorded>(EventTypeName);

    /// <summary>A reorganisation's stream id: a name-based UUID (version 3 layout) of "reorganisation:" and its id.</summary>
    public static Guid StreamIdOf(string reorganisationId)
    {
        var hash = MD5.HashData(Encoding.UTF8.GetBytes("coordination-events/reorganisation:" + reorganisationId));
        hash[6] = (byte)((hash[6] & 0x0F) | 0x30);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash, bigEndian: true);
    }

    static readonly JsonSerializerOptions HashJson = new(JsonSerializerDefaults.Web);

    /// <summary>The hash of a normalized body (title, date, changes): equal bodies, equal hashes.</summary>
    public static string HashOf(string title, DateOnly effectiveFrom, IReadOnlyList<ReorganisationStep> changes) =>
        Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(new { title, effectiveFrom, changes }, HashJson)));

    public static async Task<ReorganisationRecorded?> FindAsync(IQuerySession session, string reorganisationId, CancellationToken ct)
    {
        var events = await session.Events.FetchStreamAsync(StreamIdOf(reorganisationId), token: ct);
        return events.Select(e => e.Data).OfType<ReorganisationRecorded>().FirstOrDefault();
    }

    public static ReorganisationResponse ToResponse(ReorganisationRecorded r, bool applied) =>
        new(r.ReorganisationId, r.Title, r.EffectiveFrom, r.Changes.Select(c => c.ToContract()).ToArray(), r.Units, r.RecordedAt, r.By, applied);
}
