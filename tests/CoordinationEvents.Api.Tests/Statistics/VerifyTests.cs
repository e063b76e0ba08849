using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Statistics;
using CoordinationEvents.Api.Tests.Infrastructure;
using Npgsql;

namespace CoordinationEvents.Api.Tests.Statistics;

/// <summary>
/// <c>GET /api/v1/admin/verify</c> folds each stream on its own (streams with several events included) and
/// compares every cell and stock; a damaged cell or stock must show as a difference.
/// </summary>
public sealed class VerifyTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task Verify_counts_corrected_and_retracted_streams_once_and_finds_damaged_cells_and_stocks()
    {
        using var reporter = api.Reporter;
        var ids = new List<Guid>();
        foreach (var (kind, i) in new[] { ("patrol", 0), ("self-management", 1), ("patrol", 2), ("self-management", 3) })
        {
            var node = JsonNode.Parse(ActivityExamples.ByKind[kind])!.AsObject();
            node["externalId"] = $"verify-{i}";
            var post = await reporter.PostJsonAsync("/api/v1/activities", node.ToJsonString());
            Assert.Equal(HttpStatusCode.Created, post.StatusCode);
            ids.Add((await post.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("activityId").GetGuid());
            if (i == 0)
            {
                node["summary"] = "corrected";
                Assert.Equal(HttpStatusCode.OK, (await reporter.PutJsonAsync($"/api/v1/activities/{ids[^1]}", node.ToJsonString(), "\"1\"")).StatusCode);
            }
        }
        using (var retract = new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/activities/{ids[2]}"))
        {
            retract.Headers.TryAddWithoutValidation("If-Match", "\"1\"");
            retract.Content = JsonContent.Create(new { reason = "posted twice" });
            Assert.Equal(HttpStatusCode.OK, (await reporter.SendAsync(retract)).StatusCode);
        }
        await api.WaitForProjectionsAsync();
        var clean = await api.AssertStatisticsConsistentAsync();
        Assert.True(clean.GetProperty("eventsChecked").GetInt64() >= 6);
        Assert.True(clean.GetProperty("stocksCompared").GetInt32() >= 2);

        await api.ScalarAsync($"with d as (update stat_cells set v0 = v0 + 1 where unit_id = (select unit_id from stat_cells limit 1) and period = 'm' returning 1) select count(*) from d");
        await api.ScalarAsync($"with d as (update stat_stocks set recorded_at = recorded_at + interval '1 microsecond' where activity_id = '{ids[1]}' returning 1) select count(*) from d");
        using var admin = api.Admin;
        var damaged = await admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/verify");
        Assert.True(damaged.GetProperty("differenceCount").GetInt32() >= 2, damaged.ToString());
        var tables = damaged.GetProperty("differences").EnumerateArray().Select(d => d.GetProperty("table").GetString()).ToHashSet();
        Assert.Contains("stat_cells", tables);
        Assert.Contains("stat_stocks", tables);

        // Put the figures back, as the next test in this class's database expects them.
        using var rebuild = await admin.PostAsync("/api/v1/admin/projections/statistics/rebuild", null);
        Assert.True(rebuild.IsSuccessStatusCode, await rebuild.Content.ReadAsStringAsync());
        await api.WaitForProjectionsAsync();
        await api.AssertStatisticsConsistentAsync();
    }

    [Fact]
    public async Task Verify_reads_for_as_long_as_the_data_takes_whatever_the_command_timeout()
    {
        // At 10M events the sorted read of every event runs past Npgsql's 30 s command timeout before its first
        // row. Here a lock holds that read back for longer than a 1 s timeout: the check must wait, then answer.
        await api.WaitForProjectionsAsync();
        await using var db = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(api.ConnectionString) { CommandTimeout = 1 }.ConnectionString);
        await using var blocker = new NpgsqlConnection(api.ConnectionString);
        await blocker.OpenAsync();
        await using var tx = await blocker.BeginTransactionAsync();
        await using (var lockEvents = new NpgsqlCommand("lock table mt_events in access exclusive mode", blocker, tx)) await lockEvents.ExecuteNonQueryAsync();

        var check = new ConsistencyCheck(db).RunAsync(CancellationToken.None);
        await Task.WhenAny(check, Task.Delay(TimeSpan.FromSeconds(2.5)));
        Assert.False(check.IsCompleted, check.IsFaulted ? check.Exception!.ToString() : "the check did not wait for the lock");
        await tx.RollbackAsync();

        var report = await check;
        Assert.Equal(0, report.DifferenceCount);
    }
}
