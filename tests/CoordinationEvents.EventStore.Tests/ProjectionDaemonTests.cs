using Npgsql;

namespace CoordinationEvents.EventStore.Tests;

/// <summary>
/// Writes one row per event, keyed by (stream, version): applying an event twice violates the key and fails
/// the batch, so "count equals events" means none skipped and none doubled.
/// </summary>
sealed class CountingProjection(Func<NpgsqlConnection, IReadOnlyList<StoredEvent>, Task>? sabotage = null) : IAsyncProjection
{
    public static readonly Migration Schema = new("counting", 1,
        "create table counted (stream_id uuid not null, version int not null, n int not null, primary key (stream_id, version))");

    public string Name => "counting";
    public IReadOnlyList<string> Tables { get; } = ["counted"];

    public async Task ApplyAsync(NpgsqlConnection connection, ProjectionTarget target, IReadOnlyList<StoredEvent> events, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand($"insert into {target.Table("counted")} (stream_id, version, n) select * from unnest($1::uuid[], $2::int[], $3::int[])", connection);
        cmd.Parameters.AddWithValue(events.Select(e => e.StreamId).ToArray());
        cmd.Parameters.AddWithValue(events.Select(e => e.Version).ToArray());
        cmd.Parameters.AddWithValue(events.Select(e => e.Data is Happened h ? h.N : 0).ToArray());
        await cmd.ExecuteNonQueryAsync(ct);
        if (sabotage is not null && !target.IsRebuild) await sabotage(connection, events);
    }
}

public sealed class ProjectionDaemonTests
{
    static readonly ProjectionDaemonOptions Fast = new()
    {
        BatchSize = 7, RebuildBatchSize = 11, PollInterval = TimeSpan.FromMilliseconds(20), ErrorBackoff = TimeSpan.FromMilliseconds(50), BatchWindow = TimeSpan.FromMilliseconds(5),
    };

