using System.Text.Json;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Statistics;
using CoordinationEvents.Testing;
using JasperFx.Events;
using JasperFx.Events.Projections;
using Marten;
using Marten.Events.Projections;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace CoordinationEvents.Api.Tests.Activities;

/// <summary>Group commit against real PostgreSQL: combined posts each get their own answer, and one failure stays its own.</summary>
public sealed class GroupCommitTests
{
    /// <summary>Fails the transaction of any batch holding the poisoned externalId, as a database error would.</summary>
    sealed class Poison(string externalId) : IProjection
    {
        public Task ApplyAsync(IDocumentOperations operations, IReadOnlyList<IEvent> events, CancellationToken ct) =>
            events.Any(e => e.Data is ActivityRecorded r && r.Content.ExternalId == externalId)
                ? throw new InvalidOperationException("poisoned")
                : Task.CompletedTask;
    }

    static RecordRequest Request(string externalId, string client = "gc-tests")
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(ActivityExamples.ByKind["patrol"])!;
        node["externalId"] = externalId;
        var body = JsonSerializer.Deserialize<JsonElement>(node.ToJsonString());
        var outcome = ActivityRules.Check(body, SeedUnitLookup.Instance, new DateOnly(2026, 1, 1));
        Assert.True(outcome.IsValid, string.Join("; ", outcome.Errors.Select(e => $"{e.Key}: {string.Join(",", e.Value)}")));
        return new RecordRequest(outcome.Content!, client, null);
    }

    [Fact]
    public async Task Concurrent_posts_are_combined_and_a_failing_one_fails_alone()
    {
        var server = await PostgresServer.SharedAsync();
        var connectionString = await server.CreateDatabaseAsync("gc");
        await using var db = NpgsqlDataSource.Create(connectionString);
        var options = ServiceSetup.EventStoreOptions(new StatisticsProjection(db));
        options.Connection(connectionString);
        options.Projections.Add(new Poison("gc-poison"), ProjectionLifecycle.Inline, "poison");
        using var store = new DocumentStore(options);
        await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        var groupCommit = new GroupCommit(new ActivityRecorder(store, new UnitDirectory(db, TimeProvider.System), TimeProvider.System, NullLogger<ActivityRecorder>.Instance), NullLogger<GroupCommit>.Instance);
        var requests = Enumerable.Range(0, 120).Select(i => Request(i == 60 ? "gc-poison" : $"gc-{i % 100}")).ToArray();
        // Queue them all before the workers start, so that they are certainly combined.
        var answers = requests.Select(r => groupCommit.RecordAsync(r, CancellationToken.None)).ToArray();
        using var stop = new CancellationTokenSource();
        await groupCommit.StartAsync(stop.Token);
        await Assert.ThrowsAnyAsync<Exception>(async () => await Task.WhenAll(answers));

        Assert.Equal("poisoned", (await Assert.ThrowsAsync<InvalidOperationException>(() => answers[60])).Message);
        var results = answers.Where((_, i) => i != 60).Select(a => a.Result).ToArray();
        // gc-0 … gc-99 but gc-60 (its place holds the poison); gc-0 … gc-19 come twice.
        Assert.Equal(99, results.Count(r => r.Status == RecordStatus.Created));
        Assert.Equal(20, results.Count(r => r.Status == RecordStatus.Duplicate));
        // A repeat answers with the id of the first.
        Assert.Equal(results.Where(r => r.Status == RecordStatus.Created).Select(r => r.ActivityId).Order(), results.Select(r => r.ActivityId).Distinct().Order());

        await using (var cmd = db.CreateCommand("select count(*) from mt_events"))
            Assert.Equal(99L, (long)(await cmd.ExecuteScalarAsync())!);
        await using (var cmd = db.CreateCommand($"select count(*) from mt_streams where id = '{ActivityIds.For("gc-tests", "gc-poison")}'"))
            Assert.Equal(0L, (long)(await cmd.ExecuteScalarAsync())!);
        Assert.True(groupCommit.LargestGroup > 1);
        Assert.Equal(1, groupCommit.CombinedFailures);
        await stop.CancelAsync();
        await groupCommit.StopAsync(CancellationToken.None);
    }
}
