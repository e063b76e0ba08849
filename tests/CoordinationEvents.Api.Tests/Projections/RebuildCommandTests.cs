using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Statistics;
using CoordinationEvents.Api.Tests.Infrastructure;
using CoordinationEvents.Api.Units;
using CoordinationEvents.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace CoordinationEvents.Api.Tests.Projections;

/// <summary>The command-line rebuild (<c>rebuild-statistics</c>): refused while a service runs, exact when none does.</summary>
public sealed class RebuildCommandTests
{
    [Fact]
    public async Task The_command_line_rebuild_is_refused_while_a_service_runs_and_exact_when_none_does()
    {
        var connectionString = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("rebuildcli");
        await using var db = NpgsqlDataSource.Create(connectionString);
        StatisticsRebuild Offline() => new(db, new ServiceCollection().BuildServiceProvider(), new UnitDirectory(db, TimeProvider.System), NullLogger<StatisticsRebuild>.Instance);

        await using (var running = new ServiceInstance(connectionString))
        {
            using var reporter = running.Reporter;
            for (var i = 0; i < 30; i++)
            {
                var node = JsonNode.Parse(ActivityExamples.ByKind[i % 2 == 0 ? "patrol" : "self-management"])!.AsObject();
                node["externalId"] = $"cli-{i}";
                Assert.Equal(HttpStatusCode.Created, (await reporter.PostJsonAsync("/api/v1/activities", node.ToJsonString())).StatusCode);
            }
            await running.WaitForProjectionsAsync();
            await running.AssertStatisticsConsistentAsync();
            var output = new StringWriter();
            Assert.False(await Offline().RunOfflineAsync(output, CancellationToken.None));
            Assert.Contains("running service", output.ToString());
        }

        // The service is stopped: damage the figures, rebuild from the command line, start it again.
        await using (var cmd = db.CreateCommand("update stat_cells set v1 = v1 + 1000"))
            await cmd.ExecuteNonQueryAsync();
        var done = new StringWriter();
        Assert.True(await Offline().RunOfflineAsync(done, CancellationToken.None), done.ToString());
        // Up to the newest event: the 30 activities' and the seed's unit events.
        await using (var newest = db.CreateCommand("select max(seq_id) from mt_events"))
            Assert.Contains($"rebuilt up to event {(long)(await newest.ExecuteScalarAsync())!}", done.ToString());
        await using var restarted = new ServiceInstance(connectionString);
        await restarted.WaitForProjectionsAsync();
        await restarted.AssertStatisticsConsistentAsync();
    }
}
