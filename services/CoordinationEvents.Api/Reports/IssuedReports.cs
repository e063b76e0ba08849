using System.Security.Cryptography;
using System.Text.Json;
using CoordinationEvents.Contracts.V1;
using Npgsql;
using Weasel.Postgresql.Tables;

namespace CoordinationEvents.Api.Reports;

/// <summary>
/// An issued report as its JSON rendering holds it: everything it was made from and everything it says. The
/// JSON, the Markdown and the Word document are rendered once, at issue, and stored as bytes (<c>issued_reports</c>),
/// so a later version of the service, a rebuild of the statistics or a correction never changes what was issued.
/// </summary>
/// <param name="UnitPath">The unit and its ancestors at issue time, root first (the report's lineage).</param>
/// <param name="Subtree">The units whose activities the figures counted, at issue time.</param>
/// <param name="Position">The event position the figures were computed at (the projection caught up to it).</param>
public sealed record IssuedReport(
    Guid ReportId,
    string Kind,
    string? UnitId,
    IReadOnlyList<string> UnitPath,
    IReadOnlyList<string> Subtree,
    DateOnly From,
    DateOnly To,
    long Position,
    DateTimeOffset IssuedAt,
    string IssuedBy,
    ReportHeading Heading,
    ReviewReportDocument Report);

/// <summary>The table of issued reports, written once per report and never updated.</summary>
public static class IssuedReportStore
{
    public const string Table = "issued_reports";

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        // Vietnamese as UTF-8, not \u escapes: the JSON is read by people as much as by programs.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static Table Definition()
    {
        var table = new Table(Table);
        table.AddColumn("report_id", "uuid").AsPrimaryKey();
        table.AddColumn("kind", "text").NotNull();
        table.AddColumn("unit_id", "text");
        table.AddColumn("period_from", "date").NotNull();
        table.AddColumn("period_to", "date").NotNull();
        table.AddColumn("number", "text").NotNull();
        table.AddColumn("position", "bigint").NotNull();
        table.AddColumn("issued_at", "timestamptz").NotNull();
        table.AddColumn("issued_by", "text").NotNull();
        table.AddColumn("content_hash", "text").NotNull();
        table.AddColumn("json", "bytea").NotNull();
        table.AddColumn("markdown", "bytea").NotNull();
        table.AddColumn("docx", "bytea").NotNull();
        table.Indexes.Add(new IndexDefinition("ix_issued_reports_unit_time") { Columns = ["unit_id", "issued_at"] });
        return table;
    }

    public static string Hash(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>The three renderings of <paramref name="report"/>, made once.</summary>
    public static (byte[] Json, byte[] Markdown, byte[] Docx) Render(IssuedReport report) => (
        JsonSerializer.SerializeToUtf8Bytes(report, Json),
        System.Text.Encoding.UTF8.GetBytes(ReviewReport.ToMarkdown(report.Report)),
        ReviewDocx.Render(report.Report, report.Heading));

    public static async Task<string> InsertAsync(NpgsqlDataSource db, IssuedReport report, CancellationToken ct)
    {
        var (json, markdown, docx) = Render(report);
        var hash = Hash(json);
        await using var cmd = db.CreateCommand($"""
            insert into {Table} (report_id, kind, unit_id, period_from, period_to, number, position, issued_at, issued_by, content_hash, json, markdown, docx)
            values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
            """);
        cmd.Parameters.AddWithValue(report.ReportId);
        cmd.Parameters.AddWithValue(report.Kind);
        cmd.Parameters.AddWithValue((object?)report.UnitId ?? DBNull.Value);
        cmd.Parameters.AddWithValue(report.From);
        cmd.Parameters.AddWithValue(report.To);
        cmd.Parameters.AddWithValue(report.Heading.Number);
        cmd.Parameters.AddWithValue(report.Position);
        cmd.Parameters.AddWithValue(report.IssuedAt);
        cmd.Parameters.AddWithValue(report.IssuedBy);
        cmd.Parameters.AddWithValue(hash);
        cmd.Parameters.AddWithValue(json);
        cmd.Parameters.AddWithValue(markdown);
        cmd.Parameters.AddWithValue(docx);
        await cmd.ExecuteNonQueryAsync(ct);
        return hash;
    }

    /// <summary>The stored bytes of one format ("json", "markdown", "docx"), or null when there is no such report.</summary>
    public static async Task<(byte[] Bytes, string Hash, string FileName)?> LoadBytesAsync(NpgsqlDataSource db, Guid reportId, string format, CancellationToken ct)
    {
        var column = format switch { "markdown" => "markdown", "docx" => "docx", _ => "json" };
        await using var cmd = db.CreateCommand($"select {column}, content_hash, unit_id, period_from, period_to from {Table} where report_id = $1");
        cmd.Parameters.AddWithValue(reportId);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct)) return null;
        var unitId = reader.IsDBNull(2) ? null : reader.GetString(2);
        return (reader.GetFieldValue<byte[]>(0), reader.GetString(1),
            ReportFormats.FileName(unitId, reader.GetFieldValue<DateOnly>(3), reader.GetFieldValue<DateOnly>(4)).Replace(".docx", $"-{reportId:N}.docx"));
    }

    public static async Task<IssuedReport?> LoadAsync(NpgsqlDataSource db, Guid reportId, CancellationToken ct) =>
        await LoadBytesAsync(db, reportId, "json", ct) is { } stored ? JsonSerializer.Deserialize<IssuedReport>(stored.Bytes, Json) : null;

    /// <summary>The issued reports, newest first: of a unit (exactly, not its subtree) and overlapping a period, when given.</summary>
    public static async Task<IReadOnlyList<IssuedReportSummary>> ListAsync(NpgsqlDataSource db, string? unitId, DateOnly? from, DateOnly? to, int limit, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand($"""
            select report_id, kind, unit_id, period_from, period_to, number, position, issued_at, issued_by, content_hash
            from {Table}
            where ($1::text is null or unit_id = $1)
              and ($2::date is null or period_to >= $2)
              and ($3::date is null or period_from <= $3)
            order by issued_at desc, report_id
            limit $4
            """);
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)unitId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = from is { } f ? f : DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Date });
        cmd.Parameters.Add(new NpgsqlParameter { Value = to is { } t ? t : DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Date });
        cmd.Parameters.AddWithValue(limit);
        var list = new List<IssuedReportSummary>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            list.Add(new IssuedReportSummary(reader.GetGuid(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.GetFieldValue<DateOnly>(3), reader.GetFieldValue<DateOnly>(4), reader.GetString(5), reader.GetInt64(6),
                reader.GetFieldValue<DateTimeOffset>(7), reader.GetString(8), reader.GetString(9)));
        return list;
    }
}
