using System.Text.Json;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Wolverine.Http;

namespace CoordinationEvents.Api.Admin;

/// <summary>
/// <c>GET /api/v1/admin/audit</c> (admin): who changed keys and units (<see cref="AuditTrail"/>), newest first.
/// <c>subjectType</c> (key, unit) and <c>subjectId</c> narrow it to one key's or one unit's history; <c>limit</c>
/// (1–1,000, default 100) and <c>before</c> (an entry's id) page through it.
/// </summary>
public static class GetAuditTrailEndpoint
{
    [WolverineGet("/api/v1/admin/audit", Name = "AuditTrail"), Authorize(Policy = Policies.Admin), Tags("Admin")]
    [EndpointSummary("Who changed API keys and units, and how, newest first: the whole history, or one key's or one unit's (subjectType, subjectId).")]
    public static async Task<Ok<AuditResponse>> Get(NpgsqlDataSource db, CancellationToken ct,
        string? subjectType = null, string? subjectId = null, int? limit = null, long? before = null)
    {
        if (subjectType is not null && subjectType != AuditTrail.Subjects.Key && subjectType != AuditTrail.Subjects.Unit)
            throw InputException.For("subjectType", $"'subjectType' is '{AuditTrail.Subjects.Key}' or '{AuditTrail.Subjects.Unit}'.");
        if (subjectId is not null && (subjectId.Length > 200 || !Text.IsStorable(subjectId)))
            throw InputException.For("subjectId", "'subjectId' is a key's or a unit's id.");
        if (limit is < 1 or > 1000) throw InputException.For("limit", "'limit' is between 1 and 1000.");

        await using var cmd = db.CreateCommand($"""
            select id, at, actor, action, subject_type, subject_id, details::text from {AuditTrail.TableName}
            where ($1::text is null or subject_type = $1) and ($2::text is null or subject_id = $2) and ($3::bigint is null or id < $3)
            order by id desc limit $4
            """);
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)subjectType ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)subjectId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)before ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint });
        cmd.Parameters.AddWithValue(limit ?? 100);
        var entries = new List<AuditEntry>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            entries.Add(new AuditEntry(reader.GetInt64(0), reader.GetFieldValue<DateTimeOffset>(1), reader.GetString(2), reader.GetString(3),
                reader.GetString(4), reader.GetString(5), JsonSerializer.Deserialize<JsonElement>(reader.GetString(6))));
        return TypedResults.Ok(new AuditResponse(entries));
    }
}
