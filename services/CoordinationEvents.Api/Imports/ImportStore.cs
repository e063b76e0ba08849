using System.Text.Json;
using Npgsql;
using Weasel.Postgresql.Tables;

namespace CoordinationEvents.Api.Imports;

/// <summary>
/// The tables of imports, created and upgraded by Marten (Weasel) with the rest of the schema:
/// <list type="bullet">
/// <item><c>import_jobs</c>: one row per job, written once with the job's first message (the outbox); who posted
/// it (the idempotency scope of externalId, and the unit scope), its size, and a failure if it gave up.</item>
/// <item><c>import_lines</c>: the raw lines as sent (bytea, COPY'd while the body streams in), numbered, in chunks
/// of <see cref="StartImportEndpoint.ChunkSize"/>; a chunk's lines are deleted by the transaction that records them.</item>
/// <item><c>import_chunks</c>: one row per chunk done, with its counts, written once, in the transaction that
/// appends the chunk's events. It is the guard against doubling: a chunk whose row exists is skipped.</item>
/// <item><c>import_line_problems</c>: the lines of a done chunk that were not recorded, with their errors.</item>
/// </list>
/// </summary>
public static class ImportStore
{
    public const string Jobs = "import_jobs";
    public const string Lines = "import_lines";
    public const string Chunks = "import_chunks";
    public const string Problems = "import_line_problems";

    public static IEnumerable<Table> Tables()
    {
        var jobs = new Table(Jobs);
        jobs.AddColumn("import_id", "uuid").AsPrimaryKey();
        jobs.AddColumn("client", "text").NotNull();
        jobs.AddColumn("role", "text").NotNull();
        jobs.AddColumn("scope", "text[]").NotNull();
        jobs.AddColumn("correlation_id", "text");
        jobs.AddColumn("lines", "integer").NotNull();
        jobs.AddColumn("chunks", "integer").NotNull();
        jobs.AddColumn("submitted_at", "timestamptz").NotNull();
        jobs.AddColumn("failed_at", "timestamptz");
        jobs.AddColumn("failure", "text");
        yield return jobs;

        var lines = new Table(Lines);
        lines.AddColumn("import_id", "uuid").AsPrimaryKey();
        lines.AddColumn("chunk", "integer").AsPrimaryKey();
        lines.AddColumn("line", "integer").AsPrimaryKey();
        lines.AddColumn("body", "bytea"); // null: the line was longer than an activity may be
        yield return lines;

        var chunks = new Table(Chunks);
        chunks.AddColumn("import_id", "uuid").AsPrimaryKey();
        chunks.AddColumn("chunk", "integer").AsPrimaryKey();
        chunks.AddColumn("created", "integer").NotNull();
        chunks.AddColumn("duplicate", "integer").NotNull();
        chunks.AddColumn("invalid", "integer").NotNull();
        chunks.AddColumn("conflict", "integer").NotNull();
        chunks.AddColumn("completed_at", "timestamptz").NotNull();
        yield return chunks;

        var problems = new Table(Problems);
        problems.AddColumn("import_id", "uuid").AsPrimaryKey();
        problems.AddColumn("line", "integer").AsPrimaryKey();
        problems.AddColumn("status", "text").NotNull();
        // JSON as text, not jsonb: an error message may quote what was sent, and jsonb refuses the escape of NUL (\u0000).
        problems.AddColumn("errors", "text").NotNull();
        yield return problems;
    }

    /// <summary>A job as stored.</summary>
    public sealed record Job(Guid ImportId, string Client, string Role, string[] Scope, string? CorrelationId, int Lines, int Chunks,
        DateTimeOffset SubmittedAt, DateTimeOffset? FailedAt, string? Failure);

    public static async Task<Job?> LoadJobAsync(NpgsqlDataSource db, Guid importId, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand($"select client, role, scope, correlation_id, lines, chunks, submitted_at, failed_at, failure from {Jobs} where import_id = $1");
        cmd.Parameters.AddWithValue(importId);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct)) return null;
        return new Job(importId, reader.GetString(0), reader.GetString(1), reader.GetFieldValue<string[]>(2),
            reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetInt32(4), reader.GetInt32(5),
            reader.GetFieldValue<DateTimeOffset>(6), reader.IsDBNull(7) ? null : reader.GetFieldValue<DateTimeOffset>(7),
            reader.IsDBNull(8) ? null : reader.GetString(8));
    }

    public static async Task<bool> ChunkDoneAsync(NpgsqlDataSource db, Guid importId, int chunk, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand($"select exists (select 1 from {Chunks} where import_id = $1 and chunk = $2)");
        cmd.Parameters.AddWithValue(importId);
        cmd.Parameters.AddWithValue(chunk);
        return (bool)(await cmd.ExecuteScalarAsync(ct))!;
    }

    /// <summary>A chunk's lines in order: (line number, raw bytes or null when too long).</summary>
    public static async Task<List<(int Line, byte[]? Body)>> LoadLinesAsync(NpgsqlDataSource db, Guid importId, int chunk, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand($"select line, body from {Lines} where import_id = $1 and chunk = $2 order by line");
        cmd.Parameters.AddWithValue(importId);
        cmd.Parameters.AddWithValue(chunk);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var lines = new List<(int, byte[]?)>(StartImportEndpoint.ChunkSize);
        while (await reader.ReadAsync(ct))
            lines.Add((reader.GetInt32(0), reader.IsDBNull(1) ? null : reader.GetFieldValue<byte[]>(1)));
        return lines;
    }

    /// <summary>Marks a job failed (its chunks gave up after their retries); the chunks done stay done.</summary>
    public static async Task MarkFailedAsync(NpgsqlDataSource db, Guid importId, string failure, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand($"update {Jobs} set failed_at = now(), failure = $2 where import_id = $1 and failed_at is null");
        cmd.Parameters.AddWithValue(importId);
        cmd.Parameters.AddWithValue(failure);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Removes the lines of an upload that did not become a job (refused, or the client went away).</summary>
    public static async Task DeleteLinesAsync(NpgsqlDataSource db, Guid importId)
    {
        await using var cmd = db.CreateCommand($"delete from {Lines} where import_id = $1");
        cmd.Parameters.AddWithValue(importId);
        await cmd.ExecuteNonQueryAsync(CancellationToken.None);
    }

    public static string ErrorsJson(IReadOnlyDictionary<string, string[]> errors) => JsonSerializer.Serialize(errors);

    public static IReadOnlyDictionary<string, string[]> ErrorsFrom(string json) =>
        JsonSerializer.Deserialize<Dictionary<string, string[]>>(json) ?? [];
}
