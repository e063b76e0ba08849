using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace CoordinationEvents.EventStore;

public sealed record ProjectionDaemonOptions
{
    public int BatchSize { get; init; } = 2_000;
    public int RebuildBatchSize { get; init; } = 50_000;
    /// <summary>How often an idle runner looks for new events, and a standby for the lock.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(100);
    public TimeSpan ErrorBackoff { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>
    /// After a batch that was not full, wait this long before the next, so that a steady trickle of appends is
    /// applied in fewer, larger transactions (each costs a commit and a round of bookkeeping) at a bounded lag.
    /// </summary>
    public TimeSpan BatchWindow { get; init; } = TimeSpan.FromMilliseconds(50);
}

/// <summary>
/// Runs async projections. Per projection, one process at a time holds a PostgreSQL advisory lock on a
/// connection of its own and applies batches; other instances stand by and take over when that connection
/// goes (the process died). The progress row is also locked in every batch transaction, so even two runners
/// that both believed they led could never apply an event twice.
/// </summary>
public sealed class ProjectionDaemon(EventStore store, IEnumerable<IAsyncProjection> projections, ProjectionDaemonOptions? options = null, ILogger<ProjectionDaemon>? logger = null)
{
    readonly IAsyncProjection[] projections = projections.ToArray();
    readonly ProjectionDaemonOptions options = options ?? new ProjectionDaemonOptions();
    readonly ILogger log = logger ?? NullLogger<ProjectionDaemon>.Instance;
    readonly SemaphoreSlim nudge = new(0, int.MaxValue);

    public IReadOnlyList<IAsyncProjection> Projections => projections;

    /// <summary>Subscribes to the store's commits, so runners in this process wake at once after an append.</summary>
    public ProjectionDaemon Attach()
    {
        store.Committed += Nudge;
        return this;
    }

    public static async Task EnsureRegisteredAsync(NpgsqlDataSource dataSource, IEnumerable<IAsyncProjection> projections, CancellationToken ct = default)
    {
        await using var cmd = dataSource.CreateCommand("insert into projections (name) select unnest($1::text[]) on conflict do nothing");
        cmd.Parameters.AddWithValue(projections.Select(p => p.Name).ToArray());
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Wakes idle runners in this process at once (after an append), instead of at the next poll.</summary>
    public void Nudge()
    {
        if (nudge.CurrentCount < projections.Length) nudge.Release(projections.Length);
    }

    public async Task RunAsync(CancellationToken ct)
    {
        await EnsureRegisteredAsync(store.DataSource, projections, ct);
        await Task.WhenAll(projections.Select(p => Task.Run(() => RunProjectionAsync(p, ct), ct)));
    }

    async Task RunProjectionAsync(IAsyncProjection projection, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var connection = await store.DataSource.OpenConnectionAsync(ct);
                if (!await TryLockAsync(connection, projection, ct))
                {
                    await IdleAsync(ct);
                    continue;
                }
                log.LogInformation("Projection {Projection}: this instance runs it", projection.Name);
                try
                {
                    while (!ct.IsCancellationRequested)
                    {
                        switch (await StepAsync(connection, projection, ct))
                        {
                            case Step.Full: break;
                            case Step.Partial: await Task.Delay(options.BatchWindow, ct); break;
                            default: await IdleAsync(ct); break;
                        }
                    }
                }
                finally
                {
                    // The pool may keep this session open (No Reset On Close): let go of the lock explicitly.
                    if (connection.State == System.Data.ConnectionState.Open)
                        try { await using var unlock = new NpgsqlCommand("select pg_advisory_unlock_all()", connection); await unlock.ExecuteNonQueryAsync(CancellationToken.None); }
                        catch (Exception e) when (e is NpgsqlException or InvalidOperationException) { }
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                log.LogError(e, "Projection {Projection} failed; retrying", projection.Name);
                await RecordErrorAsync(projection, e);
                try { await Task.Delay(options.ErrorBackoff, ct); } catch (OperationCanceledException) { return; }
            }
        }
    }

