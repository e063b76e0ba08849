using Npgsql;
using Weasel.Postgresql.Tables;

namespace CoordinationEvents.Api.Statistics;

/// <summary>The projection's tables and its guard against applying an event twice, created and upgraded by Marten (Weasel).</summary>
public sealed partial class StatisticsProjection
{
    /// <summary>The projection's tables, created and upgraded by Marten (Weasel) with the rest of the schema.</summary>
    public static IEnumerable<Table> Tables(string cells = Cells, string stocks = Stocks)
    {
        var c = new Table(cells);
        c.AddColumn("unit_id", "text").NotNull().AsPrimaryKey();
        c.AddColumn("period", "char(1)").NotNull().AsPrimaryKey();
        c.AddColumn("bucket", "date").NotNull().AsPrimaryKey();
        c.AddColumn("kind", "text").NotNull().AsPrimaryKey();
        c.AddColumn("d1", "text").NotNull().AsPrimaryKey();
        c.AddColumn("d2", "text").NotNull().AsPrimaryKey();
        for (var i = 0; i < Slots; i++) c.AddColumn($"v{i}", "bigint").NotNull();
        yield return c;

        var s = new Table(stocks);
        s.AddColumn("activity_id", "uuid").AsPrimaryKey();
        s.AddColumn("unit_id", "text").NotNull();
        s.AddColumn("occurred_on", "date").NotNull();
        s.AddColumn("recorded_at", "timestamptz").NotNull();
        for (var i = 1; i < Slots; i++) s.AddColumn($"v{i}", "bigint").NotNull();
        s.Indexes.Add(new IndexDefinition($"{stocks}_latest") { Columns = ["unit_id", "occurred_on", "recorded_at", "activity_id"] });
        yield return s;
    }

    public const string Position = "stat_position";

    /// <summary>The upgrades of the cells' layout applied to this database, one row each (<see cref="EnsureYearCellsAsync"/>).</summary>
    public const string Layout = "stat_layout";

    /// <summary>The row of <see cref="Layout"/> that says every unit's year cells are kept.</summary>
    public const string YearCells = "year-cells";

    public static Table LayoutTable()
    {
        var t = new Table(Layout);
        t.AddColumn("feature", "text").AsPrimaryKey();
        t.AddColumn("applied_at", "timestamptz").NotNull();
        return t;
    }

    /// <summary>
    /// The year cells (period <c>y</c>) of a database whose cells were written before they were kept: each one the sum of
    /// its year's month cells, which count the same activities for the same holders (each activity in the month and the
    /// year of its day, for the holders of that day). Done once, in one transaction that holds the cells against every
    /// writer (the daemon's batches, a restatement, a rebuild's swap wait; readers do not) and marks it done in
    /// <see cref="Layout"/>; the code that writes cells writes year cells too, so whatever it wrote before is counted
    /// again here from the months, and nothing twice. Until the mark exists the reader leaves year cells alone
    /// (<see cref="StatisticsReader"/>). Returns whether it derived them (false: the mark was there).
    /// </summary>
    public static async Task<bool> EnsureYearCellsAsync(NpgsqlDataSource db, CancellationToken ct)
    {
        if (await HasYearCellsAsync(db, null, ct)) return false;
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await using (var cmd = new NpgsqlCommand($"lock table {Cells} in exclusive mode", connection)) await cmd.ExecuteNonQueryAsync(ct);
        if (await HasYearCellsAsync(db, connection, ct)) return false;
        var v = string.Join(", ", Enumerable.Range(0, Slots).Select(i => $"v{i}"));
        await using (var cmd = new NpgsqlCommand($"""
            delete from {Cells} where period = 'y';
            insert into {Cells} (unit_id, period, bucket, kind, d1, d2, {v})
            select unit_id, 'y', date_trunc('year', bucket)::date, kind, d1, d2, {string.Join(", ", Enumerable.Range(0, Slots).Select(i => $"sum(v{i})"))}
            from {Cells} where period = 'm'
            group by unit_id, date_trunc('year', bucket)::date, kind, d1, d2;
            insert into {Layout} (feature, applied_at) values ('{YearCells}', now());
            """, connection) { CommandTimeout = 0 }) await cmd.ExecuteNonQueryAsync(ct);
        await tx.CommitAsync(ct);
        return true;
    }

    /// <summary>Whether the year cells are kept (<see cref="EnsureYearCellsAsync"/> has run here).</summary>
    public static async Task<bool> HasYearCellsAsync(NpgsqlDataSource db, NpgsqlConnection? connection, CancellationToken ct)
    {
        var sql = $"select exists (select from {Layout} where feature = '{YearCells}')";
        await using var cmd = connection is null ? db.CreateCommand(sql) : new NpgsqlCommand(sql, connection);
        return (bool)(await cmd.ExecuteScalarAsync(ct))!;
    }

    /// <summary>
    /// The guard against applying an event twice. Marten checks that a batch moves the progression from the
    /// floor it started at, but in 9.59 a mismatch is only logged, and the batch commits (marten#5502). Two
    /// daemons then both apply the same events; we saw it here when the leader's lock connection was killed
    /// under HotCold and a second instance took the lock while the first still ran. So each batch also moves
    /// our own position, in the same transaction, and only forward past events it has not seen:
    /// <c>stat_advance</c> raises (the batch rolls back) when any event of the batch is already applied.
    /// Still needed with Marten 9.62.0 (issue 19): with this guard taken out, ProjectionTests'
    /// Two_service_instances_on_one_database_agree_and_never_count_twice double counted (verify: 354 differing cells,
    /// each twice its value) while Marten logged "ProgressionProgressOutOfOrderException … affected no rows. This will
    /// become a thrown exception in a future major release" and committed the batches.
    /// </summary>
    public static IEnumerable<Weasel.Core.ISchemaObject> GuardObjects()
    {
        var t = new Table(Position);
        t.AddColumn("name", "text").AsPrimaryKey();
        t.AddColumn("last_seq", "bigint").NotNull();
        yield return t;
        yield return Weasel.Postgresql.Functions.Function.ForSql($$"""
            create or replace function stat_advance(p_name text, p_first bigint, p_last bigint) returns void
            language plpgsql as $f$
            begin
                insert into {{Position}} as p (name, last_seq) values (p_name, p_last)
                on conflict (name) do update set last_seq = excluded.last_seq where p.last_seq < p_first;
                if not found then
                    raise exception 'Events % to % of projection % are applied already: another daemon runs it too. This batch is refused.', p_first, p_last, p_name;
                end if;
            end
            $f$;
            """);
    }
}
