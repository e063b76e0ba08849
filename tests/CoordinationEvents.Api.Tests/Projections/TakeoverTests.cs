using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Tests.Infrastructure;
using CoordinationEvents.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Npgsql;
using Xunit.Abstractions;

namespace CoordinationEvents.Api.Tests.Projections;

/// <summary>
/// Two instances of the service on one database (HotCold): exactly one runs the projections; stop it, and the
/// other takes over; nothing is lost or counted twice.
/// </summary>
public sealed class TakeoverTests(ITestOutputHelper output)
{
    static string Body(string externalId, int participants)
    {
        var node = JsonNode.Parse(ActivityExamples.ByKind["patrol"])!.AsObject();
        node["externalId"] = externalId;
        node["details"]!["patrolParticipants"] = participants;
        return node.ToJsonString();
    }

    static async Task PostAsync(ServiceInstance instance, string prefix, int count)
    {
        using var reporter = instance.Reporter;
        for (var i = 0; i < count; i++)
            Assert.Equal(HttpStatusCode.Created, (await reporter.PostJsonAsync("/api/v1/activities", Body($"{prefix}-{i}", i))).StatusCode);
    }

    [Fact]
    public async Task When_the_instance_running_the_projections_stops_the_other_takes_over_and_nothing_is_lost_or_doubled()
    {
        var connectionString = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("takeover");
        var a = new ServiceInstance(connectionString);
        var b = new ServiceInstance(connectionString);
        try
        {
            _ = a.Server;
            _ = b.Server;
            var deadline = DateTime.UtcNow.AddSeconds(60);
            bool runsA, runsB;
            do
            {
                await Task.Delay(100);
                (runsA, runsB) = (await a.RunsProjectionsAsync(), await b.RunsProjectionsAsync());
            } while (!(runsA ^ runsB) && DateTime.UtcNow < deadline);
            Assert.True(runsA ^ runsB, $"expected exactly one instance to run the projections: a={runsA}, b={runsB}");
            var (leader, standby) = runsA ? (a, b) : (b, a);

            await Task.WhenAll(PostAsync(a, "before-a", 40), PostAsync(b, "before-b", 40));

            // Stop the leader while posts go on through the other instance.
            var stopping = Stopwatch.StartNew();
            var during = PostAsync(standby, "during", 40);
            await leader.DisposeAsync();
            await during;
            while (!await standby.RunsProjectionsAsync())
            {
                Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(90), "the standby never took the projections over");
                await Task.Delay(100);
            }
            output.WriteLine($"the standby ran the projections {stopping.ElapsedMilliseconds} ms after the leader began to stop");
            await PostAsync(standby, "after", 40);

            await standby.WaitForProjectionsAsync();
            await standby.AssertStatisticsConsistentAsync();
            Assert.Equal(160, await standby.ScalarAsync("select count(*) from mt_events where type like 'activity-%'"));
            Assert.Equal(await standby.ScalarAsync("select max(seq_id) from mt_events"), await standby.ProjectionPositionAsync());
            // Every activity counted once: 160 patrols, with the participants summed exactly.
            Assert.Equal(160, await standby.ScalarAsync("select sum(v0) from stat_cells where unit_id = 'lai-chau' and period = 'm' and kind = 'patrol'"));
        }
        finally
        {
            await a.DisposeAsync();
            await b.DisposeAsync();
        }
    }
}
