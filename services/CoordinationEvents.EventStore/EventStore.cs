using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace CoordinationEvents.EventStore;

/// <summary>
/// Appends events to streams with expected versions and reads them back, per stream or as one global log in
/// commit order. Inline projections run inside the append's transaction: they commit with it or not at all.
/// </summary>
public sealed class EventStore(NpgsqlDataSource dataSource, EventTypeRegistry registry, IEnumerable<IInlineProjection> inlineProjections)
{
    readonly IInlineProjection[] inline = inlineProjections.ToArray();

    public NpgsqlDataSource DataSource => dataSource;

    /// <summary>Raised in this process after a transaction with appended events commits (async runners wake on it).</summary>
    public event Action? Committed;

    internal void OnCommitted() => Committed?.Invoke();
    public EventTypeRegistry Registry => registry;

    /// <summary>A connection with an open transaction, for appends together with the caller's own SQL.</summary>
    public async Task<EventSession> OpenSessionAsync(CancellationToken ct = default)
    {
        var connection = await dataSource.OpenConnectionAsync(ct);
        try
        {
            var tx = await connection.BeginTransactionAsync(ct);
            return new EventSession(this, connection, tx);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Appends to one stream in its own transaction; throws <see cref="ConcurrencyException"/> when the race is lost.</summary>
    public async Task<AppendOutcome> AppendAsync(StreamAppend append, CancellationToken ct = default)
    {
        await using var session = await OpenSessionAsync(ct);
        var outcome = (await session.AppendAsync([append], ct))[0];
        if (!outcome.Appended) throw new ConcurrencyException(append.StreamId, append.ExpectedVersion);
        await session.CommitAsync(ct);
        return outcome;
    }

    public async Task<IReadOnlyList<StoredEvent>> ReadStreamAsync(Guid streamId, CancellationToken ct = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return await ReadStreamAsync(connection, streamId, ct);
    }

    public async Task<IReadOnlyList<StoredEvent>> ReadStreamAsync(NpgsqlConnection connection, Guid streamId, CancellationToken ct = default)
    {
        await using var cmd = new NpgsqlCommand($"select {Columns} from events where stream_id = $1 order by version", connection);
        cmd.Parameters.AddWithValue(streamId);
        return await ReadEvents(cmd, ct);
    }

    /// <summary>
    /// The next committed events after <paramref name="after"/> in commit order. Only events of transactions
    /// older than every transaction still running are returned, so nothing can commit behind the cursor later.
    /// </summary>
    public async Task<IReadOnlyList<StoredEvent>> ReadLogAsync(LogCursor after, int limit, CancellationToken ct = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return await ReadLogAsync(connection, after, limit, ct);
    }

    public async Task<IReadOnlyList<StoredEvent>> ReadLogAsync(NpgsqlConnection connection, LogCursor after, int limit, CancellationToken ct = default)
    {
        await using var cmd = new NpgsqlCommand($"""
            select {Columns} from events
            where (transaction_id, position) > ($1, $2)
              and transaction_id < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
            order by transaction_id, position
            limit $3
            """, connection);
        cmd.Parameters.AddWithValue(after.TransactionId);
        cmd.Parameters.AddWithValue(after.Position);
        cmd.Parameters.AddWithValue(limit);
        return await ReadEvents(cmd, ct);
    }

    /// <summary>
    /// Starts many new streams fast, for backfills and benchmark data: binary COPY of the streams and their
    /// events, then the inline projections, all in one transaction per call. Every stream must be new
    /// (expected version 0); an existing one fails the whole call with a <see cref="ConcurrencyException"/>.
    /// </summary>
    public async Task<long> BulkStartStreamsAsync(IReadOnlyList<StreamAppend> appends, CancellationToken ct = default)
    {
        if (appends.Any(a => a.ExpectedVersion != 0)) throw new ArgumentException("Bulk import starts new streams only.", nameof(appends));
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        try
        {
            await using (var copy = await connection.BeginBinaryImportAsync("copy streams (stream_id, stream_type, version) from stdin (format binary)", ct))
            {
                foreach (var a in appends)
                {
                    await copy.StartRowAsync(ct);
                    await copy.WriteAsync(a.StreamId, NpgsqlDbType.Uuid, ct);
                    await copy.WriteAsync(a.StreamType, NpgsqlDbType.Text, ct);
                    await copy.WriteAsync(a.Events.Count, NpgsqlDbType.Integer, ct);
                }
                await copy.CompleteAsync(ct);
            }
            await using (var copy = await connection.BeginBinaryImportAsync("copy events (stream_id, version, type, data, metadata, recorded_at) from stdin (format binary)", ct))
            {
                foreach (var a in appends)
                {
                    var metadata = JsonSerializer.Serialize(a.Metadata, registry.SerializerOptions);
                    for (var i = 0; i < a.Events.Count; i++)
                    {
                        await copy.StartRowAsync(ct);
                        await copy.WriteAsync(a.StreamId, NpgsqlDbType.Uuid, ct);
                        await copy.WriteAsync(i + 1, NpgsqlDbType.Integer, ct);
                        await copy.WriteAsync(registry.NameOf(a.Events[i]), NpgsqlDbType.Text, ct);
                        await copy.WriteAsync(registry.Serialize(a.Events[i]), NpgsqlDbType.Jsonb, ct);
                        await copy.WriteAsync(metadata, NpgsqlDbType.Jsonb, ct);
                        await copy.WriteAsync(a.Metadata.RecordedAt.ToUniversalTime(), NpgsqlDbType.TimestampTz, ct);
                    }
                }
                await copy.CompleteAsync(ct);
            }
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            throw new ConcurrencyException(appends[0].StreamId, 0);
        }

        if (inline.Length > 0)
        {
            // Positions and transaction id are assigned by the database: read the events back for the projections.
            await using var cmd = new NpgsqlCommand($"select {Columns} from events where stream_id = any($1) order by position", connection);
            cmd.Parameters.AddWithValue(appends.Select(a => a.StreamId).ToArray());
            var stored = await ReadEvents(cmd, ct);
            foreach (var projection in inline) await projection.ApplyAsync(connection, stored, ct);
        }
        await tx.CommitAsync(ct);
        OnCommitted();
        return appends.Sum(a => (long)a.Events.Count);
    }

    /// <summary>The highest position appended so far, and how many events there are.</summary>
    public async Task<(long Head, long Count)> HeadAsync(CancellationToken ct = default)
    {
        await using var cmd = dataSource.CreateCommand("select coalesce(max(position), 0), count(*) from events");
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    const string Columns = "position, transaction_id, stream_id, version, type, data::text, metadata::text";

    async Task<IReadOnlyList<StoredEvent>> ReadEvents(NpgsqlCommand cmd, CancellationToken ct)
    {
        var events = new List<StoredEvent>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var type = reader.GetString(4);
            events.Add(new StoredEvent(
                reader.GetInt64(0), reader.GetInt64(1), reader.GetGuid(2), reader.GetInt32(3), type,
                registry.Deserialize(type, reader.GetString(5)),
                JsonSerializer.Deserialize<EventMetadata>(reader.GetString(6), registry.SerializerOptions)!));
        }
        return events;
    }

    internal async Task<IReadOnlyList<AppendOutcome>> AppendAsync(NpgsqlConnection connection, IReadOnlyList<StreamAppend> appends, CancellationToken ct)
    {
        if (appends.Select(a => a.StreamId).Distinct().Count() != appends.Count)
            throw new ArgumentException("One append may name each stream once.", nameof(appends));
        if (appends.Count == 0) return [];

        // Claim the versions first. Both statements take the stream's row lock, so of two racing writers the
        // second waits for the first to commit and then finds the version moved: it loses, without an error
        // that would abort the transaction (and the other streams' appends in it).
        var winners = new HashSet<Guid>();
        var ordered = appends.Where(a => a.Events.Count > 0).OrderBy(a => a.StreamId).ToArray();
        var created = ordered.Where(a => a.ExpectedVersion == 0).ToArray();
        var advanced = ordered.Where(a => a.ExpectedVersion > 0).ToArray();

        if (created.Length > 0)
        {
            await using var cmd = new NpgsqlCommand("""
                insert into streams (stream_id, stream_type, version)
                select * from unnest($1::uuid[], $2::text[], $3::int[])
                on conflict (stream_id) do nothing
                returning stream_id
                """, connection);
            cmd.Parameters.AddWithValue(created.Select(a => a.StreamId).ToArray());
            cmd.Parameters.AddWithValue(created.Select(a => a.StreamType).ToArray());
            cmd.Parameters.AddWithValue(created.Select(a => a.Events.Count).ToArray());
            await CollectIds(cmd, winners, ct);
        }
        if (advanced.Length > 0)
        {
            await using var cmd = new NpgsqlCommand("""
                update streams s set version = v.next_version, updated_at = now()
                from unnest($1::uuid[], $2::int[], $3::int[]) as v(stream_id, expected_version, next_version)
                where s.stream_id = v.stream_id and s.version = v.expected_version
                returning s.stream_id
                """, connection);
            cmd.Parameters.AddWithValue(advanced.Select(a => a.StreamId).ToArray());
            cmd.Parameters.AddWithValue(advanced.Select(a => a.ExpectedVersion).ToArray());
            cmd.Parameters.AddWithValue(advanced.Select(a => a.ExpectedVersion + a.Events.Count).ToArray());
            await CollectIds(cmd, winners, ct);
        }

        var rows = ordered.Where(a => winners.Contains(a.StreamId))
            .SelectMany(a => a.Events.Select((e, i) => (Append: a, Event: e, Version: a.ExpectedVersion + i + 1)))
            .ToArray();
        var stored = new Dictionary<(Guid, int), StoredEvent>();
        if (rows.Length > 0)
        {
            await using var cmd = new NpgsqlCommand("""
                insert into events (stream_id, version, type, data, metadata, recorded_at)
                select * from unnest($1::uuid[], $2::int[], $3::text[], $4::jsonb[], $5::jsonb[], $6::timestamptz[])
                returning position, transaction_id, stream_id, version
                """, connection);
            cmd.Parameters.AddWithValue(rows.Select(r => r.Append.StreamId).ToArray());
            cmd.Parameters.AddWithValue(rows.Select(r => r.Version).ToArray());
            cmd.Parameters.AddWithValue(rows.Select(r => registry.NameOf(r.Event)).ToArray());
            cmd.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => registry.Serialize(r.Event)).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            cmd.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => JsonSerializer.Serialize(r.Append.Metadata, registry.SerializerOptions)).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            cmd.Parameters.AddWithValue(rows.Select(r => r.Append.Metadata.RecordedAt.ToUniversalTime()).ToArray());
            var byKey = rows.ToDictionary(r => (r.Append.StreamId, r.Version));
            try
            {
                await using var reader = await cmd.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    var key = (reader.GetGuid(2), reader.GetInt32(3));
                    var row = byKey[key];
                    stored[key] = new StoredEvent(reader.GetInt64(0), reader.GetInt64(1), key.Item1, key.Item2,
                        registry.NameOf(row.Event), row.Event, row.Append.Metadata);
                }
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                // The final guard: only reachable if something wrote events around the streams table.
                var lost = rows[0].Append;
                throw new ConcurrencyException(lost.StreamId, lost.ExpectedVersion);
            }
        }

