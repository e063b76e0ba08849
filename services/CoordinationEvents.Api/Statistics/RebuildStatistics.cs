using CoordinationEvents.Api.Core;
using JasperFx.Events.Daemon;
using Npgsql;
using Weasel.Postgresql.Tables;

namespace CoordinationEvents.Api.Statistics;

/// <summary>
/// The fast rebuild of the statistics: a set-based fill that hands its position back to Marten's daemon.
/// <para>
/// A rebuild is asked for by a row in <c>projection_rebuilds</c> (the admin endpoint, a unit move). The
/// instance whose daemon runs the projection (HotCold: exactly one) pauses its daemon, fills fresh tables
/// in one statement from every activity's latest event up to the high water mark (every event at or below
/// it is committed), then in one transaction swaps the tables in and sets the projection's progression to
/// that mark, and resumes the daemon, which goes on from there. Readers are served the old figures until
/// the swap. If the process dies on the way, the request row is still there and the next run (here, or on
/// the instance that takes over) starts again from scratch; the old tables and their progression are
/// untouched until the swap commits.
/// </para>
/// <para>
/// Marten lacks this: its own rebuild replays every event through the projection (the <c>projections</c>
/// command does that here too, correctly but at a third of the speed; critter-stack.md).
/// </para>
/// </summary>
public sealed class StatisticsRebuild(NpgsqlDataSource db, IServiceProvider services, UnitDirectory units, ILogger<StatisticsRebuild> log)
    : BackgroundService
{
    public const string RequestTable = "projection_rebuilds";
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    public static Table Table()
    {
        var t = new Table(RequestTable);
        t.AddColumn("name", "text").AsPrimaryKey();
        t.AddColumn("requested_at", "timestamptz");
        t.AddColumn("started_at", "timestamptz");
        t.AddColumn("completed_at", "timestamptz");
        t.AddColumn("last_sequence", "bigint");
        t.AddColumn("last_error", "text");
        return t;
    }

    /// <summary>Asks for a rebuild; false for a projection that has none.</summary>
    public async Task<bool> RequestAsync(string name, CancellationToken ct)
    {
        if (name != StatisticsProjection.ProjectionName) return false;
        await using var cmd = db.CreateCommand($"""
            insert into {RequestTable} (name, requested_at) values ($1, now())
            on conflict (name) do update set requested_at = now()
            """);
        cmd.Parameters.AddWithValue(name);
        await cmd.ExecuteNonQueryAsync(ct);
        return true;
    }


    /// <summary>Records that the figures a change of the organisation moves must be restated (once per change id).</summary>
    public async Task RequestRestateAsync(Units.OrganisationChanged change, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand($"""
            insert into {OrganisationRestates.TableName} (change_id, from_day, unit_ids) values ($1, $2, $3)
            on conflict (change_id) do nothing
            """);
        cmd.Parameters.AddWithValue(change.ChangeId);
        cmd.Parameters.Add(new NpgsqlParameter { Value = change.From is { } d ? d : DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Date });
        cmd.Parameters.AddWithValue(change.Units.ToArray());
        // A change without a date restates everything: the full rebuild, asked for once (when the row is new), so that
        // the projections' status shows it.
        if (await cmd.ExecuteNonQueryAsync(ct) == 1 && change.From is null) await RequestAsync(StatisticsProjection.ProjectionName, ct);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var layout = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(PollInterval, stoppingToken);
                // Cells written before year cells were kept get theirs, once per database (any instance; they take turns).
                if (!layout)
                {
                    if (await StatisticsProjection.EnsureYearCellsAsync(db, stoppingToken))
                        log.LogInformation("Statistics: the year cells were derived from the month cells (the cells predate them)");
                    layout = true;
                }
                if (await PendingAsync(stoppingToken) && RunsHere()) await RunAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                log.LogError(e, "The statistics rebuild failed; it will be tried again");
                await RecordErrorAsync(e.Message);
            }
        }
    }

    /// <summary>Whether this instance's daemon is running the statistics shard (HotCold: only one does).</summary>
    public bool RunsHere()
    {
        var coordinator = services.GetService<IProjectionCoordinator>();
        return coordinator is not null && coordinator.DaemonForMainDatabase().CurrentAgents()
            .Any(a => a.Name.Identity == StatisticsProjection.ShardName);
    }

    async Task<bool> PendingAsync(CancellationToken ct)
    {
        await using var cmd = db.CreateCommand($"""
            select exists (select 1 from {RequestTable} where requested_at is not null)
                or exists (select 1 from {OrganisationRestates.TableName} where done_at is null)
            """);
        return (bool)(await cmd.ExecuteScalarAsync(ct))!;
    }

    async Task RunAsync(CancellationToken ct)
    {
        var coordinator = services.GetRequiredService<IProjectionCoordinator>();
        // Pausing drains the batches in flight (JasperFxAsyncDaemon.StopAllAsync → StopAndDrainAsync): the cells are
        // then the projection's at its position, and nothing writes them until the resume.
        await coordinator.PauseAsync();
        try
        {
            // A change without a date (a correction from the beginning) restates everything: the full rebuild.
            if (await FullRebuildPendingAsync(ct))
            {
                await RequestAsync(StatisticsProjection.ProjectionName, ct);
                await RefillAsync(ct);
            }
            await RestateAsync(ct);
        }
        finally
        {
            await coordinator.ResumeAsync();
        }
        await units.ReloadAsync(ct);
    }

    /// <summary>
    /// The command-line rebuild (<c>dotnet run -- rebuild-statistics</c>): the same fill, for a database that no
    /// running service uses. It refuses when another connection holds an advisory lock in the database (the
    /// daemon's HotCold lock, Wolverine's node leadership): a running service rebuilds through its admin endpoint.
    /// </summary>
    public async Task<bool> RunOfflineAsync(TextWriter output, CancellationToken ct)
    {
        await using (var cmd = db.CreateCommand("""
            select count(*) from pg_locks
            where locktype = 'advisory' and granted and pid <> pg_backend_pid()
              and database = (select oid from pg_database where datname = current_database())
            """))
            if ((long)(await cmd.ExecuteScalarAsync(ct))! > 0)
            {
                output.WriteLine("A running service holds this database's locks: ask it instead, POST /api/v1/admin/projections/statistics/rebuild.");
                return false;
            }
        await RequestAsync(StatisticsProjection.ProjectionName, ct);
        var (mark, seconds) = await RefillAsync(ct);
        output.WriteLine($"Statistics rebuilt up to event {mark} in {seconds:0.0} s.");
        return true;
    }

    async Task<bool> FullRebuildPendingAsync(CancellationToken ct)
    {
        await using var cmd = db.CreateCommand($"""
            select exists (select 1 from {RequestTable} where requested_at is not null)
                or exists (select 1 from {OrganisationRestates.TableName} where done_at is null and from_day is null)
            """);
        return (bool)(await cmd.ExecuteScalarAsync(ct))!;
    }

    /// <summary>
    /// Restates the figures that the pending dated changes of the organisation move, all of them at once, in one
    /// transaction (the daemon is paused). Of the units whose cells the changes may move (<see cref="AffectedUnits"/>),
    /// those whose holdings changed (<see cref="ChangedAncestors"/>: a province keeps its cells when two of its districts
    /// merge) have their cells from the first of the earliest change's year on deleted and filled again from the events
    /// up to the projection's position, with today's history, reading only the activities they may hold (those of the
    /// units under them: <see cref="StatisticsProjection.FillSql"/> by unit); the changes are marked done in the same
    /// transaction. A process that dies on the way leaves them pending, and the next run starts again; running it twice
    /// gives the same cells. Returns the number of changes and of units restated.
    /// </summary>
    public async Task<(int Changes, int Units)> RestateAsync(CancellationToken ct)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var pending = new List<PendingChange>();
        await using (var cmd = new NpgsqlCommand($"""
            select change_id, from_day, unit_ids from {OrganisationRestates.TableName}
            where done_at is null and from_day is not null order by requested_at for update
            """, connection))
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct))
                pending.Add(new PendingChange(reader.GetString(0), reader.GetFieldValue<DateOnly>(1), reader.GetFieldValue<string[]>(2)));
        if (pending.Count == 0) return (0, 0);

        // The projection's position, held still (a daemon elsewhere would wait on this row before it applies a batch).
        long position;
        await using (var cmd = new NpgsqlCommand($"select last_seq from {StatisticsProjection.Position} where name = $1 for update", connection))
        {
            cmd.Parameters.AddWithValue(StatisticsProjection.ProjectionName);
            position = await cmd.ExecuteScalarAsync(ct) is long p ? p : 0;
        }
        var today = VietnamCalendar.Today(TimeProvider.System);
        var records = await UnitDirectory.LoadRecordsAsync(connection, ct);
        var ancestry = new UnitHistory(records, today).Ancestry();
        var candidates = AffectedUnits(ancestry, pending.SelectMany(c => c.Units));
        var first = pending.Min(c => c.From);
        // From the first of the year: the cells of its days, months and the year itself are restated whole.
        var start = new DateOnly(first.Year, 1, 1);
        var affected = ChangedAncestors(records, ancestry, candidates, start, RecordedSince(records, pending), today);
        var spans = ancestry.Where(a => affected.Contains(a.Ancestor)).ToArray();

        var deleted = 0;
        if (affected.Count > 0)
            await using (var cmd = new NpgsqlCommand($"delete from {StatisticsProjection.Cells} where unit_id = any($1) and bucket >= $2", connection) { CommandTimeout = 0 })
            {
                cmd.Parameters.AddWithValue(affected.ToArray());
                cmd.Parameters.AddWithValue(start);
                deleted = await cmd.ExecuteNonQueryAsync(ct);
            }
        // The activities the restated units may hold from the start on: those of the units with a span under one of them.
        var units = spans.Where(s => s.Until > start).Select(s => s.UnitId).Distinct(StringComparer.Ordinal).ToArray();
        if (position > 0 && units.Length > 0)
            foreach (var part in Enum.GetValues<StatisticsProjection.FillPart>())
                await StatisticsProjection.FillAsync(connection, StatisticsProjection.Cells, null, position, part, spans, ct, start, units);
        await using (var cmd = new NpgsqlCommand($"update {OrganisationRestates.TableName} set done_at = now() where change_id = any($1)", connection))
        {
            cmd.Parameters.AddWithValue(pending.Select(c => c.Id).ToArray());
            await cmd.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        log.LogInformation("Statistics restated for {Changes} organisation change(s) from {Start}: the cells of {Units} of {Candidates} units ({Deleted} deleted), from the activities of {Held} units, in {Seconds:0.00} s",
            pending.Count, start, affected.Count, candidates.Count, deleted, units.Length, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
        return (pending.Count, affected.Count);
    }

    /// <summary>A change whose figures are to be restated: its id, its first day, the units it named.</summary>
    public sealed record PendingChange(string Id, DateOnly From, IReadOnlyList<string> Units);

    /// <summary>
    /// The units whose cells a change of <paramref name="touched"/> may move: every unit that was, on any day, within
    /// a touched unit (or is one), and every unit that held, on any day, an activity of one of those: their ancestors
    /// before the change and after it.
    /// </summary>
    public static HashSet<string> AffectedUnits(IReadOnlyList<AncestrySpan> ancestry, IEnumerable<string> touched)
    {
        var roots = touched.ToHashSet(StringComparer.Ordinal);
        var within = ancestry.Where(a => roots.Contains(a.Ancestor)).Select(a => a.UnitId).ToHashSet(StringComparer.Ordinal);
        within.UnionWith(roots);
        var affected = ancestry.Where(a => within.Contains(a.UnitId)).Select(a => a.Ancestor).ToHashSet(StringComparer.Ordinal);
        affected.UnionWith(roots);
        return affected;
    }

    /// <summary>How far before its change's first event the histories compared by <see cref="ChangedAncestors"/> begin
    /// (the events of one change recorded a little apart, clocks of instances a little apart).</summary>
    public static readonly TimeSpan RecordedMargin = TimeSpan.FromSeconds(5);

    /// <summary>Above this many histories to compare, <see cref="ChangedAncestors"/> restates every candidate rather than fold them all.</summary>
    public const int MaxHistories = 256;

    /// <summary>
    /// When the pending changes began to be recorded, less <see cref="RecordedMargin"/>: the earliest
    /// <see cref="UnitEvent.RecordedAt"/> of their unit events, found as those of the reorganisation a change id names
    /// (<c>reorganisation:{id}</c>) and those of the change's units dated from its first day (every change's own
    /// events are among them; an earlier change found with them only makes the instant earlier). Null when a change's
    /// events are not found: then every candidate is restated.
    /// </summary>
    public static DateTimeOffset? RecordedSince(IReadOnlyList<UnitRecord> records, IEnumerable<PendingChange> pending)
    {
        var prefix = OrganisationRestates.ChangeIdOfReorganisation("");
        DateTimeOffset? since = null;
        foreach (var change in pending)
        {
            var reorganisation = change.Id.StartsWith(prefix, StringComparison.Ordinal) ? change.Id[prefix.Length..] : null;
            var units = change.Units.ToHashSet(StringComparer.Ordinal);
            DateTimeOffset? found = null;
            foreach (var e in records.SelectMany(r => r.Changes))
                if ((reorganisation is not null && e.ReorganisationId == reorganisation) || (e.EffectiveFrom == change.From && units.Contains(e.UnitId)))
                    found = found is { } f && f <= e.RecordedAt ? f : e.RecordedAt;
            if (found is null) return null;
            since = since is { } s && s <= found ? s : found;
        }
        return since - RecordedMargin;
    }

    /// <summary>
    /// The <paramref name="candidates"/> whose cells must be restated from <paramref name="from"/> on: those that hold
    /// some unit's activities on some day from <paramref name="from"/> on in one history and not in another, among
    /// today's (<paramref name="now"/>, the <see cref="UnitHistory.Ancestry"/> spans) and each that the projection may
    /// have applied an event with since the changes began (<paramref name="since"/>): the unit events recorded before
    /// each instant at or after it. Every such history is compared with today's, not only the one before the changes:
    /// a change undone by the next would otherwise go unseen, while the projection counted events with it between.
    /// The others keep their cells: whatever history the projection had, it held the same activities for them. Null
    /// <paramref name="since"/> (the changes' events unknown) or too many histories: every candidate.
    /// </summary>
    public static HashSet<string> ChangedAncestors(IReadOnlyList<UnitRecord> records, IReadOnlyList<AncestrySpan> now,
        IReadOnlySet<string> candidates, DateOnly from, DateTimeOffset? since, DateOnly today)
    {
        var all = new HashSet<string>(candidates, StringComparer.Ordinal);
        if (since is null) return all;
        var instants = records.SelectMany(r => r.Changes).Select(e => e.RecordedAt).Where(t => t >= since).Distinct().Order().ToArray();
        if (instants.Length > MaxHistories) return all;
        var current = Holdings(now, candidates, from);
        var changed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var instant in instants)
        {
            var earlier = new UnitHistory(records
                .Select(r => r with { Changes = r.Changes.Where(c => c.RecordedAt < instant).ToArray() })
                .Where(r => r.Changes.Count > 0), today);
            var then = Holdings(earlier.Ancestry(), candidates, from);
            foreach (var unit in candidates)
                if (current.GetValueOrDefault(unit, "") != then.GetValueOrDefault(unit, "")) changed.Add(unit);
        }
        return changed;
    }

    /// <summary>
    /// For each of <paramref name="ancestors"/>, what it holds from <paramref name="from"/> on, in one canonical text: each
    /// unit's days under it as the fewest runs [from, until) (two histories that cut the same days differently agree).
    /// </summary>
    static Dictionary<string, string> Holdings(IEnumerable<AncestrySpan> spans, IReadOnlySet<string> ancestors, DateOnly from)
    {
        var holdings = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var held in spans.Where(s => ancestors.Contains(s.Ancestor) && s.Until > from).GroupBy(s => s.Ancestor, StringComparer.Ordinal))
        {
            var text = new System.Text.StringBuilder();
            foreach (var unit in held.GroupBy(s => s.UnitId, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                DateOnly? start = null, end = null;
                foreach (var s in unit.Select(s => (From: s.From < from ? from : s.From, s.Until)).OrderBy(s => s.From))
                {
                    if (end is { } e && s.From <= e)
                    {
                        if (s.Until > e) end = s.Until;
                        continue;
                    }
                    if (start is not null) text.Append(unit.Key).Append(' ').Append(start).Append(' ').Append(end).Append('\n');
                    (start, end) = (s.From, s.Until);
                }
                text.Append(unit.Key).Append(' ').Append(start).Append(' ').Append(end).Append('\n');
            }
            holdings[held.Key] = text.ToString();
        }
        return holdings;
    }

    /// <summary>Fills fresh tables up to the high water mark and swaps them in with the projection's progression.</summary>
    async Task<(long Mark, double Seconds)> RefillAsync(CancellationToken ct)
    {
        var started = DateTimeOffset.UtcNow;
        DateTime requestedAt; // timestamptz comes back as a UTC DateTime
        await using (var cmd = db.CreateCommand($"update {RequestTable} set started_at = now(), last_error = null where name = $1 returning requested_at"))
        {
            cmd.Parameters.AddWithValue(StatisticsProjection.ProjectionName);
            requestedAt = (DateTime)(await cmd.ExecuteScalarAsync(ct))!;
        }
        var next = (Cells: StatisticsProjection.Cells + "__next", Stocks: StatisticsProjection.Stocks + "__next");
        await using var connection = await db.OpenConnectionAsync(ct);
        await ExecuteAsync(connection, $"""
            drop table if exists {next.Cells}; drop table if exists {next.Stocks};
            create table {next.Cells} (like {StatisticsProjection.Cells} including defaults including constraints);
            create table {next.Stocks} (like {StatisticsProjection.Stocks} including defaults including constraints);
            """, ct);

        // The fill's two halves (day cells; month cells and stocks) run side by side on two connections, one core
        // each, in transactions that share one exported snapshot: the same events up to the mark, the same unit tree.
        long mark;
        IReadOnlyList<AncestrySpan> ancestry;
        string[] restated;
        await using (var other = await db.OpenConnectionAsync(ct))
        await using (var tx = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct))
        await using (var otherTx = await other.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct))
        {
            mark = await EventStore.HighWaterMarkAsync(connection, ct);
            // The organisation as the snapshot sees it: every change whose restatement is pending is in it.
            ancestry = (await UnitDirectory.LoadAsync(connection, VietnamCalendar.Today(TimeProvider.System), ct)).Ancestry();
            await using (var cmd = new NpgsqlCommand($"select coalesce(array_agg(change_id), '{{}}') from {OrganisationRestates.TableName} where done_at is null", connection))
                restated = (string[])(await cmd.ExecuteScalarAsync(ct))!;
            string snapshot;
            await using (var export = new NpgsqlCommand("select pg_export_snapshot()", connection)) snapshot = (string)(await export.ExecuteScalarAsync(ct))!;
            await ExecuteAsync(other, $"set transaction snapshot '{snapshot}'", ct);
            await Task.WhenAll(
                StatisticsProjection.FillAsync(connection, next.Cells, next.Stocks, mark, StatisticsProjection.FillPart.Days, ancestry, ct),
                StatisticsProjection.FillAsync(other, next.Cells, next.Stocks, mark, StatisticsProjection.FillPart.MonthsAndStocks, ancestry, ct));
            await otherTx.CommitAsync(ct);
            await tx.CommitAsync(ct);
        }
        // Indexes after the fill (cheaper than maintaining them row by row), under the names Weasel expects; then the
        // planner's statistics, which a fresh table lacks (a query then guesses one row and may pick a poor plan).
        await ExecuteAsync(connection, $"""
            alter table {next.Cells} add constraint {next.Cells}_pkey primary key (unit_id, period, bucket, kind, d1, d2);
            alter table {next.Stocks} add constraint {next.Stocks}_pkey primary key (activity_id);
            create index {next.Stocks}_latest_new on {next.Stocks} (unit_id, occurred_on, recorded_at, activity_id);
            analyze {next.Cells};
            analyze {next.Stocks};
            """, ct);

        await using (var tx = await connection.BeginTransactionAsync(ct))
        {
            await ExecuteAsync(connection, $"""
                lock table {StatisticsProjection.Cells}, {StatisticsProjection.Stocks} in access exclusive mode;
                drop table {StatisticsProjection.Cells}; drop table {StatisticsProjection.Stocks};
                alter table {next.Cells} rename to {StatisticsProjection.Cells};
                alter table {next.Stocks} rename to {StatisticsProjection.Stocks};
                alter index {next.Cells}_pkey rename to pkey_{StatisticsProjection.Cells}_unit_id_period_bucket_kind_d1_d2;
                alter index {next.Stocks}_pkey rename to pkey_{StatisticsProjection.Stocks}_activity_id;
                alter index {next.Stocks}_latest_new rename to {StatisticsProjection.Stocks}_latest;
                """, ct);
            await using (var cmd = new NpgsqlCommand("""
                insert into mt_event_progression (name, last_seq_id, last_updated) values ($1, $2, now())
                on conflict (name) do update set last_seq_id = excluded.last_seq_id, last_updated = now()
                """, connection))
            {
                cmd.Parameters.AddWithValue(StatisticsProjection.ShardName);
                cmd.Parameters.AddWithValue(mark);
                await cmd.ExecuteNonQueryAsync(ct);
            }
            await using (var cmd = new NpgsqlCommand($"""
                insert into {StatisticsProjection.Position} (name, last_seq) values ($1, $2)
                on conflict (name) do update set last_seq = excluded.last_seq
                """, connection))
            {
                cmd.Parameters.AddWithValue(StatisticsProjection.ProjectionName);
                cmd.Parameters.AddWithValue(mark);
                await cmd.ExecuteNonQueryAsync(ct);
            }
            // The changes of the organisation that the fill's snapshot held are restated with it.
            await using (var cmd = new NpgsqlCommand($"update {OrganisationRestates.TableName} set done_at = now() where change_id = any($1) and done_at is null", connection))
            {
                cmd.Parameters.AddWithValue(restated);
                await cmd.ExecuteNonQueryAsync(ct);
            }
            // A request that came in during the fill stays pending: the tree may have moved after the fill read it.
            await using (var cmd = new NpgsqlCommand($"""
                update {RequestTable} set completed_at = now(), last_sequence = $2,
                    requested_at = case when requested_at > $3 then requested_at end
                where name = $1
                """, connection))
            {
                cmd.Parameters.AddWithValue(StatisticsProjection.ProjectionName);
                cmd.Parameters.AddWithValue(mark);
                cmd.Parameters.AddWithValue(requestedAt);
                await cmd.ExecuteNonQueryAsync(ct);
            }
            await tx.CommitAsync(ct);
        }
        var seconds = (DateTimeOffset.UtcNow - started).TotalSeconds;
        log.LogInformation("Statistics rebuilt up to event {Mark} in {Seconds:0.0} s", mark, seconds);
        return (mark, seconds);
    }

    static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        await cmd.ExecuteNonQueryAsync(ct);
    }

    async Task RecordErrorAsync(string message)
    {
        try
        {
            await using var cmd = db.CreateCommand($"update {RequestTable} set last_error = $2 where name = $1");
            cmd.Parameters.AddWithValue(StatisticsProjection.ProjectionName);
            cmd.Parameters.AddWithValue(message);
            await cmd.ExecuteNonQueryAsync();
        }
        catch (NpgsqlException)
        {
        }
    }
}
