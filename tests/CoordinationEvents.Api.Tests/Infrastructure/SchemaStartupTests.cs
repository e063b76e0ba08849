using System.Net;
using System.Text.Json.Nodes;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace CoordinationEvents.Api.Tests.Infrastructure;

/// <summary>
/// Marten creates and upgrades the schema at start-up in the database the connection string names; two
/// instances starting at once on an empty database must leave it whole, seeded once, and both must serve.
/// </summary>
public sealed class SchemaStartupTests
{
    [Fact]
    public async Task Two_instances_starting_together_on_an_empty_database_leave_the_schema_whole_and_both_serve()
    {
        for (var round = 0; round < 3; round++)
        {
            var connectionString = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("startup");
            await using var a = new ServiceInstance(connectionString);
            await using var b = new ServiceInstance(connectionString);
            await Task.WhenAll(Task.Run(() => a.Server), Task.Run(() => b.Server));

            foreach (var (instance, i) in new[] { (a, 0), (b, 1) })
            {
                using var reporter = instance.Reporter;
                var node = JsonNode.Parse(ActivityExamples.ByKind["patrol"])!.AsObject();
                node["externalId"] = $"startup-{round}-{i}";
                Assert.Equal(HttpStatusCode.Created, (await reporter.PostJsonAsync("/api/v1/activities", node.ToJsonString())).StatusCode);
                Assert.Equal(HttpStatusCode.OK, (await instance.CreateClient().GetAsync("/health/ready")).StatusCode);
            }

            // The seed's units were established once (as events, each unit's record kept with them), whichever instance came first.
            Assert.Equal(CoordinationEvents.Api.Units.UnitSeed.Units.Count, await a.ScalarAsync("select count(*) from mt_doc_unitrecord"));
            Assert.Equal(CoordinationEvents.Api.Units.UnitSeed.Units.Count, await a.ScalarAsync("select count(*) from mt_events where type = 'unit-established'"));
            Assert.Equal(2, await a.ScalarAsync("select count(*) from mt_events where type not like 'unit-%'"));
            foreach (var table in new[] { "mt_events", "mt_streams", "mt_doc_activityview", "stat_cells", "stat_stocks", "stat_position", "projection_rebuilds", "mt_doc_unitrecord" })
                Assert.Equal(1, await a.ScalarAsync($"select count(*) from pg_tables where schemaname = 'public' and tablename = '{table}'"));
            Assert.Equal(1, await a.ScalarAsync("select count(*) from pg_proc where proname = 'stat_advance'"));
        }
    }
}
