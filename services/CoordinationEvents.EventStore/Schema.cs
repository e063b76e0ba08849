using Npgsql;

namespace CoordinationEvents.EventStore;

/// <summary>One idempotent schema change of one component, applied once, in version order.</summary>
public sealed record Migration(string Component, int Version, string Sql);

/// <summary>
/// Creates or upgrades the schema. All instances take one transaction-level advisory lock first, so two
/// instances starting at once apply each migration exactly once, and a failed migration changes nothing.
/// </summary>
public static class SchemaMigrator
{
    const long LockKey = 0x436F6F72644576; // "CoordEv"

    public static async Task MigrateAsync(NpgsqlDataSource dataSource, IEnumerable<Migration> migrations, CancellationToken ct = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await Execute(connection, $"select pg_advisory_xact_lock({LockKey})", ct);
        await Execute(connection, """
            create table if not exists schema_migrations (
                component text not null,
                version int not null,
                applied_at timestamptz not null default now(),
                primary key (component, version))
            """, ct);

        var applied = new HashSet<(string, int)>();
        await using (var cmd = new NpgsqlCommand("select component, version from schema_migrations", connection))
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct))
                applied.Add((reader.GetString(0), reader.GetInt32(1)));

        foreach (var migration in migrations.OrderBy(m => m.Component, StringComparer.Ordinal).ThenBy(m => m.Version))
        {
            if (applied.Contains((migration.Component, migration.Version))) continue;
            await Execute(connection, migration.Sql, ct);
            await using var record = new NpgsqlCommand("insert into schema_migrations (component, version) values ($1, $2)", connection);
            record.Parameters.AddWithValue(migration.Component);
            record.Parameters.AddWithValue(migration.Version);
            await record.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
    }

    static async Task Execute(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, connection);
        await cmd.ExecuteNonQueryAsync(ct);
    }
}

/// <summary>The event store's own tables.</summary>
public static class EventStoreSchema
{
    public const string Component = "event-store";

    public static IReadOnlyList<Migration> Migrations { get; } =
    [
        new(Component, 1, """
            create table streams (
                stream_id uuid primary key,
                stream_type text not null,
                version int not null check (version > 0),
                created_at timestamptz not null default now(),
                updated_at timestamptz not null default now());

            -- position: one global sequence; transaction_id: the appending transaction, so async readers can
            -- follow commit order ((transaction_id, position)) and never read past a transaction still open.
            create table events (
                position bigint generated always as identity primary key,
                transaction_id bigint not null default (pg_current_xact_id()::text::bigint),
                stream_id uuid not null references streams (stream_id),
                version int not null,
                type text not null,
                data jsonb not null,
                metadata jsonb not null,
                recorded_at timestamptz not null,
                constraint events_stream_version_unique unique (stream_id, version));

            create index events_commit_order on events (transaction_id, position);

            create table projections (
                name text primary key,
                last_transaction_id bigint not null default 0,
                last_position bigint not null default 0,
                events_applied bigint not null default 0,
                updated_at timestamptz not null default now(),
                rebuild_requested_at timestamptz,
                rebuild_started_at timestamptz,
                rebuild_transaction_id bigint,
                rebuild_position bigint,
                rebuild_events_applied bigint,
                last_rebuild_completed_at timestamptz,
                last_error text);
            """),
    ];
}