    async Task IdleAsync(CancellationToken ct)
    {
        try { await nudge.WaitAsync(options.PollInterval, ct); }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { throw; }
    }

    static long LockKey(IAsyncProjection projection) =>
        // A stable 64-bit key from the name (string.GetHashCode is randomised per process).
        projection.Name.Aggregate(1469598103934665603L, (h, c) => unchecked((h ^ c) * 1099511628211L));

    static async Task<bool> TryLockAsync(NpgsqlConnection connection, IAsyncProjection projection, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("select pg_try_advisory_lock($1)", connection);
        cmd.Parameters.AddWithValue(LockKey(projection));
        return (bool)(await cmd.ExecuteScalarAsync(ct))!;
    }

    enum Step { Idle, Partial, Full }

    /// <summary>One batch for the live tables and, while a rebuild runs, one for its copies.</summary>
    async Task<Step> StepAsync(NpgsqlConnection connection, IAsyncProjection projection, CancellationToken ct)
    {
        var applied = await ApplyBatchAsync(connection, projection, ProjectionTarget.Live, ct);
        if (await RebuildStepAsync(connection, projection, ct) || applied == options.BatchSize) return Step.Full;
        return applied > 0 ? Step.Partial : Step.Idle;
    }

    /// <summary>Applies the next batch to the target; returns how many events it held.</summary>
    async Task<int> ApplyBatchAsync(NpgsqlConnection connection, IAsyncProjection projection, ProjectionTarget target, CancellationToken ct)
    {
        await using var tx = await connection.BeginTransactionAsync(ct);
        // Derived data: a crash may lose the last batches' commits, but their progress goes with them, so they
        // are applied again; nothing is lost or doubled, and ingest does not wait behind projection fsyncs.
        await ExecuteAsync(connection, "set local synchronous_commit = off", ct);
        var progress = await LockProgressAsync(connection, projection, ct);
        var cursor = target.IsRebuild ? progress.Rebuild!.Value : progress.Live;
        var batch = await store.ReadLogAsync(connection, cursor, target.IsRebuild ? options.RebuildBatchSize : options.BatchSize, ct);
        if (batch.Count == 0) return 0; // the transaction rolls back on dispose; nothing was written

        await projection.ApplyAsync(connection, target, batch, ct);
        await SaveProgressAsync(connection, projection, target, batch[^1].Cursor, batch.Count, ct);
        await tx.CommitAsync(ct);
        return batch.Count;
    }

    async Task<bool> RebuildStepAsync(NpgsqlConnection connection, IAsyncProjection projection, CancellationToken ct)
    {
        var progress = await ReadProgressAsync(connection, projection, ct);
        if (progress.Rebuild is null)
        {
            if (!progress.RebuildRequested) return false;
            await StartRebuildAsync(connection, projection, ct);
            return true;
        }
        if (await ApplyBatchAsync(connection, projection, ProjectionTarget.Rebuild, ct) > 0) return true;
        await FinishRebuildAsync(connection, projection, ct);
        return true;
    }

