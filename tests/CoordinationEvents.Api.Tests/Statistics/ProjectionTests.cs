using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace CoordinationEvents.Api.Tests.Statistics;

/// <summary>The feed, the async runner under failure, two instances, rebuilds and stocks, through HTTP.</summary>
public sealed class ProjectionTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    static string Body(string externalId, string unitId, string date, int participants, string kind = "patrol")
    {
        var node = JsonNode.Parse(ActivityExamples.ByKind[kind])!.AsObject();
        node["externalId"] = externalId;
        node["unitId"] = unitId;
        node["occurredOn"] = date;
        node["partnerUnitIds"] = new JsonArray();
        node.Remove("location");
        if (kind == "patrol") node["details"]!["patrolParticipants"] = participants;
        return node.ToJsonString();
    }

    static async Task PostManyAsync(ApiFactory factory, string prefix, int writers, int perWriter)
    {
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            using var client = factory.Reporter;
            for (var i = 0; i < perWriter; i++)
            {
                var response = await client.PostJsonAsync("/api/v1/activities",
                    Body($"{prefix}-{w}-{i}", Dataset.UnitIds[(w * 31 + i) % Dataset.UnitIds.Length], $"202{i % 5}-0{1 + i % 9}-1{w}", i));
                Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
            }
        })));
    }

    [Fact]
    public async Task A_feed_reader_following_nextAfter_while_eight_writers_post_sees_every_event_exactly_once()
    {
        using var analyst = api.Analyst;
        var start = await analyst.GetFromJsonAsync<JsonElement>("/api/v1/feed?limit=1000");
        var after = start.GetProperty("nextAfter").GetString();
        while (true) // skip what other tests of this class wrote before
        {
            var page = await analyst.GetFromJsonAsync<JsonElement>($"/api/v1/feed?limit=1000&after={after}");
            if (page.GetProperty("events").GetArrayLength() == 0) break;
            after = page.GetProperty("nextAfter").GetString();
        }

        const int writers = 8, perWriter = 40;
        var positions = new List<long>();
        var ids = new HashSet<Guid>();
        var writing = PostManyAsync(api, "feed", writers, perWriter);
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (ids.Count < writers * perWriter && DateTime.UtcNow < deadline)
        {
            var page = await analyst.GetFromJsonAsync<JsonElement>($"/api/v1/feed?limit=37&after={after}");
            foreach (var e in page.GetProperty("events").EnumerateArray())
            {
                positions.Add(e.GetProperty("position").GetInt64());
                Assert.True(ids.Add(e.GetProperty("activityId").GetGuid()), "an activity's event came twice");
                Assert.Equal("activity-recorded", e.GetProperty("type").GetString());
            }
            after = page.GetProperty("nextAfter").GetString();
        }
        await writing;
        var tail = await analyst.GetFromJsonAsync<JsonElement>($"/api/v1/feed?limit=1000&after={after}");
        Assert.Equal(0, tail.GetProperty("events").GetArrayLength());

        Assert.Equal(writers * perWriter, positions.Count);
        Assert.Equal(positions.Count, positions.Distinct().Count());
        Assert.Equal(writers * perWriter, await api.ScalarAsync("select count(*) from mt_doc_activityview where data->>'externalId' like 'feed-%'"));
        await (await analyst.GetAsync("/api/v1/feed?after=garbage")).AssertProblemAsync(400, "after");
        await (await analyst.GetAsync("/api/v1/feed?limit=0")).AssertProblemAsync(400, "limit");
    }

    [Fact]
    public async Task Runner_connections_killed_during_ingest_leave_figures_equal_to_the_recomputation_and_a_rebuild_changes_nothing()
    {
        // Drop the daemon's lock connection again and again, mid-batch or between.
        var kills = await api.WhileKillingLockConnectionsAsync(round => PostManyAsync(api, $"crash-{round}", writers: 6, perWriter: 50));
        Assert.True(kills > 0, "the daemon's lock connection was never killed: the test proved nothing");

        await api.WaitForProjectionsAsync();
        using var admin = api.Admin;
        await api.AssertStatisticsConsistentAsync();

        const string query = "/api/v1/statistics?from=2019-01-01&to=2024-12-31&groupBy=unit,year";
        using var analyst = api.Analyst;
        var before = await analyst.GetStringAsync(query);
        var rebuild = await admin.PostAsync("/api/v1/admin/projections/statistics/rebuild", null);
        Assert.Equal(HttpStatusCode.Accepted, rebuild.StatusCode);
        await api.WaitForProjectionsAsync();
        var status = await admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/projections");
        Assert.NotEqual(JsonValueKind.Null, status.GetProperty("projections")[0].GetProperty("lastRebuildCompletedAt").ValueKind);
        Assert.Equal(before, await analyst.GetStringAsync(query));
        await api.AssertStatisticsConsistentAsync();
        await (await admin.PostAsync("/api/v1/admin/projections/nope/rebuild", null)).AssertProblemAsync(404);
    }

    [Fact]
    public async Task Two_service_instances_on_one_database_agree_and_never_count_twice()
    {
        await using var second = new ServiceInstance(api.ConnectionString);
        using var secondReporter = second.Reporter;

        // Meanwhile drop the connections that hold the daemons' locks, again and again, as network blips would:
        // an instance may go on projecting without knowing it lost its lock while the other one takes it. Marten
        // 9.59 and 9.62 only log the progression mismatch this causes (marten#5502); stat_advance must refuse the batch
        // (without it this test double counts on 9.62.0: verify found 354 cells at twice their value).
        var kills = await api.WhileKillingLockConnectionsAsync(round => Task.WhenAll(
            PostManyAsync(api, $"twin-a{round}", writers: 3, perWriter: 40),
            Task.Run(async () =>
            {
                for (var i = 0; i < 120; i++)
                    Assert.Equal(HttpStatusCode.Created, (await secondReporter.PostJsonAsync("/api/v1/activities", Body($"twin-b{round}-{i}", "phong-tho", "2023-05-05", i))).StatusCode);
            })));
        Assert.True(kills > 0, "no lock connection was ever killed: the test proved nothing");
        await api.WaitForProjectionsAsync();

        await api.AssertStatisticsConsistentAsync();
        // The projection's position is the store's last event, and the figures equal a recomputation: nothing
        // was applied twice by the two daemons (HotCold: one of them runs the projection).
        Assert.Equal(await api.ScalarAsync("select max(seq_id) from mt_events"),
            await api.ProjectionPositionAsync());
    }

    [Fact]
    public async Task A_batch_whose_events_are_applied_already_is_refused_by_the_guard()
    {
        using var reporter = api.Reporter;
        Assert.Equal(HttpStatusCode.Created, (await reporter.PostJsonAsync("/api/v1/activities", Body("guard-1", "pa-vay-su", "2022-02-02", 3))).StatusCode);
        await api.WaitForProjectionsAsync();
        var last = await api.ScalarAsync("select last_seq from stat_position where name = 'statistics'");
        await using var connection = new NpgsqlConnection(api.ConnectionString);
        await connection.OpenAsync();
        // The last applied event again, alone or in a longer batch: refused; the next events: taken (and rolled back here).
        foreach (var (first, to) in new[] { (last, last), (last - 1, last + 5) })
        {
            await using var cmd = new NpgsqlCommand($"select stat_advance('statistics', {first}, {to})", connection);
            var refused = await Assert.ThrowsAsync<PostgresException>(() => cmd.ExecuteNonQueryAsync());
            Assert.Contains("applied already", refused.MessageText);
        }
        await using (var tx = await connection.BeginTransactionAsync())
        {
            await using var next = new NpgsqlCommand($"select stat_advance('statistics', {last + 1}, {last + 3})", connection, tx);
            await next.ExecuteNonQueryAsync();
            await tx.RollbackAsync();
        }
        Assert.Equal(last, await api.ScalarAsync("select last_seq from stat_position where name = 'statistics'"));
    }

    [Fact]
    public async Task Stocks_are_each_units_latest_declaration_on_or_before_the_end()
    {
        using var reporter = api.Reporter;
        async Task Declare(string id, string unit, string date, int collectives, decimal km)
        {
            var body = new JsonObject
            {
                ["externalId"] = id, ["kind"] = "self-management", ["unitId"] = unit, ["occurredOn"] = date,
                ["details"] = new JsonObject { ["selfManagedCollectives"] = collectives, ["selfManagedBorderKm"] = km },
            };
            Assert.Equal(HttpStatusCode.Created, (await reporter.PostJsonAsync("/api/v1/activities", body.ToJsonString())).StatusCode);
        }
        await Declare("stock-1", "pa-vay-su", "2019-06-30", 2, 5.5m);
        await Declare("stock-2", "pa-vay-su", "2021-03-31", 4, 7.25m);
        await Declare("stock-3", "pa-vay-su", "2023-12-31", 6, 9.125m);
        await Declare("stock-4", "hoang-then", "2020-01-01", 1, 1m);
        // Two on the same day: the one recorded later counts.
        await Declare("stock-5", "hoang-then", "2022-07-01", 3, 3m);
        await Declare("stock-6", "hoang-then", "2022-07-01", 5, 4.5m);
        await api.WaitForProjectionsAsync();

        using var analyst = api.Analyst;
        async Task<JsonElement> Stats(string q) => await analyst.GetFromJsonAsync<JsonElement>($"/api/v1/statistics?kind=self-management&{q}");
        decimal Metric(JsonElement metrics, string name) => metrics.TryGetProperty(name, out var v) ? v.GetDecimal() : 0;

        // At several period ends: the sum over units of each one's latest declaration.
        foreach (var (to, collectives, km) in new[] { ("2019-06-29", 0, 0m), ("2019-06-30", 2, 5.5m), ("2020-12-31", 3, 6.5m), ("2022-07-01", 9, 11.75m), ("2024-12-31", 11, 13.625m) })
        {
            var totals = (await Stats($"unitId=pa-vay-su,hoang-then&from=2019-01-01&to={to}".Replace("unitId=pa-vay-su,hoang-then&", "unitId=phong-tho&"))).GetProperty("totals");
            Assert.Equal(collectives, Metric(totals, "selfManagedCollectives"));
            Assert.Equal(km, Metric(totals, "selfManagedBorderKm"));
        }
        // The start of the period does not matter for a stock.
        Assert.Equal(11, Metric((await Stats("unitId=phong-tho&from=2024-06-01&to=2024-12-31")).GetProperty("totals"), "selfManagedCollectives"));

        // By year: the stock at the end of each year, clipped to `to`.
        var byYear = (await Stats("unitId=phong-tho&from=2019-01-01&to=2024-06-30&groupBy=year")).GetProperty("rows").EnumerateArray()
            .ToDictionary(r => r.GetProperty("key").GetProperty("year").GetString()!, r => Metric(r.GetProperty("metrics"), "selfManagedCollectives"));
        Assert.Equal(new Dictionary<string, decimal> { ["2019"] = 2, ["2020"] = 3, ["2021"] = 5, ["2022"] = 9, ["2023"] = 11, ["2024"] = 11 }, byYear);

        // By unit: each child's subtree.
        var byUnit = (await Stats("unitId=phong-tho&from=2019-01-01&to=2024-12-31&groupBy=unit")).GetProperty("rows").EnumerateArray()
            .ToDictionary(r => r.GetProperty("key").GetProperty("unit").GetString()!, r => Metric(r.GetProperty("metrics"), "selfManagedBorderKm"));
        Assert.Equal(9.125m, byUnit["pa-vay-su"]);
        Assert.Equal(4.5m, byUnit["hoang-then"]);

        // A retraction removes a declaration: the one before it counts again.
        var id = (await analyst.GetFromJsonAsync<JsonElement>("/api/v1/activities?unitId=pa-vay-su&kind=self-management&from=2023-12-31&to=2023-12-31"))
            .GetProperty("items")[0].GetProperty("activityId").GetGuid();
        Assert.Equal(HttpStatusCode.OK, (await reporter.DeleteJsonAsync($"/api/v1/activities/{id}", """{"reason":"khai báo nhầm"}""")).StatusCode);
        await api.WaitForProjectionsAsync();
        Assert.Equal(9, Metric((await Stats("unitId=phong-tho&from=2019-01-01&to=2024-12-31")).GetProperty("totals"), "selfManagedCollectives"));
    }

    [Fact]
    public async Task An_activity_recorded_and_retracted_within_one_batch_leaves_no_cell_behind()
    {
        using var reporter = api.Reporter;
        await api.WaitForProjectionsAsync();
        // Hold an append open (a transaction that has taken the next event number): the daemon's high water mark
        // stops below it, so both events below wait, and arrive in one batch once it has ended.
        await using var connection = new NpgsqlConnection(api.ConnectionString);
        await connection.OpenAsync();
        await using (var tx = await connection.BeginTransactionAsync())
        {
            await using (var hold = new NpgsqlCommand("select nextval('mt_events_sequence')", connection, tx))
                await hold.ExecuteScalarAsync();
            var created = await reporter.PostJsonAsync("/api/v1/activities", Body("same-batch-1", "pa-vay-su", "2018-02-03", 7));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var id = (await created.JsonAsync()).GetProperty("activityId").GetGuid();
            Assert.Equal(HttpStatusCode.OK, (await reporter.DeleteJsonAsync($"/api/v1/activities/{id}", """{"reason":"ghi nhầm"}""")).StatusCode);
            await tx.CommitAsync();
        }
        await api.WaitForProjectionsAsync();

        Assert.Equal(0, await api.ScalarAsync("select count(*) from stat_cells where bucket between '2018-02-01' and '2018-02-03'"));
        await api.AssertStatisticsConsistentAsync();
    }
}
