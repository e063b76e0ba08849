using System.Text.Json;
using CoordinationEvents.Contracts.V1;
using CoordinationEvents.EventStore;
using Npgsql;

namespace CoordinationEvents.Api.Activities;

/// <summary>
/// The current state of every activity, one row each, updated inline: it commits with the events, so a
/// GET after a POST always sees the write.
/// </summary>
public sealed class ActivityReadModel(EventTypeRegistry registry) : IInlineProjection
{
    public static readonly Migration Schema = new("activities", 1, """
        -- The idempotency guard of the write side: one activity per (posting system, externalId), ever.
        create table activity_keys (
            source_system text collate "C" not null,
            external_id text collate "C" not null,
            activity_id uuid not null unique,
            content_hash text not null,
            primary key (source_system, external_id));

        create table activities (
            activity_id uuid primary key,
            source_system text not null,
            external_id text not null,
            kind text collate "C" not null,
            unit_id text collate "C" not null,
            occurred_on date not null,
            status text not null,
            version int not null,
            recorded_at timestamptz not null,
            updated_at timestamptz not null,
            retraction_reason text,
            content jsonb not null);
        create index activities_by_date on activities (occurred_on desc, activity_id desc);
        create index activities_by_unit on activities (unit_id, occurred_on desc, activity_id desc);
        create index activities_by_kind on activities (kind, occurred_on desc, activity_id desc);
        """);

    public async Task ApplyAsync(NpgsqlConnection connection, IReadOnlyList<StoredEvent> events, CancellationToken ct)
    {
        var recorded = events.Where(e => e.Data is ActivityRecorded).ToArray();
        if (recorded.Length > 0)
        {
            var data = recorded.Select(e => (ActivityRecorded)e.Data).ToArray();
            await using var cmd = new NpgsqlCommand("""
                insert into activities (activity_id, source_system, external_id, kind, unit_id, occurred_on, status, version, recorded_at, updated_at, content)
                select id, source, external_id, kind, unit_id, occurred_on, 'active', version, at, at, content
                from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::date[], $7::int[], $8::timestamptz[], $9::jsonb[])
                    as r(id, source, external_id, kind, unit_id, occurred_on, version, at, content)
                """, connection);
            cmd.Parameters.AddWithValue(data.Select(d => d.ActivityId).ToArray());
            cmd.Parameters.AddWithValue(data.Select(d => d.SourceSystem).ToArray());
            cmd.Parameters.AddWithValue(data.Select(d => d.Content.ExternalId).ToArray());
            cmd.Parameters.AddWithValue(data.Select(d => d.Content.Kind).ToArray());
            cmd.Parameters.AddWithValue(data.Select(d => d.Content.UnitId).ToArray());
            cmd.Parameters.AddWithValue(data.Select(d => d.Content.OccurredOn).ToArray());
            cmd.Parameters.AddWithValue(recorded.Select(e => e.Version).ToArray());
            cmd.Parameters.AddWithValue(data.Select(d => d.RecordedAt.ToUniversalTime()).ToArray());
            cmd.Parameters.Add(new NpgsqlParameter { Value = data.Select(d => Serialize(d.Content)).ToArray(), NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text });
            await cmd.ExecuteNonQueryAsync(ct);
        }

        // Corrections and retractions are rare and one per stream per command: plain statements will do.
        foreach (var e in events)
        {
            switch (e.Data)
            {
                case ActivityCorrected c:
                {
                    await using var cmd = new NpgsqlCommand("""
                        update activities set kind = $2, unit_id = $3, occurred_on = $4, version = $5, updated_at = $6, content = $7::jsonb
                        where activity_id = $1
                        """, connection);
                    cmd.Parameters.AddWithValue(c.ActivityId);
                    cmd.Parameters.AddWithValue(c.Content.Kind);
                    cmd.Parameters.AddWithValue(c.Content.UnitId);
                    cmd.Parameters.AddWithValue(c.Content.OccurredOn);
                    cmd.Parameters.AddWithValue(e.Version);
                    cmd.Parameters.AddWithValue(c.CorrectedAt.ToUniversalTime());
                    cmd.Parameters.AddWithValue(Serialize(c.Content));
                    await cmd.ExecuteNonQueryAsync(ct);
                    break;
                }
                case ActivityRetracted r:
                {
                    await using var cmd = new NpgsqlCommand("""
                        update activities set status = 'retracted', retraction_reason = $2, version = $3, updated_at = $4
                        where activity_id = $1
                        """, connection);
                    cmd.Parameters.AddWithValue(r.ActivityId);
                    cmd.Parameters.AddWithValue(r.Reason);
                    cmd.Parameters.AddWithValue(e.Version);
                    cmd.Parameters.AddWithValue(r.RetractedAt.ToUniversalTime());
                    await cmd.ExecuteNonQueryAsync(ct);
                    break;
                }
            }
        }
    }

    string Serialize(ActivityContent content) => JsonSerializer.Serialize(content, registry.SerializerOptions);

    const string Columns = "activity_id, source_system, status, version, recorded_at, updated_at, retraction_reason, content::text, occurred_on";

    public static async Task<ActivityResponse?> GetAsync(NpgsqlDataSource db, JsonSerializerOptions json, Guid id, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand($"select {Columns} from activities where activity_id = $1");
        cmd.Parameters.AddWithValue(id);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader, json) : null;
    }

    public sealed record ListQuery(IReadOnlyList<string>? UnitIds, string? Kind, DateOnly? From, DateOnly? To, int Limit, (DateOnly OccurredOn, Guid Id)? After);

    /// <summary>Newest occurredOn first; keyset paging on (occurredOn, activityId).</summary>
    public static async Task<(IReadOnlyList<ActivityResponse> Items, (DateOnly, Guid)? Next)> ListAsync(NpgsqlDataSource db, JsonSerializerOptions json, ListQuery q, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand($"""
            select {Columns} from activities
            where ($1::text[] is null or unit_id = any($1))
              and ($2::text is null or kind = $2)
              and ($3::date is null or occurred_on >= $3)
              and ($4::date is null or occurred_on <= $4)
              and ($5::date is null or (occurred_on, activity_id) < ($5, $6))
            order by occurred_on desc, activity_id desc
            limit $7
            """);
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)q.UnitIds?.ToArray() ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)q.Kind ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)q.From ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Date });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)q.To ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Date });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)q.After?.OccurredOn ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Date });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)q.After?.Id ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid });
        cmd.Parameters.AddWithValue(q.Limit + 1);
        var items = new List<ActivityResponse>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) items.Add(Read(reader, json));
        if (items.Count <= q.Limit) return (items, null);
        items.RemoveAt(items.Count - 1);
        var last = items[^1];
        return (items, (last.OccurredOn, last.ActivityId));
    }

    static ActivityResponse Read(NpgsqlDataReader reader, JsonSerializerOptions json)
    {
        var content = JsonSerializer.Deserialize<ActivityContent>(reader.GetString(7), json)!;
        return new ActivityResponse(
            reader.GetGuid(0), content.ExternalId, content.Kind, content.UnitId, content.PartnerUnitIds, content.OccurredOn,
            content.EndsOn, content.Location, content.Summary, content.Details, reader.GetInt32(3), reader.GetString(1),
            reader.GetFieldValue<DateTimeOffset>(4), reader.GetFieldValue<DateTimeOffset>(5), reader.GetString(2),
            reader.IsDBNull(6) ? null : reader.GetString(6));
    }
}
