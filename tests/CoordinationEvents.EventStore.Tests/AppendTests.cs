using Npgsql;

namespace CoordinationEvents.EventStore.Tests;

public sealed class AppendTests
{
    [Fact]
    public async Task Appended_events_read_back_in_version_order_with_type_data_and_metadata()
    {
        await using var db = await StoreDatabase.CreateAsync();
        var store = db.Store();
        var id = Guid.NewGuid();
        await store.AppendAsync(StoreDatabase.Append(id, 0, new Happened(id, 1), new Noted(id, "Tuần tra")));
        await store.AppendAsync(StoreDatabase.Append(id, 2, new Happened(id, 3)));

        var events = await store.ReadStreamAsync(id);

        Assert.Equal([1, 2, 3], events.Select(e => e.Version));
        Assert.Equal(["happened", "noted", "happened"], events.Select(e => e.Type));
        Assert.Equal(new Noted(id, "Tuần tra"), events[1].Data);
        Assert.Equal("tests", events[0].Metadata.Actor);
        Assert.Equal("corr-1", events[0].Metadata.CorrelationId);
        Assert.All(events, e => Assert.True(e.TransactionId > 0));
    }

    [Fact]
    public async Task Appending_at_a_stale_version_throws_a_typed_concurrency_error_and_stores_nothing()
    {
        await using var db = await StoreDatabase.CreateAsync();
        var store = db.Store();
        var id = Guid.NewGuid();
        await store.AppendAsync(StoreDatabase.Append(id, 0, new Happened(id, 1)));

        var error = await Assert.ThrowsAsync<ConcurrencyException>(() => store.AppendAsync(StoreDatabase.Append(id, 0, new Happened(id, 2))));
        Assert.Equal(id, error.StreamId);
        await Assert.ThrowsAsync<ConcurrencyException>(() => store.AppendAsync(StoreDatabase.Append(id, 5, new Happened(id, 2))));
        Assert.Equal(1, await db.ScalarAsync("select count(*) from events"));
    }

    [Fact]
    public async Task Of_many_racing_writers_at_the_same_expected_version_exactly_one_wins()
    {
        await using var db = await StoreDatabase.CreateAsync();
        var store = db.Store();
        var id = Guid.NewGuid();
        await store.AppendAsync(StoreDatabase.Append(id, 0, new Happened(id, 0)));

        var start = new TaskCompletionSource();
        var racers = Enumerable.Range(1, 16).Select(async n =>
        {
            await start.Task;
            try { await store.AppendAsync(StoreDatabase.Append(id, 1, new Happened(id, n))); return true; }
            catch (ConcurrencyException) { return false; }
        }).ToArray();
        start.SetResult();
        var won = await Task.WhenAll(racers);

        Assert.Single(won, w => w);
        Assert.Equal([1, 2], (await store.ReadStreamAsync(id)).Select(e => e.Version));
    }

    [Fact]
    public async Task Of_many_writers_racing_to_start_the_same_stream_exactly_one_wins()
    {
        await using var db = await StoreDatabase.CreateAsync();
        var store = db.Store();
        var id = Guid.NewGuid();
        var start = new TaskCompletionSource();
        var racers = Enumerable.Range(1, 16).Select(async n =>
        {
            await start.Task;
            try { await store.AppendAsync(StoreDatabase.Append(id, 0, new Happened(id, n))); return true; }
            catch (ConcurrencyException) { return false; }
        }).ToArray();
        start.SetResult();

        Assert.Single(await Task.WhenAll(racers), w => w);
        Assert.Equal(1, await db.ScalarAsync("select count(*) from events"));
    }

    [Fact]
    public async Task A_multi_stream_append_reports_the_stream_that_lost_and_still_appends_the_others()
    {
        await using var db = await StoreDatabase.CreateAsync();
        var store = db.Store();
        var (a, b) = (Guid.NewGuid(), Guid.NewGuid());
        await store.AppendAsync(StoreDatabase.Append(a, 0, new Happened(a, 1)));

        await using var session = await store.OpenSessionAsync();
        var outcomes = await session.AppendAsync([StoreDatabase.Append(a, 0, new Happened(a, 2)), StoreDatabase.Append(b, 0, new Happened(b, 1))]);
        await session.CommitAsync();

        Assert.False(outcomes[0].Appended);
        Assert.True(outcomes[1].Appended);
        Assert.Equal(2, await db.ScalarAsync("select count(*) from events"));
    }