        var outcomes = appends.Select(a => winners.Contains(a.StreamId) || a.Events.Count == 0
            ? new AppendOutcome(a.StreamId, true, a.Events.Select((_, i) => stored[(a.StreamId, a.ExpectedVersion + i + 1)]).ToArray())
            : new AppendOutcome(a.StreamId, false, [])).ToArray();

        var appended = outcomes.SelectMany(o => o.Events).OrderBy(e => e.Position).ToArray();
        if (appended.Length > 0)
            foreach (var projection in inline)
                await projection.ApplyAsync(connection, appended, ct);
        return outcomes;
    }

    static async Task CollectIds(NpgsqlCommand cmd, HashSet<Guid> into, CancellationToken ct)
    {
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) into.Add(reader.GetGuid(0));
    }
}

/// <summary>One transaction: appends plus whatever SQL the caller runs on <see cref="Connection"/>.</summary>
public sealed class EventSession(EventStore store, NpgsqlConnection connection, NpgsqlTransaction transaction) : IAsyncDisposable
{
    public NpgsqlConnection Connection => connection;

    /// <summary>Appends to several streams at once; a stream whose version moved is reported, not thrown.</summary>
    public async Task<IReadOnlyList<AppendOutcome>> AppendAsync(IReadOnlyList<StreamAppend> appends, CancellationToken ct = default)
    {
        var outcomes = await store.AppendAsync(connection, appends, ct);
        appended |= outcomes.Any(o => o.Events.Count > 0);
        return outcomes;
    }

    bool appended;

    public async Task CommitAsync(CancellationToken ct = default)
    {
        await transaction.CommitAsync(ct);
        if (appended) store.OnCommitted();
    }

    public async ValueTask DisposeAsync()
    {
        await transaction.DisposeAsync();
        await connection.DisposeAsync();
    }
}
