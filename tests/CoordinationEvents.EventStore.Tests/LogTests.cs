using Npgsql;

namespace CoordinationEvents.EventStore.Tests;

public sealed class LogTests
{
    [Fact]
    public async Task The_log_reads_every_event_once_in_commit_order_across_pages()
    {
        await using var db = await StoreDatabase.CreateAsync();
        var store = db.Store();
        var ids = Enumerable.Range(0, 25).Select(_ => Guid.NewGuid()).ToArray();
        foreach (var id in ids) await store.AppendAsync(StoreDatabase.Append(id, 0, new Happened(id, 1), new Happened(id, 2)));

        var seen = await ReadAllAsync(store, 50, pageSize: 7);

        Assert.Equal(50, seen.Count);
        Assert.Equal(seen.Select(e => e.Position).Distinct().Count(), seen.Count);
        Assert.Equal(seen.OrderBy(e => e.Cursor).Select(e => e.Position), seen.Select(e => e.Position));
        Assert.Equal(ids, seen.Where(e => e.Version == 1).Select(e => e.StreamId));
    }

    [Fact]
    public async Task An_event_that_commits_after_a_later_position_is_neither_skipped_nor_read_early()
    {
        await using var db = await StoreDatabase.CreateAsync();
        var store = db.Store();
        var (slow, fast) = (Guid.NewGuid(), Guid.NewGuid());

        // The slow writer takes the lower position and commits last.
        await using var slowSession = await store.OpenSessionAsync();
        await slowSession.AppendAsync([StoreDatabase.Append(slow, 0, new Happened(slow, 1))]);
        await store.AppendAsync(StoreDatabase.Append(fast, 0, new Happened(fast, 1)));

        // While the slow transaction is open, nothing at or after its transaction id is readable,
        // so a reader cannot move its cursor past the slow event.
        Assert.Empty(await store.ReadLogAsync(LogCursor.Start, 100));

        await slowSession.CommitAsync();
        var all = await ReadAllAsync(store, 2);
        Assert.Equal([slow, fast], all.Select(e => e.StreamId));
        Assert.True(all[0].Position < all[1].Position);
    }

    [Fact]
    public async Task Commit_order_follows_transaction_ids_not_positions()
    {
        await using var db = await StoreDatabase.CreateAsync();
        var store = db.Store();
        var (early, late) = (Guid.NewGuid(), Guid.NewGuid());

        // `early` gets its transaction id first but takes its position after `late` has committed.
        await using var earlySession = await store.OpenSessionAsync();
        await using (var cmd = new NpgsqlCommand("select pg_current_xact_id()", earlySession.Connection)) await cmd.ExecuteScalarAsync();
        await store.AppendAsync(StoreDatabase.Append(late, 0, new Happened(late, 1)));

        var cursor = LogCursor.Start;
        var beforeEarlyCommits = await store.ReadLogAsync(cursor, 100);
        Assert.Empty(beforeEarlyCommits); // `late` sits above the open transaction's id: not yet safe to read

        await earlySession.AppendAsync([StoreDatabase.Append(early, 0, new Happened(early, 1))]);
        await earlySession.CommitAsync();
        var all = await ReadAllAsync(store, 2);

        Assert.Equal([early, late], all.Select(e => e.StreamId));
        Assert.True(all[0].Position > all[1].Position, "the early transaction's event has the higher position");
    }

    [Fact]
    public async Task A_reader_following_the_log_while_eight_writers_append_sees_every_event_exactly_once()
    {
        await using var db = await StoreDatabase.CreateAsync();
        var store = db.Store();
        const int writers = 8, perWriter = 60;
        var reader = Task.Run(() => ReadAllAsync(store, writers * perWriter, pageSize: 50));
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < perWriter; i++)
            {
                var id = Guid.NewGuid();
                await store.AppendAsync(StoreDatabase.Append(id, 0, new Happened(id, i)));
            }
        })));
        var seen = (await reader).Select(e => e.Position).ToList();

        Assert.Equal(writers * perWriter, seen.Count);
        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.Equal(await db.ScalarAsync("select count(*) from events"), seen.Count);
    }

    /// <summary>
    /// Follows the log from the start until <paramref name="expected"/> events have been read. Another test's
    /// open transaction (anywhere in the cluster) may hold the horizon back for a moment, so this waits rather
    /// than stopping at the first empty page; it never reads past what it needs.
    /// </summary>
    internal static async Task<List<StoredEvent>> ReadAllAsync(EventStore store, int expected, int pageSize = 100)
    {
        var seen = new List<StoredEvent>();
        var cursor = LogCursor.Start;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (seen.Count < expected && DateTime.UtcNow < deadline)
        {
            var page = await store.ReadLogAsync(cursor, pageSize);
            seen.AddRange(page);
            if (page.Count > 0) cursor = page[^1].Cursor;
            else await Task.Delay(5);
        }
        // One more read: there must be nothing beyond what was expected.
        await Task.Delay(20);
        seen.AddRange(await store.ReadLogAsync(cursor, pageSize));
        return seen;
    }

    [Fact]
    public void Cursors_round_trip_as_opaque_text_and_reject_foreign_text()
    {
        var cursor = new LogCursor(1234, 56);
        Assert.True(LogCursor.TryParse(cursor.ToString(), out var parsed));
        Assert.Equal(cursor, parsed);
        Assert.True(LogCursor.TryParse(null, out var start));
        Assert.Equal(LogCursor.Start, start);
        Assert.False(LogCursor.TryParse("abc", out _));
        Assert.False(LogCursor.TryParse("-1-2", out _));
    }
}
