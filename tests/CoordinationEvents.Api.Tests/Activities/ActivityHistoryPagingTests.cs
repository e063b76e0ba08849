using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Tests.Infrastructure;
using Npgsql;

namespace CoordinationEvents.Api.Tests.Activities;

/// <summary>
/// Long histories (issue 21): <c>GET …/history</c> pages with <c>limit</c> and the cursor <c>after</c>, and a correction
/// of a long stream decides on the activity's inline document instead of replaying the stream.
/// </summary>
public sealed class ActivityHistoryPagingTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    static string Body(string externalId, int participants)
    {
        var node = JsonNode.Parse(ActivityExamples.ByKind["patrol"])!.AsObject();
        node["externalId"] = externalId;
        node["details"]!["patrolParticipants"] = participants;
        return node.ToJsonString();
    }

    /// <summary>An activity recorded, then corrected until it has <paramref name="events"/> events.</summary>
    async Task<Guid> ActivityWithEventsAsync(HttpClient reporter, string externalId, int events)
    {
        var created = await reporter.PostJsonAsync("/api/v1/activities", Body(externalId, 1));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.JsonAsync()).GetProperty("activityId").GetGuid();
        for (var version = 1; version < events; version++)
        {
            var put = await reporter.PutJsonAsync($"/api/v1/activities/{id}", Body(externalId, version + 1), $"\"{version}\"");
            Assert.True(put.StatusCode == HttpStatusCode.OK, $"correction at version {version}: {(int)put.StatusCode} {await put.Content.ReadAsStringAsync()}");
        }
        return id;
    }

    static int[] Versions(JsonElement page) => page.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("version").GetInt32()).ToArray();

    [Fact]
    public async Task Paging_through_250_events_by_100_returns_each_once_in_order_and_without_paging_it_answers_whole()
    {
        using var reporter = api.Reporter;
        var id = await ActivityWithEventsAsync(reporter, "history-paging-250", 250);

        var seen = new List<int>();
        var participants = new List<int>();
        string? after = null;
        var pages = 0;
        do
        {
            var url = $"/api/v1/activities/{id}/history?limit=100" + (after is null ? "" : $"&after={Uri.EscapeDataString(after)}");
            var response = await reporter.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var page = await response.JsonAsync();
            Assert.Equal(id, page.GetProperty("activityId").GetGuid());
            seen.AddRange(Versions(page));
            participants.AddRange(page.GetProperty("events").EnumerateArray()
                .Select(e => e.GetProperty("data").GetProperty("content").GetProperty("details").GetProperty("patrolParticipants").GetInt32()));
            after = page.GetProperty("nextAfter") is { ValueKind: JsonValueKind.String } next ? next.GetString() : null;
            pages++;
            Assert.True(pages <= 3, "more pages than 250 events by 100 make");
        } while (after is not null);

        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Range(1, 250), seen);
        Assert.Equal(Enumerable.Range(1, 250), participants);

        // Without limit and cursor: the whole history (under the maximum), as before, and no next page.
        var whole = await (await reporter.GetAsync($"/api/v1/activities/{id}/history")).JsonAsync();
        Assert.Equal(Enumerable.Range(1, 250), Versions(whole));
        Assert.Equal(JsonValueKind.Null, whole.GetProperty("nextAfter").ValueKind);
        Assert.Equal("activity-recorded", whole.GetProperty("events")[0].GetProperty("type").GetString());
        Assert.All(whole.GetProperty("events").EnumerateArray().Skip(1), e => Assert.Equal("activity-corrected", e.GetProperty("type").GetString()));

        // A page that ends exactly at the last event says so.
        var last = await (await reporter.GetAsync($"/api/v1/activities/{id}/history?limit=250")).JsonAsync();
        Assert.Equal(250, Versions(last).Length);
        Assert.Equal(JsonValueKind.Null, last.GetProperty("nextAfter").ValueKind);
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=1001", "limit")]
    [InlineData("limit=-5", "limit")]
    [InlineData("after=12", "after")]
    [InlineData("after=v0", "after")]
    [InlineData("after=vx", "after")]
    [InlineData("after=", "after")]
    public async Task A_bad_limit_or_cursor_is_a_400_naming_it(string query, string field)
    {
        using var reporter = api.Reporter;
        var id = await ActivityWithEventsAsync(reporter, $"history-bad-{field}-{query.GetHashCode():x}", 2);
        await (await reporter.GetAsync($"/api/v1/activities/{id}/history?{query}")).AssertProblemAsync(400, field);
    }

    [Fact]
    public async Task A_limit_that_is_not_a_number_is_a_400()
    {
        using var reporter = api.Reporter;
        var id = await ActivityWithEventsAsync(reporter, "history-bad-limit-text", 1);
        await (await reporter.GetAsync($"/api/v1/activities/{id}/history?limit=abc")).AssertProblemAsync(400);
    }

    [Fact]
    public async Task An_unknown_activity_is_a_404_whatever_the_paging()
    {
        using var reporter = api.Reporter;
        await (await reporter.GetAsync($"/api/v1/activities/{Guid.NewGuid()}/history?limit=10")).AssertProblemAsync(404);
    }

    /// <summary>
    /// The correction decides on the stored document (mt_doc_activityview), not on a replay of the events: with the
    /// document doctored to say "retracted", the next correction is refused as for a retracted activity, though no event says so.
    /// </summary>
    [Fact]
    public async Task A_correction_decides_on_the_inline_document_not_on_a_replay()
    {
        using var reporter = api.Reporter;
        var id = await ActivityWithEventsAsync(reporter, "history-snapshot", 5);
        Assert.Equal(5, await api.ScalarAsync($"select (data->>'version')::int from mt_doc_activityview where id = '{id}'"));

        await using (var connection = new NpgsqlConnection(api.ConnectionString))
        {
            await connection.OpenAsync();
            await using var doctor = new NpgsqlCommand($"update mt_doc_activityview set data = jsonb_set(data, '{{status}}', '\"retracted\"') where id = '{id}'", connection);
            Assert.Equal(1, await doctor.ExecuteNonQueryAsync());
        }
        await (await reporter.PutJsonAsync($"/api/v1/activities/{id}", Body("history-snapshot", 99), "\"5\"")).AssertProblemAsync(409);

        await using (var connection = new NpgsqlConnection(api.ConnectionString))
        {
            await connection.OpenAsync();
            await using var restore = new NpgsqlCommand($"update mt_doc_activityview set data = jsonb_set(data, '{{status}}', '\"active\"') where id = '{id}'", connection);
            await restore.ExecuteNonQueryAsync();
        }
        var put = await reporter.PutJsonAsync($"/api/v1/activities/{id}", Body("history-snapshot", 99), "\"5\"");
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal(6, (await put.JsonAsync()).GetProperty("version").GetInt32());
        Assert.Equal(6, await api.ScalarAsync($"select (data->>'version')::int from mt_doc_activityview where id = '{id}'"));
        // A stale If-Match is still a 412: the stored document does not weaken the optimistic check.
        await (await reporter.PutJsonAsync($"/api/v1/activities/{id}", Body("history-snapshot", 100), "\"5\"")).AssertProblemAsync(412);
    }
}
