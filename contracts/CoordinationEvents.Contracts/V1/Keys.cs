namespace CoordinationEvents.Contracts.V1;

/// <summary>A new API key (admin): for whom, with which role, and (reporters only) which units' subtrees it may write.</summary>
public sealed record KeyRequest
{
    /// <summary>The client's name: the idempotency scope of <c>externalId</c>, and the name in events and history.</summary>
    public string? Client { get; init; }
    /// <summary>reporter, analyst or admin.</summary>
    public string? Role { get; init; }
    /// <summary>Reporter only: unit ids whose subtrees it may write. Empty or absent: every unit.</summary>
    public IReadOnlyList<string>? Scope { get; init; }
}

/// <summary>
/// A key as administrators see it: never its secret nor its hash. <c>Source</c> is <c>runtime</c> (made through the API:
/// it has an id, and can be rotated and revoked) or <c>configuration</c> (ApiKeys in configuration: no id).
/// </summary>
public sealed record KeyResponse(
    string? KeyId,
    string Client,
    string Role,
    IReadOnlyList<string> Scope,
    string Source,
    DateTimeOffset? CreatedAt,
    string? CreatedBy,
    DateTimeOffset? RotatedAt,
    DateTimeOffset? RevokedAt,
    string? RevokedBy);

/// <summary>A key just made or rotated, with its secret: shown this once, never stored (only its SHA-256 is).</summary>
public sealed record KeySecretResponse(string KeyId, string Secret, KeyResponse Key);

public sealed record KeyListResponse(IReadOnlyList<KeyResponse> Keys);

/// <summary>One change to a key or a unit: who (<c>Actor</c>, the caller's client name), what, when, and the change itself.</summary>
public sealed record AuditEntry(long Id, DateTimeOffset At, string Actor, string Action, string SubjectType, string SubjectId, System.Text.Json.JsonElement Details);

public sealed record AuditResponse(IReadOnlyList<AuditEntry> Entries);