    /// <summary>
    /// Creates the copies and, for a projection that can, fills them set-based from every event below this
    /// transaction's horizon (one repeatable-read snapshot: exactly the events a log reader could see), and
    /// puts the rebuild's cursor on the last of them. Batches take it from there.
    /// </summary>
    async Task StartRebuildAsync(NpgsqlConnection connection, IAsyncProjection projection, CancellationToken ct)
    {
        await using var tx = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
        await LockProgressAsync(connection, projection, ct);
        foreach (var table in projection.Tables)
        {
            var copy = ProjectionTarget.Rebuild.Table(table);
            await ExecuteAsync(connection, $"drop table if exists {copy}; create table {copy} (like {table} including all)", ct);
        }
        var (cursor, count) = (LogCursor.Start, 0L);
        if (projection is ISetBasedRebuild setBased)
        {
            long horizon;
            await using (var cmd = new NpgsqlCommand("select pg_snapshot_xmin(pg_current_snapshot())::text::bigint", connection))
                horizon = (long)(await cmd.ExecuteScalarAsync(ct))!;
            await setBased.FillAsync(connection, ProjectionTarget.Rebuild, horizon, ct);
            await using var last = new NpgsqlCommand("""
                select transaction_id, position, count(*) over () from events where transaction_id < $1
                order by transaction_id desc, position desc limit 1
                """, connection);
            last.Parameters.AddWithValue(horizon);
            await using var reader = await last.ExecuteReaderAsync(ct);
            if (await reader.ReadAsync(ct)) (cursor, count) = (new LogCursor(reader.GetInt64(0), reader.GetInt64(1)), reader.GetInt64(2));
        }
        await using (var cmd = new NpgsqlCommand("""
            update projections set rebuild_started_at = now(), rebuild_transaction_id = $2, rebuild_position = $3,
                rebuild_events_applied = $4, rebuild_requested_at = null
            where name = $1
            """, connection))
        {
            cmd.Parameters.AddWithValue(projection.Name);
            cmd.Parameters.AddWithValue(cursor.TransactionId);
            cmd.Parameters.AddWithValue(cursor.Position);
            cmd.Parameters.AddWithValue(count);
            await cmd.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        log.LogInformation("Projection {Projection}: rebuild started ({Count} events filled set-based)", projection.Name, count);
    }

    /// <summary>
    /// The copies have read everything committed so far. In one repeatable-read transaction (one snapshot,
    /// so one horizon for both), bring live and copies to the same horizon, swap the tables and move the
    /// position. Readers see the old tables until the commit, the new ones after it.
    /// </summary>
    async Task FinishRebuildAsync(NpgsqlConnection connection, IAsyncProjection projection, CancellationToken ct)
    {
        await using var tx = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
        var progress = await LockProgressAsync(connection, projection, ct);
        var live = progress.Live;
        var copy = progress.Rebuild!.Value;
        while (await CatchUpAsync(ProjectionTarget.Live, live) > 0) { }
        while (await CatchUpAsync(ProjectionTarget.Rebuild, copy) > 0) { }

        foreach (var table in projection.Tables)
            await ExecuteAsync(connection, $"lock table {table} in access exclusive mode", ct);
        foreach (var table in projection.Tables)
        {
            var rebuilt = ProjectionTarget.Rebuild.Table(table);
            await ExecuteAsync(connection, $"drop table {table}; alter table {rebuilt} rename to {table}", ct);
        }
        var final = live > copy ? live : copy;
        await using (var cmd = new NpgsqlCommand("""
            update projections set last_transaction_id = $2, last_position = $3, events_applied = rebuild_events_applied,
                updated_at = now(), rebuild_started_at = null, rebuild_transaction_id = null, rebuild_position = null,
                rebuild_events_applied = null, last_rebuild_completed_at = now(), last_error = null
            where name = $1
            """, connection))
        {
            cmd.Parameters.AddWithValue(projection.Name);
            cmd.Parameters.AddWithValue(final.TransactionId);
            cmd.Parameters.AddWithValue(final.Position);
            await cmd.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        log.LogInformation("Projection {Projection}: rebuild swapped in at {Cursor}", projection.Name, final);

        async Task<int> CatchUpAsync(ProjectionTarget target, LogCursor from)
        {
            var batch = await store.ReadLogAsync(connection, from, options.RebuildBatchSize, ct);
            if (batch.Count == 0) return 0;
            await projection.ApplyAsync(connection, target, batch, ct);
            await SaveProgressAsync(connection, projection, target, batch[^1].Cursor, batch.Count, ct);
            if (target.IsRebuild) copy = batch[^1].Cursor; else live = batch[^1].Cursor;
            return batch.Count;
        }
    }

    record struct Progress(LogCursor Live, LogCursor? Rebuild, bool RebuildRequested);

    static Task<Progress> LockProgressAsync(NpgsqlConnection connection, IAsyncProjection projection, CancellationToken ct) =>
        QueryProgressAsync(connection, projection, forUpdate: true, ct);

    static Task<Progress> ReadProgressAsync(NpgsqlConnection connection, IAsyncProjection projection, CancellationToken ct) =>
        QueryProgressAsync(connection, projection, forUpdate: false, ct);

    static async Task<Progress> QueryProgressAsync(NpgsqlConnection connection, IAsyncProjection projection, bool forUpdate, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand($"""
            select last_transaction_id, last_position, rebuild_transaction_id, rebuild_position, rebuild_requested_at is not null
            from projections where name = $1 {(forUpdate ? "for update" : "")}
            """, connection);
        cmd.Parameters.AddWithValue(projection.Name);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct)) throw new InvalidOperationException($"Projection '{projection.Name}' is not registered.");
        return new Progress(
            new LogCursor(reader.GetInt64(0), reader.GetInt64(1)),
            reader.IsDBNull(2) ? null : new LogCursor(reader.GetInt64(2), reader.GetInt64(3)),
            reader.GetBoolean(4));
    }

