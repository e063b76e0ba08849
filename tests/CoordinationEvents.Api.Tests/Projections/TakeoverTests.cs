using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
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
    sealed class Instance(string connectionString) : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseEnvironment("Development");
            builder.ConfigureAppConfiguration(c => c.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["ConnectionStrings:Events"] = connectionString,
                ["Logging:LogLevel:Default"] = "Warning",
            }));
        }

        public HttpClient As(string key)
        {
            var client = CreateClient();
            client.DefaultRequestHeaders.Add("X-Api-Key", key);
            return client;
        }
    }

    static string Body(string externalId, int participants)
    {
        var node = JsonNode.Parse(ActivityExamples.ByKind["patrol"])!.AsObject();
        node["externalId"] = externalId;
        node["details"]!["patrolParticipants"] = participants;
        return node.ToJsonString();
    }

    static async Task<bool> RunsHereAsync(Instance instance)
    {
        using var admin = instance.As("dev-admin-key");
        return (await admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/projections")).GetProperty("runsProjectionsHere").GetBoolean();
    }

    static async Task PostAsync(Instance instance, string prefix, int count)
    {
        using var reporter = instance.As("dev-reporter-key");
        for (var i = 0; i < count; i++)
            Assert.Equal(HttpStatusCode.Created, (await reporter.PostJsonAsync("/api/v1/activities", Body($"{prefix}-{i}", i))).StatusCode);
    }

    [Fact]
    public async Task When_the_instance_running_the_projections_stops_the_other_takes_over_and_nothing_is_lost_or_doubled()
    {
        var connectionString = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("takeover");
        var a = new Instance(connectionString);
        var b = new Instance(connectionString);
        try
        {
            _ = a.Server;
            _ = b.Server;
            var deadline = DateTime.UtcNow.AddSeconds(60);
            bool runsA, runsB;
            do
            {
                await Task.Delay(100);
                (runsA, runsB) = (await RunsHereAsync(a), await RunsHereAsync(b));
            } while (!(runsA ^ runsB) && DateTime.UtcNow < deadline);
            Assert.True(runsA ^ runsB, $"expected exactly one instance to run the projections: a={runsA}, b={runsB}");
            var (leader, standby) = runsA ? (a, b) : (b, a);

            await Task.WhenAll(PostAsync(a, "before-a", 40), PostAsync(b, "before-b", 40));

            // Stop the leader while posts go on through the other instance.
            var stopping = Stopwatch.StartNew();
            var during = PostAsync(standby, "during", 40);
            await leader.DisposeAsync();
            await during;
            while (!await RunsHereAsync(standby))
            {
                Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(90), "the standby never took the projections over");
                await Task.Delay(100);
            }
            output.WriteLine($"the standby ran the projections {stopping.ElapsedMilliseconds} ms after the leader began to stop");
            await PostAsync(standby, "after", 40);

            var factory = new ApiFactoryFor(standby);
            await factory.WaitForProjectionsAsync();
            await factory.AssertStatisticsConsistentAsync();
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            async Task<long> Scalar(string sql)
            {
                await using var cmd = new NpgsqlCommand(sql, connection);
                return Convert.ToInt64(await cmd.ExecuteScalarAsync());
            }
            Assert.Equal(160, await Scalar("select count(*) from mt_events"));
            Assert.Equal(await Scalar("select max(seq_id) from mt_events"), await Scalar("select last_seq_id from mt_event_progression where name = 'statistics:All'"));
            // Every activity counted once: 160 patrols, with the participants summed exactly.
            Assert.Equal(160, await Scalar("select sum(v0) from stat_cells where unit_id = 'lai-chau' and period = 'm' and kind = 'patrol'"));
        }
        finally
        {
            await a.DisposeAsync();
            await b.DisposeAsync();
        }
    }

    /// <summary>The waits and checks of <see cref="ApiFactory"/>, against another instance.</summary>
    sealed class ApiFactoryFor(Instance instance)
    {
        public async Task WaitForProjectionsAsync()
        {
            using var admin = instance.As("dev-admin-key");
            var deadline = DateTime.UtcNow.AddSeconds(120);
            while (true)
            {
                var status = await admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/projections");
                if (status.GetProperty("projections").EnumerateArray().All(p => p.GetProperty("lag").GetInt64() == 0)) return;
                if (DateTime.UtcNow > deadline) throw new TimeoutException(status.ToString());
                await Task.Delay(25);
            }
        }

        public async Task AssertStatisticsConsistentAsync()
        {
            using var admin = instance.As("dev-admin-key");
            var report = await admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/verify");
            Assert.True(report.GetProperty("differenceCount").GetInt32() == 0, report.ToString());
        }
    }
}