    [Fact]
    public async Task The_unique_stream_version_constraint_guards_even_writes_that_bypass_the_streams_table()
    {
        await using var db = await StoreDatabase.CreateAsync();
        var store = db.Store();
        var id = Guid.NewGuid();
        await store.AppendAsync(StoreDatabase.Append(id, 0, new Happened(id, 1)));
        // Simulate a writer that added an event without moving the stream's version.
        await db.ExecuteAsync($"insert into events (stream_id, version, type, data, metadata, recorded_at) values ('{id}', 2, 'happened', '{{}}', '{{}}', now())");

        // The streams row says version 1, so this append claims version 2, which exists: a typed error, not 23505.
        await Assert.ThrowsAsync<ConcurrencyException>(() => store.AppendAsync(StoreDatabase.Append(id, 1, new Happened(id, 2))));
    }

    sealed class FailingProjection : IInlineProjection
    {
        public Task ApplyAsync(NpgsqlConnection connection, IReadOnlyList<StoredEvent> events, CancellationToken ct) =>
            throw new InvalidOperationException("projection failed");
    }

    sealed class CountingProjection : IInlineProjection
    {
        public async Task ApplyAsync(NpgsqlConnection connection, IReadOnlyList<StoredEvent> events, CancellationToken ct)
        {
            await using var cmd = new NpgsqlCommand("insert into inline_counts (stream_id, version) select * from unnest($1::uuid[], $2::int[])", connection);
            cmd.Parameters.AddWithValue(events.Select(e => e.StreamId).ToArray());
            cmd.Parameters.AddWithValue(events.Select(e => e.Version).ToArray());
            await cmd.ExecuteNonQueryAsync(ct);
        }
    }

    static readonly Migration InlineCounts = new("inline-test", 1, "create table inline_counts (stream_id uuid, version int, primary key (stream_id, version))");

    [Fact]
    public async Task A_failing_inline_projection_rolls_back_the_append()
    {
        await using var db = await StoreDatabase.CreateAsync(InlineCounts);
        var id = Guid.NewGuid();

        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            db.Store(new CountingProjection(), new FailingProjection()).AppendAsync(StoreDatabase.Append(id, 0, new Happened(id, 1))));

        Assert.Equal(0, await db.ScalarAsync("select count(*) from events"));
        Assert.Equal(0, await db.ScalarAsync("select count(*) from streams"));
        Assert.Equal(0, await db.ScalarAsync("select count(*) from inline_counts"));
        Assert.Empty(await db.Store().ReadStreamAsync(id));
    }

    [Fact]
    public async Task An_inline_projection_commits_with_the_append()
    {
        await using var db = await StoreDatabase.CreateAsync(InlineCounts);
        var id = Guid.NewGuid();
        await db.Store(new CountingProjection()).AppendAsync(StoreDatabase.Append(id, 0, new Happened(id, 1), new Happened(id, 2)));
        Assert.Equal(2, await db.ScalarAsync("select count(*) from inline_counts"));
    }

    [Fact]
    public async Task A_bulk_start_copies_streams_and_events_runs_inline_projections_and_refuses_existing_streams()
    {
        await using var db = await StoreDatabase.CreateAsync(InlineCounts);
        var store = db.Store(new CountingProjection());
        var ids = Enumerable.Range(0, 500).Select(_ => Guid.NewGuid()).ToArray();

        var count = await store.BulkStartStreamsAsync(ids.Select(id => StoreDatabase.Append(id, 0, new Happened(id, 1), new Noted(id, "Bản Lang"))).ToArray());

        Assert.Equal(1000, count);
        Assert.Equal(1000, await db.ScalarAsync("select count(*) from inline_counts"));
        var events = await store.ReadStreamAsync(ids[42]);
        Assert.Equal(new Noted(ids[42], "Bản Lang"), events[1].Data);
        // The streams are at version 2: a normal append continues them.
        await store.AppendAsync(StoreDatabase.Append(ids[42], 2, new Happened(ids[42], 3)));
        await Assert.ThrowsAsync<ConcurrencyException>(() => store.BulkStartStreamsAsync([StoreDatabase.Append(ids[0], 0, new Happened(ids[0], 9))]));
        Assert.Equal(1001, await db.ScalarAsync("select count(*) from events"));
    }

    [Fact]
    public async Task Two_instances_migrating_at_once_apply_each_migration_once()
    {
        await using var db = await StoreDatabase.CreateAsync();
        var migration = new Migration("race", 1, "create table raced (id int)");
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => SchemaMigrator.MigrateAsync(db.DataSource, [.. EventStoreSchema.Migrations, migration])));
        Assert.Equal(1, await db.ScalarAsync("select count(*) from schema_migrations where component = 'race'"));
    }
}