    static async Task SaveProgressAsync(NpgsqlConnection connection, IAsyncProjection projection, ProjectionTarget target, LogCursor cursor, int count, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(target.IsRebuild
            ? "update projections set rebuild_transaction_id = $2, rebuild_position = $3, rebuild_events_applied = rebuild_events_applied + $4 where name = $1"
            : "update projections set last_transaction_id = $2, last_position = $3, events_applied = events_applied + $4, updated_at = now(), last_error = null where name = $1",
            connection);
        cmd.Parameters.AddWithValue(projection.Name);
        cmd.Parameters.AddWithValue(cursor.TransactionId);
        cmd.Parameters.AddWithValue(cursor.Position);
        cmd.Parameters.AddWithValue((long)count);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    async Task RecordErrorAsync(IAsyncProjection projection, Exception error)
    {
        try
        {
            await using var cmd = store.DataSource.CreateCommand("update projections set last_error = $2 where name = $1");
            cmd.Parameters.AddWithValue(projection.Name);
            cmd.Parameters.AddWithValue(error.GetType().Name + ": " + error.Message);
            await cmd.ExecuteNonQueryAsync();
        }
        catch (Exception e)
        {
            log.LogWarning(e, "Could not record the error of projection {Projection}", projection.Name);
        }
    }

    static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, connection);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Asks the running instance to rebuild the projection. Returns false for an unknown name.</summary>
    public static async Task<bool> RequestRebuildAsync(NpgsqlDataSource dataSource, string name, CancellationToken ct = default)
    {
        await using var cmd = dataSource.CreateCommand("update projections set rebuild_requested_at = now() where name = $1");
        cmd.Parameters.AddWithValue(name);
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }

    /// <summary>Each projection's position and lag (events committed that it has not applied yet), and the store's head.</summary>
    public static async Task<(long Head, IReadOnlyList<ProjectionStatus> Projections)> StatusAsync(NpgsqlDataSource dataSource, CancellationToken ct = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        long head;
        await using (var cmd = new NpgsqlCommand("select coalesce(max(position), 0) from events", connection))
            head = (long)(await cmd.ExecuteScalarAsync(ct))!;

        var list = new List<ProjectionStatus>();
        await using (var cmd = new NpgsqlCommand("""
            select p.name, p.last_position, p.last_transaction_id, p.events_applied,
                (select count(*) from events e where (e.transaction_id, e.position) > (p.last_transaction_id, p.last_position)),
                p.updated_at, p.rebuild_started_at is not null, p.rebuild_position, p.rebuild_events_applied,
                p.rebuild_requested_at, p.last_rebuild_completed_at, p.last_error
            from projections p order by p.name
            """, connection))
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct))
                list.Add(new ProjectionStatus(
                    reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4),
                    reader.GetFieldValue<DateTimeOffset>(5), reader.GetBoolean(6),
                    reader.IsDBNull(7) ? null : reader.GetInt64(7),
                    reader.IsDBNull(8) ? null : reader.GetInt64(8),
                    reader.IsDBNull(9) ? null : reader.GetFieldValue<DateTimeOffset>(9),
                    reader.IsDBNull(10) ? null : reader.GetFieldValue<DateTimeOffset>(10),
                    reader.IsDBNull(11) ? null : reader.GetString(11)));
        return (head, list);
    }
}
