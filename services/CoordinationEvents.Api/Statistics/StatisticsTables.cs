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