    static async Task AppendManyAsync(EventStore store, int streams, int writers = 4)
    {
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            for (var i = w; i < streams; i += writers)
            {
                var id = Guid.NewGuid();
                await store.AppendAsync(StoreDatabase.Append(id, 0, new Happened(id, i), new Happened(id, i + 1)));
            }
        })));
    }

    static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, int seconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Timed out waiting until {what}.");
            await Task.Delay(20);
        }
    }

    static async Task<(CancellationTokenSource Stop, Task Running)> StartAsync(StoreDatabase db, IAsyncProjection projection)
    {
        var daemon = new ProjectionDaemon(db.Store(), [projection], Fast);
        await ProjectionDaemon.EnsureRegisteredAsync(db.DataSource, [projection]);
        var stop = new CancellationTokenSource();
        return (stop, Task.Run(() => daemon.RunAsync(stop.Token)));
    }

    static async Task StopAsync((CancellationTokenSource Stop, Task Running) daemon)
    {
        await daemon.Stop.CancelAsync();
        await daemon.Running;
    }

    [Fact]
    public async Task The_runner_applies_every_event_exactly_once_while_writers_append()
    {
        await using var db = await StoreDatabase.CreateAsync(CountingProjection.Schema);
        var daemon = await StartAsync(db, new CountingProjection());

        await AppendManyAsync(db.Store(), streams: 150, writers: 8);
        await WaitUntilAsync(async () => await db.ScalarAsync("select count(*) from counted") == 300, "all 300 events are applied");
        await StopAsync(daemon);

        Assert.Equal(300, await db.ScalarAsync("select count(*) from counted"));
        Assert.Equal(300, await db.ScalarAsync("select events_applied from projections where name = 'counting'"));
        Assert.Equal(0, await db.ScalarAsync("select count(*) from projections where last_error is not null"));
    }

    [Fact]
    public async Task A_batch_that_fails_midway_is_rolled_back_with_its_progress_and_applied_once_on_retry()
    {
        await using var db = await StoreDatabase.CreateAsync(CountingProjection.Schema);
        var failures = 0;
        var daemon = await StartAsync(db, new CountingProjection((_, events) =>
            // The rows of this batch are written; now the process "dies" before the commit, three times.
            events.Any(e => e.Data is Happened { N: 40 }) && Interlocked.Increment(ref failures) <= 3
                ? throw new InvalidOperationException("crash mid-batch")
                : Task.CompletedTask));

        await AppendManyAsync(db.Store(), streams: 80);
        await WaitUntilAsync(async () => await db.ScalarAsync("select count(*) from counted") == 160, "all 160 events are applied");
        await StopAsync(daemon);

        Assert.True(failures > 3);
        Assert.Equal(160, await db.ScalarAsync("select count(*) from counted"));
        Assert.Equal(160, await db.ScalarAsync("select events_applied from projections where name = 'counting'"));
    }

    [Fact]
    public async Task A_connection_dropped_mid_batch_loses_nothing_and_doubles_nothing()
    {
        await using var db = await StoreDatabase.CreateAsync(CountingProjection.Schema);
        var drops = 0;
        var daemon = await StartAsync(db, new CountingProjection(async (connection, events) =>
        {
            if (events.Any(e => e.Data is Happened { N: 30 or 61 }) && Interlocked.Increment(ref drops) <= 2)
            {
                await using var kill = new NpgsqlCommand("select pg_terminate_backend(pg_backend_pid())", connection);
                await kill.ExecuteNonQueryAsync();
            }
        }));

        await AppendManyAsync(db.Store(), streams: 80);
        await WaitUntilAsync(async () => await db.ScalarAsync("select count(*) from counted") == 160, "all 160 events are applied");
        await StopAsync(daemon);

        Assert.True(drops >= 2);
        Assert.Equal(160, await db.ScalarAsync("select count(*) from counted"));
    }

    [Fact]
    public async Task Two_runners_on_one_database_never_apply_an_event_twice_and_the_standby_takes_over()
    {
        await using var db = await StoreDatabase.CreateAsync(CountingProjection.Schema);
        await using var otherSource = NpgsqlDataSource.Create(db.DataSource.ConnectionString);
        var other = new StoreDatabase { DataSource = otherSource };
        var first = await StartAsync(db, new CountingProjection());
        var second = await StartAsync(other, new CountingProjection());

        await AppendManyAsync(db.Store(), streams: 100, writers: 8);
        await WaitUntilAsync(async () => await db.ScalarAsync("select count(*) from counted") == 200, "all 200 events are applied");

        // The leader dies; the standby must carry on.
        await StopAsync(first);
        await AppendManyAsync(db.Store(), streams: 50);
        await WaitUntilAsync(async () => await db.ScalarAsync("select count(*) from counted") == 300, "the standby applied the rest");
        await StopAsync(second);

        Assert.Equal(300, await db.ScalarAsync("select events_applied from projections where name = 'counting'"));
        Assert.Equal(0, await db.ScalarAsync("select count(*) from projections where last_error is not null"));
    }

    [Fact]
    public async Task A_rebuild_replays_into_fresh_tables_and_swaps_in_identical_rows_while_writes_go_on()
    {
        await using var db = await StoreDatabase.CreateAsync(CountingProjection.Schema);
        var daemon = await StartAsync(db, new CountingProjection());
        await AppendManyAsync(db.Store(), streams: 60);
        await WaitUntilAsync(async () => await db.ScalarAsync("select count(*) from counted") == 120, "the first 120 events are applied");
        // Something damaged the live table; a rebuild must restore it from the events.
        await db.ExecuteAsync("update counted set n = -1 where n < 10");

        Assert.True(await ProjectionDaemon.RequestRebuildAsync(db.DataSource, "counting"));
        await AppendManyAsync(db.Store(), streams: 40);
        await WaitUntilAsync(async () => await db.ScalarAsync("select count(*) from projections where last_rebuild_completed_at is not null") == 1, "the rebuild completes");
        await WaitUntilAsync(async () => await db.ScalarAsync("select count(*) from counted") == 200, "all 200 events are applied");
        await StopAsync(daemon);

        Assert.Equal(0, await db.ScalarAsync("select count(*) from counted where n = -1"));
        Assert.Equal(0, await db.ScalarAsync("""
            select count(*) from events e full join counted c on c.stream_id = e.stream_id and c.version = e.version
            where c.stream_id is null or e.stream_id is null or c.n <> (e.data->>'n')::int
            """));
        Assert.Equal(0, await db.ScalarAsync("select count(*) from pg_tables where tablename like '%__rebuild'"));
        Assert.False(await ProjectionDaemon.RequestRebuildAsync(db.DataSource, "no-such-projection"));
    }

    [Fact]
    public async Task The_runner_does_not_pass_an_open_transaction_and_applies_its_events_once_it_commits()
    {
        await using var db = await StoreDatabase.CreateAsync(CountingProjection.Schema);
        var store = db.Store();
        var daemon = await StartAsync(db, new CountingProjection());

        await using var slow = await store.OpenSessionAsync();
        var slowId = Guid.NewGuid();
        await slow.AppendAsync([StoreDatabase.Append(slowId, 0, new Happened(slowId, 1))]);
        await AppendManyAsync(store, streams: 10);
        await Task.Delay(300); // time for the runner to (wrongly) move past the open transaction
        Assert.Equal(0, await db.ScalarAsync("select count(*) from counted"));

        await slow.CommitAsync();
        await WaitUntilAsync(async () => await db.ScalarAsync("select count(*) from counted") == 21, "all 21 events are applied");
        await StopAsync(daemon);
        Assert.Equal(1, await db.ScalarAsync($"select count(*) from counted where stream_id = '{slowId}'"));
    }
}
