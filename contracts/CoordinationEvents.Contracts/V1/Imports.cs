namespace CoordinationEvents.Contracts.V1;

/// <summary>The states of an import job.</summary>
public static class ImportStatus
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Completed = "completed";
    public const string Failed = "failed";
}

/// <summary>The answer to <c>POST /api/v1/imports</c> (202): the job, queued; follow <c>Location</c>.</summary>
public sealed record ImportAccepted(Guid ImportId, string Status, int Lines, int Chunks);

/// <summary>How many lines ended in each outcome, as for the items of a batch.</summary>
public sealed record ImportCounts(int Created, int Duplicate, int Invalid, int Conflict);

/// <summary>
/// A line that was not recorded: <c>invalid</c> (errors keyed by field as in a batch; <c>$</c> for the line as a
/// whole) or <c>conflict</c> (its externalId holds other content). <c>Line</c> is the 1-based line number in the
/// body as sent.
/// </summary>
public sealed record ImportLineProblem(int Line, string Status, IReadOnlyDictionary<string, string[]> Errors);

/// <summary>
/// An import job (<c>GET /api/v1/imports/{id}</c>). <c>Counts</c> cover the chunks done so far. <c>InvalidLines</c>
/// is one page of the lines not recorded, by line number; ask again with <c>invalidAfter=NextInvalidAfter</c>
/// for the next page (null: no more so far). <c>CompletedAt</c>: when the last chunk was done, or when the job
/// failed; <c>Failure</c> says why it failed (its chunks done stay recorded). A job is <c>queued</c> until its first
/// chunk is done.
/// </summary>
public sealed record ImportState(
    Guid ImportId,
    string Status,
    int Lines,
    int Chunks,
    int ChunksDone,
    ImportCounts Counts,
    IReadOnlyList<ImportLineProblem> InvalidLines,
    int? NextInvalidAfter,
    DateTimeOffset SubmittedAt,
    DateTimeOffset? CompletedAt,
    string? Failure);
