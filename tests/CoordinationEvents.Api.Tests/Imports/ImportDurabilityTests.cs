using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit.Abstractions;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Imports;
using CoordinationEvents.Api.Tests.Infrastructure;
using CoordinationEvents.Testing;
using static CoordinationEvents.Api.Tests.Imports.ImportTesting;

namespace CoordinationEvents.Api.Tests.Imports;

/// <summary>An import outlives the process that took it, and a large one is measured.</summary>
public sealed class ImportDurabilityTests(ITestOutputHelper output)
{
    /// <summary>
    /// <paramref name="count"/> lines: every 331st malformed, every 97th (otherwise) a repeat of the last valid line,
    /// the rest distinct valid activities; with what the import must count.
    /// </summary>
    static (List<string> Lines, int Distinct, int Repeats, int Invalid) File(string prefix, int count)
    {
        var lines = new List<string>(count);
        int distinct = 0, repeats = 0, invalid = 0;
        string? last = null;
        for (var i = 0; i < count; i++)
        {
            if (i % 331 == 330) { lines.Add("{\"externalId\": \"" + prefix + "-broken\""); invalid++; }
            else if (i % 97 == 96 && last is not null) { lines.Add(last); repeats++; }
            else { last = Activity(i, $"{prefix}-{i}"); lines.Add(last); distinct++; }
        }
        return (lines, distinct, repeats, invalid);
    }

    [Fact]
    public async Task A_job_survives_a_restart_mid_way_and_completes_without_doubling_anything()
    {
        var database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("imports-restart", 40);
        var (lines, distinct, repeats, invalid) = File("restart", 40_000);

        Uri location;
        JsonElement before;
        var first = new ApiFactory(database);
        await first.InitializeAsync();
        try
        {
            using var reporter = first.Reporter;
            (location, _) = await StartAsync(reporter, lines);
            var watch = Stopwatch.StartNew();
            do
            {
                await Task.Delay(20);
                before = await reporter.GetFromJsonAsync<JsonElement>(location);
            } while (before.GetProperty("chunksDone").GetInt32() < 3 && watch.Elapsed < TimeSpan.FromSeconds(120));
        }
        finally
        {
            await first.DisposeAsync(); // the service stops mid-way, a chunk perhaps in flight
        }
        var chunks = before.GetProperty("chunks").GetInt32();
        var doneAtStop = await ScalarAsync(database, "select count(*) from import_chunks");
        output.WriteLine($"stopped with {doneAtStop} of {chunks} chunks done");
        // As after a crash, not a clean stop: the queued message stays owned by the node that held it, which is gone.
        output.WriteLine($"queued messages taken back from the stopped node: {await ScalarAsync(database, "with u as (update wolverine_incoming_envelopes set owner_id = 4242 where status = 'Incoming' returning 1) select count(*) from u")}");
        Assert.True(doneAtStop >= 3 && doneAtStop < chunks, $"The first host should stop mid-way: {doneAtStop} of {chunks} chunks done.");

        var second = new ApiFactory(database);
        await second.InitializeAsync();
        try
        {
            using var reporter = second.Reporter;
            var state = await WaitForAsync(reporter, location);
            Assert.Equal((distinct, repeats, invalid, 0), Counts(state));
            Assert.Equal(chunks, state.GetProperty("chunksDone").GetInt32());
            Assert.Equal(distinct, await ActivityEventsAsync(database));
            Assert.Equal(distinct, await second.ScalarAsync("select count(*) from mt_doc_activityview"));
            Assert.Equal(chunks, await second.ScalarAsync("select count(*) from import_chunks"));
            Assert.Equal(invalid, await second.ScalarAsync("select count(*) from import_line_problems"));
            Assert.Equal(0, await second.ScalarAsync("select count(*) from import_lines"));
            Assert.Equal(0, await second.ScalarAsync("select count(*) from wolverine_dead_letters"));
            await second.WaitForProjectionsAsync();
            await second.AssertStatisticsConsistentAsync();

            // The same file again: every valid line is a duplicate now.
            var again = await WaitForAsync(reporter, (await StartAsync(reporter, lines)).Location);
            Assert.Equal((0, distinct + repeats, invalid, 0), Counts(again));
            Assert.Equal(distinct, await ActivityEventsAsync(database));
        }
        finally
        {
            await second.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_chunk_that_keeps_failing_ends_the_job_as_failed_and_keeps_what_was_done()
    {
        var database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("imports-failed", 40);
        var api = new ApiFactory(database);
        await api.InitializeAsync();
        try
        {
            // The database refuses the result of the second chunk, every time.
            await ScalarAsync(database, """
                create function refuse_second_chunk() returns trigger language plpgsql as $$
                begin if new.chunk = 1 then raise exception 'the test refuses chunk 1'; end if; return new; end $$;
                create trigger refuse_second_chunk before insert on import_chunks for each row execute function refuse_second_chunk();
                select 0;
                """);
            using var reporter = api.Reporter;
            var (location, _) = await StartAsync(reporter, Enumerable.Range(0, StartImportEndpoint.ChunkSize * 5 / 2).Select(i => Activity(i, $"failing-{i}")));
            var watch = Stopwatch.StartNew();
            JsonElement state;
            do
            {
                await Task.Delay(100);
                state = await reporter.GetFromJsonAsync<JsonElement>(location);
            } while (state.GetProperty("status").GetString() != "failed" && watch.Elapsed < TimeSpan.FromSeconds(90));

            Assert.Equal("failed", state.GetProperty("status").GetString());
            Assert.Contains("Chunk 2 could not be recorded", state.GetProperty("failure").GetString());
            Assert.Equal(1, state.GetProperty("chunksDone").GetInt32());
            Assert.Equal((StartImportEndpoint.ChunkSize, 0, 0, 0), Counts(state));
            Assert.Equal(JsonValueKind.String, state.GetProperty("completedAt").ValueKind);
            // The failed chunk's events were rolled back with its result (Marten fills the sequence numbers they had
            // taken with tombstone events, which are not activities); its message is a dead letter.
            Assert.Equal(StartImportEndpoint.ChunkSize, await ActivityEventsAsync(database));
            Assert.Equal(1, await api.ScalarAsync("select count(*) from wolverine_dead_letters"));
            Assert.True(await api.ScalarAsync("select count(*) from mt_events where type = 'tombstone'") > 0, "the rolled-back attempts should have left tombstones");

            // The tombstones are not activities: the feed leaves them out and the consistency check is not thrown by them.
            await api.WaitForProjectionsAsync();
            await api.AssertStatisticsConsistentAsync();
            using var analyst = api.Analyst;
            var feed = await analyst.GetFromJsonAsync<JsonElement>("/api/v1/feed?limit=1000");
            Assert.Equal(StartImportEndpoint.ChunkSize, feed.GetProperty("events").GetArrayLength());
            Assert.All(feed.GetProperty("events").EnumerateArray(), e => Assert.Equal("activity-recorded", e.GetProperty("type").GetString()));
        }
        finally
        {
            await api.DisposeAsync();
        }
    }

    /// <summary>The activities' events (not Marten's tombstones, which fill the sequence numbers of a rolled-back append).</summary>
    static Task<long> ActivityEventsAsync(string connectionString) =>
        ScalarAsync(connectionString, "select count(*) from mt_events where type like 'activity-%'");

    static async Task<long> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var cmd = new Npgsql.NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync());
    }
}
