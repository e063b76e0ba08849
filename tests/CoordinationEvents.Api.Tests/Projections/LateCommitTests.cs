using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Tests.Infrastructure;
using Marten;
using Marten.Services;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xunit.Abstractions;

namespace CoordinationEvents.Api.Tests.Projections;

/// <summary>
/// Real transactions against the daemon's high water mark: an append that commits late is neither skipped nor
/// counted twice, by the statistics projection or by a feed reader; a rolled-back one holds them back only
/// about the stale threshold (1 s, ServiceSetup).
/// </summary>
public sealed class LateCommitTests(ApiFactory api, ITestOutputHelper output) : IClassFixture<ApiFactory>
{
    static readonly TimeSpan Threshold = TimeSpan.FromSeconds(1);

    static ActivityContent Content(string externalId)
    {
        var node = JsonNode.Parse(ActivityExamples.ByKind["patrol"])!.AsObject();
        node["externalId"] = externalId;
        var outcome = ActivityRules.Check(JsonSerializer.Deserialize<JsonElement>(node.ToJsonString()), SeedUnits(), new DateOnly(2026, 1, 1));
        Assert.True(outcome.IsValid);
        return outcome.Content!;
    }

    static UnitTree SeedUnits() => Tests.Activities.SeedUnitLookup.Instance;

    string Body(string externalId)
    {
        var node = JsonNode.Parse(ActivityExamples.ByKind["patrol"])!.AsObject();
        node["externalId"] = externalId;
        return node.ToJsonString();
    }

    /// <summary>Opens a transaction and appends one activity in it through Marten, as the service does, without committing.</summary>
    async Task<(NpgsqlConnection Connection, NpgsqlTransaction Transaction, Guid Id, long Sequence)> HoldAppendAsync(string externalId)
    {
        var store = api.Services.GetRequiredService<IDocumentStore>();
        var connection = new NpgsqlConnection(api.ConnectionString);
        await connection.OpenAsync();
        var tx = await connection.BeginTransactionAsync();
        var id = ActivityIds.For("late-commit-tests", externalId);
        await using (var session = store.LightweightSession(SessionOptions.ForTransaction(tx)))
        {
            session.Events.StartStream<CoordinationEvents.Api.Activities.Activity>(id, ActivityEventTypes.Wrap(
                new ActivityRecorded(id, "late-commit-tests", Content(externalId), DateTimeOffset.UtcNow), "late-commit-tests", null));
            await session.SaveChangesAsync();
        }
        await using var cmd = new NpgsqlCommand($"select seq_id from mt_events where stream_id = '{id}'", connection, tx);
        var sequence = (long)(await cmd.ExecuteScalarAsync())!;
        return (connection, tx, id, sequence);
    }

    [Fact]
    public async Task An_append_held_open_for_five_thresholds_while_others_commit_is_counted_once_and_fed_once()
    {
        using var reporter = api.Reporter;
        using var analyst = api.Analyst;
        await api.WaitForProjectionsAsync();
        var after = (await analyst.GetFromJsonAsync<JsonElement>("/api/v1/feed?limit=1000")).GetProperty("nextAfter").GetString();
        while (true)
        {
            var page = await analyst.GetFromJsonAsync<JsonElement>($"/api/v1/feed?limit=1000&after={after}");
            if (page.GetProperty("events").GetArrayLength() == 0) break;
            after = page.GetProperty("nextAfter").GetString();
        }

        var fed = new List<(long Position, Guid Id)>();
        async Task ReadFeedAsync()
        {
            while (true)
            {
                var page = await analyst.GetFromJsonAsync<JsonElement>($"/api/v1/feed?limit=50&after={after}");
                var events = page.GetProperty("events").EnumerateArray().ToArray();
                foreach (var e in events) fed.Add((e.GetProperty("position").GetInt64(), e.GetProperty("activityId").GetGuid()));
                after = page.GetProperty("nextAfter").GetString();
                if (events.Length == 0) return;
            }
        }

        var (connection, tx, heldId, heldSequence) = await HoldAppendAsync("held-5x");
        var posted = new List<Guid>();
        var held = Stopwatch.StartNew();
        var i = 0;
        while (held.Elapsed < 5 * Threshold)
        {
            var response = await reporter.PostJsonAsync("/api/v1/activities", Body($"late-{i++}"));
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            posted.Add((await response.JsonAsync()).GetProperty("activityId").GetGuid());
            await ReadFeedAsync();
            await Task.Delay(100);
        }
        // Still held: the daemon has not passed the open append, and the feed has shown nothing after it.
        Assert.True(await api.ScalarAsync("select last_seq_id from mt_event_progression where name = 'HighWaterMark'") < heldSequence,
            "the high water mark passed an append that is still in flight");
        Assert.True(await api.ProjectionPositionAsync() < heldSequence);
        Assert.DoesNotContain(fed, f => f.Position >= heldSequence);
        output.WriteLine($"held the append (event {heldSequence}) for {held.Elapsed.TotalSeconds:0.0} s while {posted.Count} posts committed after it");

        await tx.CommitAsync();
        await connection.DisposeAsync();
        await api.WaitForProjectionsAsync();
        await ReadFeedAsync();

        // Every event exactly once in the feed, the late one included; the statistics equal a recomputation.
        Assert.Equal(posted.Count + 1, fed.Count);
        Assert.Equal(fed.Count, fed.Select(f => f.Position).Distinct().Count());
        Assert.Single(fed, f => f.Id == heldId);
        Assert.Equal(posted.Order(), fed.Where(f => f.Id != heldId).Select(f => f.Id).Order());
        await api.AssertStatisticsConsistentAsync();
        Assert.Equal(await api.ScalarAsync("select max(seq_id) from mt_events"),
            await api.ProjectionPositionAsync());
    }

    [Fact]
    public async Task A_rolled_back_append_holds_the_projection_back_about_the_stale_threshold()
    {
        using var reporter = api.Reporter;
        await api.WaitForProjectionsAsync();
        var (connection, tx, _, heldSequence) = await HoldAppendAsync("rolled-back");
        var response = await reporter.PostJsonAsync("/api/v1/activities", Body("after-rollback"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var id = (await response.JsonAsync()).GetProperty("activityId").GetGuid();
        var sequence = await api.ScalarAsync($"select seq_id from mt_events where stream_id = '{id}'");
        Assert.True(sequence > heldSequence);

        await tx.RollbackAsync();
        await connection.DisposeAsync();
        var stalled = Stopwatch.StartNew();
        while (await api.ProjectionPositionAsync() < sequence)
        {
            Assert.True(stalled.Elapsed < TimeSpan.FromSeconds(30), "the projection never went past the rolled-back append");
            await Task.Delay(20);
        }
        output.WriteLine($"the projection passed the rolled-back append {stalled.Elapsed.TotalMilliseconds:0} ms after the rollback (stale threshold {Threshold.TotalMilliseconds:0} ms)");
        // About the threshold: its 1 s, the daemon's polling and the evidence probe; a generous bound for a busy machine.
        Assert.True(stalled.Elapsed < 5 * Threshold, $"stalled {stalled.Elapsed}");
        await api.AssertStatisticsConsistentAsync();
    }
}
