using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Tests.Infrastructure;

namespace CoordinationEvents.Api.Tests.Activities;

public sealed class ActivityApiTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    static string WithExternalId(string json, string externalId)
    {
        var node = JsonNode.Parse(json)!.AsObject();
        node["externalId"] = externalId;
        return node.ToJsonString();
    }

    static string With(string json, Action<JsonObject> change)
    {
        var node = JsonNode.Parse(json)!.AsObject();
        change(node);
        return node.ToJsonString();
    }

    public static IEnumerable<object[]> Kinds => ActivityExamples.ByKind.Keys.Select(k => new object[] { k });

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Each_kind_is_recorded_and_read_back_exactly(string kind)
    {
        using var reporter = api.Reporter;
        var body = WithExternalId(ActivityExamples.ByKind[kind], $"roundtrip-{kind}");
        var expected = JsonNode.Parse(body)!.AsObject();

        var created = await reporter.PostJsonAsync("/api/v1/activities", body);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var written = await created.JsonAsync();
        var id = written.GetProperty("activityId").GetGuid();
        Assert.Equal($"/api/v1/activities/{id}", created.Headers.Location!.OriginalString);

        var read = await reporter.GetAsync(created.Headers.Location);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal("\"1\"", read.Headers.ETag!.Tag);
        var activity = await read.JsonAsync();
        Assert.Equal(kind, activity.GetProperty("kind").GetString());
        Assert.Equal(expected["unitId"]!.GetValue<string>(), activity.GetProperty("unitId").GetString());
        Assert.Equal(expected["occurredOn"]!.GetValue<string>(), activity.GetProperty("occurredOn").GetString());
        Assert.Equal(expected["summary"]!.GetValue<string>(), activity.GetProperty("summary").GetString());
        Assert.Equal("active", activity.GetProperty("status").GetString());
        Assert.Equal("dev-reporter", activity.GetProperty("sourceSystem").GetString());
        // Every detail sent comes back with the same value (the kind's count may be added with its default of 1).
        var details = activity.GetProperty("details");
        foreach (var (name, value) in expected["details"]!.AsObject())
            Assert.True(JsonNode.DeepEquals(value, JsonNode.Parse(details.GetProperty(name).GetRawText())),
                $"details.{name}: sent {value}, read back {details.GetProperty(name)}");
    }

    [Fact]
    public async Task History_shows_the_recording_the_correction_and_the_retraction_in_order()
    {
        using var reporter = api.Reporter;
        var body = WithExternalId(ActivityExamples.ByKind["patrol"], "history-1");
        var id = (await (await reporter.PostJsonAsync("/api/v1/activities", body)).JsonAsync()).GetProperty("activityId").GetGuid();

        var corrected = With(body, b => b["details"]!["patrolParticipants"] = 11);
        var put = await reporter.PutJsonAsync($"/api/v1/activities/{id}", corrected, "\"1\"");
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal(2, (await put.JsonAsync()).GetProperty("version").GetInt32());

        var delete = await reporter.DeleteJsonAsync($"/api/v1/activities/{id}", """{"reason":"Ghi trùng với sổ tuần tra"}""");
        Assert.Equal(HttpStatusCode.OK, delete.StatusCode);

        var history = await (await reporter.GetAsync($"/api/v1/activities/{id}/history")).JsonAsync();
        var events = history.GetProperty("events").EnumerateArray().ToArray();
        Assert.Equal(["activity-recorded", "activity-corrected", "activity-retracted"], events.Select(e => e.GetProperty("type").GetString()));
        Assert.Equal([1, 2, 3], events.Select(e => e.GetProperty("version").GetInt32()));
        Assert.All(events, e => Assert.Equal("dev-reporter", e.GetProperty("by").GetString()));
        Assert.Equal(8, events[0].GetProperty("data").GetProperty("content").GetProperty("details").GetProperty("patrolParticipants").GetInt32());
        Assert.Equal(11, events[1].GetProperty("data").GetProperty("content").GetProperty("details").GetProperty("patrolParticipants").GetInt32());
        Assert.Equal("Ghi trùng với sổ tuần tra", events[2].GetProperty("data").GetProperty("reason").GetString());

        var now = await (await reporter.GetAsync($"/api/v1/activities/{id}")).JsonAsync();
        Assert.Equal("retracted", now.GetProperty("status").GetString());
        Assert.Equal(11, now.GetProperty("details").GetProperty("patrolParticipants").GetInt32());
        Assert.Equal(3, now.GetProperty("version").GetInt32());

        // A retracted activity cannot be corrected; retracting it again changes nothing.
        await (await reporter.PutJsonAsync($"/api/v1/activities/{id}", body, "\"3\"")).AssertProblemAsync(409);
        var again = await reporter.DeleteJsonAsync($"/api/v1/activities/{id}", """{"reason":"lần nữa"}""");
        Assert.Equal(3, (await again.JsonAsync()).GetProperty("version").GetInt32());
        Assert.Equal(3, await api.ScalarAsync($"select count(*) from mt_events where stream_id = '{id}'"));
    }

    [Fact]
    public async Task Twenty_concurrent_identical_posts_give_one_activity_and_the_same_id_to_all()
    {
        var body = WithExternalId(ActivityExamples.ByKind["crime-bust"], "race-identical");
        var start = new TaskCompletionSource();
        var posts = Enumerable.Range(0, 20).Select(async _ =>
        {
            using var client = api.Reporter;
            await start.Task;
            var response = await client.PostJsonAsync("/api/v1/activities", body);
            return (response.StatusCode, Id: (await response.JsonAsync()).GetProperty("activityId").GetGuid());
        }).ToArray();
        start.SetResult();
        var results = await Task.WhenAll(posts);

        Assert.Single(results, r => r.StatusCode == HttpStatusCode.Created);
        Assert.Equal(19, results.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Single(results.Select(r => r.Id).Distinct());
        Assert.Equal(1, await api.ScalarAsync("select count(*) from mt_doc_activityview where data->>'externalId' = 'race-identical'"));
        Assert.Equal(1, await api.ScalarAsync($"select count(*) from mt_events where stream_id = '{results[0].Id}'"));
    }

    [Fact]
    public async Task The_same_externalId_with_other_content_is_a_409_and_another_client_has_its_own_ids()
    {
        using var reporter = api.Reporter;
        var body = WithExternalId(ActivityExamples.ByKind["outreach"], "same-key");
        Assert.Equal(HttpStatusCode.Created, (await reporter.PostJsonAsync("/api/v1/activities", body)).StatusCode);

        var other = With(body, b => b["summary"] = "Nội dung khác");
        await (await reporter.PostJsonAsync("/api/v1/activities", other)).AssertProblemAsync(409);

        using var otherClient = api.Client(ApiFactory.OtherReporterKey);
        Assert.Equal(HttpStatusCode.Created, (await otherClient.PostJsonAsync("/api/v1/activities", other)).StatusCode);
    }

    [Fact]
    public async Task A_repeat_that_differs_only_in_unicode_form_and_defaults_is_the_same_post()
    {
        using var reporter = api.Reporter;
        var body = WithExternalId(ActivityExamples.ByKind["patrol"], "nfd-same");
        var first = await reporter.PostJsonAsync("/api/v1/activities", body);
        var nfd = With(body, b =>
        {
            b["summary"] = b["summary"]!.GetValue<string>().Normalize(NormalizationForm.FormD);
            b["details"]!.AsObject().Remove("patrols"); // defaults to 1
        });
        var second = await reporter.PostJsonAsync("/api/v1/activities", nfd);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal((await first.JsonAsync()).GetProperty("activityId").GetGuid(), (await second.JsonAsync()).GetProperty("activityId").GetGuid());
    }

    [Fact]
    public async Task Text_sent_in_NFD_is_stored_in_NFC_and_found_by_its_NFC_form()
    {
        using var reporter = api.Reporter;
        const string summary = "Tuần tra song phương đoạn biên giới mốc 79 – Ma Lù Thàng";
        var body = With(WithExternalId(ActivityExamples.ByKind["patrol"], "nfd-stored"), b => b["summary"] = summary.Normalize(NormalizationForm.FormD));
        var id = (await (await reporter.PostJsonAsync("/api/v1/activities", body)).JsonAsync()).GetProperty("activityId").GetGuid();

        var stored = (await (await reporter.GetAsync($"/api/v1/activities/{id}")).JsonAsync()).GetProperty("summary").GetString()!;
        Assert.Equal(summary, stored);
        Assert.True(stored.IsNormalized(NormalizationForm.FormC));
        Assert.Equal(1, await api.ScalarAsync($"select count(*) from mt_doc_activityview where data->'content'->>'summary' = '{summary}'"));

        // A unit named in NFD is stored once, in NFC, and found by its NFC name.
        using var admin = api.Admin;
        var name = "Đồn Biên phòng Pa Vây Sử";
        var created = await admin.PostJsonAsync("/api/v1/units",
            JsonSerializer.Serialize(new { unitId = "don-pa-vay-su", name = name.Normalize(NormalizationForm.FormD), type = "border-post", parentId = "phong-tho" }));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var found = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/units?name={Uri.EscapeDataString("đồn biên phòng pa vây sử")}");
        Assert.Equal(name, Assert.Single(found.EnumerateArray()).GetProperty("name").GetString());
        Assert.Equal(1, await api.ScalarAsync($"select count(*) from mt_events where type = 'unit-established' and data->>'name' = '{name}'"));
    }

    [Fact]
    public async Task Two_concurrent_corrections_with_the_same_IfMatch_give_one_200_and_one_412()
    {
        using var reporter = api.Reporter;
        var body = WithExternalId(ActivityExamples.ByKind["meeting"], "correct-race");
        var id = (await (await reporter.PostJsonAsync("/api/v1/activities", body)).JsonAsync()).GetProperty("activityId").GetGuid();

        for (var round = 0; round < 5; round++)
        {
            var version = (await (await reporter.GetAsync($"/api/v1/activities/{id}")).JsonAsync()).GetProperty("version").GetInt32();
            var start = new TaskCompletionSource();
            var racers = new[] { 100 + round * 2, 101 + round * 2 }.Select(async attendees =>
            {
                using var client = api.Reporter;
                await start.Task;
                return (await client.PutJsonAsync($"/api/v1/activities/{id}", With(body, b => b["details"]!["meetingAttendees"] = attendees), $"\"{version}\"")).StatusCode;
            }).ToArray();
            start.SetResult();
            var statuses = await Task.WhenAll(racers);

            Assert.Single(statuses, s => s == HttpStatusCode.OK);
            Assert.Single(statuses, s => s == HttpStatusCode.PreconditionFailed);
            var after = await (await reporter.GetAsync($"/api/v1/activities/{id}")).JsonAsync();
            Assert.Equal(version + 1, after.GetProperty("version").GetInt32());
        }
        Assert.Equal(6, await api.ScalarAsync($"select count(*) from mt_events where stream_id = '{id}'"));
    }

    [Fact]
    public async Task Corrections_need_IfMatch_and_answer_412_when_stale_and_404_when_unknown()
    {
        using var reporter = api.Reporter;
        var body = WithExternalId(ActivityExamples.ByKind["rescue"], "correct-rules");
        var id = (await (await reporter.PostJsonAsync("/api/v1/activities", body)).JsonAsync()).GetProperty("activityId").GetGuid();
        var changed = With(body, b => b["details"]!["peopleRescued"] = 97);

        await (await reporter.PutJsonAsync($"/api/v1/activities/{id}", changed, null)).AssertProblemAsync(428);
        await (await reporter.PutJsonAsync($"/api/v1/activities/{id}", changed, "\"7\"")).AssertProblemAsync(412);
        await (await reporter.PutJsonAsync($"/api/v1/activities/{id}", changed, "soon")).AssertProblemAsync(400, "If-Match");
        await (await reporter.PutJsonAsync($"/api/v1/activities/{Guid.NewGuid()}", changed, "\"1\"")).AssertProblemAsync(404);
        await (await reporter.PutJsonAsync($"/api/v1/activities/{id}", WithExternalId(changed, "another-key"), "\"1\"")).AssertProblemAsync(422);
        await (await reporter.PutJsonAsync($"/api/v1/activities/{id}", With(changed, b => b["unitId"] = "nowhere"), "\"1\"")).AssertProblemAsync(400, "unitId");

        var ok = await reporter.PutJsonAsync($"/api/v1/activities/{id}", changed, "\"1\"");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal("\"2\"", ok.Headers.ETag!.Tag);
        // The same correction again is already done: no new event, same version.
        var repeat = await reporter.PutJsonAsync($"/api/v1/activities/{id}", changed, "\"2\"");
        Assert.Equal(2, (await repeat.JsonAsync()).GetProperty("version").GetInt32());
        Assert.Equal(2, await api.ScalarAsync($"select count(*) from mt_events where stream_id = '{id}'"));

        await (await reporter.DeleteJsonAsync($"/api/v1/activities/{id}", "{}")).AssertProblemAsync(400, "reason");
        await (await reporter.DeleteJsonAsync($"/api/v1/activities/{Guid.NewGuid()}", """{"reason":"x"}""")).AssertProblemAsync(404);
    }

    [Theory]
    [MemberData(nameof(BadActivityInputs.Cases), MemberType = typeof(BadActivityInputs))]
    public async Task A_bad_input_gets_a_400_naming_the_field_and_stores_nothing(string name, string json, string expectedKey, bool isJsonShapeError)
    {
        _ = (name, isJsonShapeError);
        using var reporter = api.Reporter;
        var before = await api.EventCountAsync();

        var response = await reporter.PostJsonAsync("/api/v1/activities", json);

        await response.AssertProblemAsync(400, expectedKey);
        Assert.Equal(before, await api.EventCountAsync());
    }

    [Fact]
    public async Task Bodies_that_are_too_large_empty_or_not_json_are_4xx_problems()
    {
        using var reporter = api.Reporter;
        var before = await api.EventCountAsync();
        var huge = WithExternalId(ActivityExamples.ByKind["patrol"], "huge").Replace("\"summary\":", $"\"padding\":\"{new string('x', 300_000)}\",\"summary\":");
        await (await reporter.PostJsonAsync("/api/v1/activities", huge)).AssertProblemAsync(413);
        await (await reporter.PostJsonAsync("/api/v1/activities", "")).AssertProblemAsync(400, "$");
        await (await reporter.PostAsync("/api/v1/activities", new StringContent("externalId=1", Encoding.UTF8, "text/plain"))).AssertProblemAsync(415);
        await (await reporter.PostJsonAsync("/api/v1/activities/batch", """{"activities": 5}""")).AssertProblemAsync(400, "activities");
        var tooMany = "{\"activities\":[" + string.Join(",", Enumerable.Repeat("{}", 1001)) + "]}";
        await (await reporter.PostJsonAsync("/api/v1/activities/batch", tooMany)).AssertProblemAsync(400, "activities");
        Assert.Equal(before, await api.EventCountAsync());
    }

    /// <summary>A body sent in chunks, without a Content-Length: the reader's buffer starts small and grows.</summary>
    sealed class ChunkedJson : HttpContent
    {
        readonly byte[] bytes;

        public ChunkedJson(string json)
        {
            bytes = Encoding.UTF8.GetBytes(json);
            Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        }

        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            for (var at = 0; at < bytes.Length; at += 3_000) await stream.WriteAsync(bytes.AsMemory(at, Math.Min(3_000, bytes.Length - at)));
        }

        protected override bool TryComputeLength(out long length) { length = 0; return false; }
    }

    [Fact]
    public async Task Bodies_without_a_length_are_read_whole_and_held_to_the_limit()
    {
        using var reporter = api.Reporter;
        var items = Enumerable.Range(1, 40).Select(i => WithExternalId(ActivityExamples.ByKind["patrol"], $"chunked-{i}")).ToArray();
        var batch = "{\"activities\":[" + string.Join(",", items) + "]}";
        Assert.True(batch.Length > 4 * 4096, "the body must outgrow the first buffer more than once");
        var response = await reporter.PostAsync("/api/v1/activities/batch", new ChunkedJson(batch));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var results = (await response.JsonAsync()).GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal(Enumerable.Repeat("created", 40), results.Select(r => r.GetProperty("status").GetString()));
        Assert.Equal(40, await api.ScalarAsync("select count(*) from mt_doc_activityview where data->>'externalId' like 'chunked-%'"));

        var before = await api.EventCountAsync();
        var huge = WithExternalId(ActivityExamples.ByKind["patrol"], "chunked-huge").Replace("\"summary\":", $"\"padding\":\"{new string('x', 300_000)}\",\"summary\":");
        await (await reporter.PostAsync("/api/v1/activities", new ChunkedJson(huge))).AssertProblemAsync(413);
        var single = await reporter.PostAsync("/api/v1/activities", new ChunkedJson(WithExternalId(ActivityExamples.ByKind["welfare"], "chunked-single")));
        Assert.Equal(HttpStatusCode.Created, single.StatusCode);
        Assert.Equal(before + 1, await api.EventCountAsync());
    }

    [Fact]
    public async Task A_batch_answers_per_item_and_stores_the_valid_items()
    {
        using var reporter = api.Reporter;
        await reporter.PostJsonAsync("/api/v1/activities", WithExternalId(ActivityExamples.ByKind["welfare"], "batch-existing"));
        var items = new[]
        {
            WithExternalId(ActivityExamples.ByKind["patrol"], "batch-new-1"),
            With(WithExternalId(ActivityExamples.ByKind["patrol"], "batch-bad"), b => b["details"]!["patrols"] = -1),
            WithExternalId(ActivityExamples.ByKind["welfare"], "batch-existing"),
            With(WithExternalId(ActivityExamples.ByKind["welfare"], "batch-existing"), b => b["summary"] = "khác"),
            WithExternalId(ActivityExamples.ByKind["border-day"], "batch-new-2"),
            WithExternalId(ActivityExamples.ByKind["border-day"], "batch-new-2"),
            "\"not an object\"",
            """{"externalId":"batch-typo","kind":"patrol","unitId":"phong-tho","occuredOn":"2024-01-01"}""",
        };
        var response = await reporter.PostJsonAsync("/api/v1/activities/batch", "{\"activities\":[" + string.Join(",", items) + "]}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var results = (await response.JsonAsync()).GetProperty("results").EnumerateArray().ToArray();

        Assert.Equal(["created", "invalid", "duplicate", "conflict", "created", "duplicate", "invalid", "invalid"],
            results.Select(r => r.GetProperty("status").GetString()));
        Assert.Equal(Enumerable.Range(0, items.Length), results.Select(r => r.GetProperty("index").GetInt32()));
        Assert.True(results[1].GetProperty("errors").TryGetProperty("details.patrols", out _));
        Assert.True(results[7].GetProperty("errors").TryGetProperty("occuredOn", out _));
        Assert.Equal(results[4].GetProperty("activityId").GetGuid(), results[5].GetProperty("activityId").GetGuid());
        Assert.Equal(1, await api.ScalarAsync("select count(*) from mt_doc_activityview where data->>'externalId' = 'batch-new-1'"));
        Assert.Equal(0, await api.ScalarAsync("select count(*) from mt_doc_activityview where data->>'externalId' = 'batch-bad'"));
    }

    [Fact]
    public async Task The_list_pages_newest_first_filtered_by_unit_subtree_kind_and_dates()
    {
        using var reporter = api.Reporter;
        var batch = Enumerable.Range(1, 9).Select(i => With(WithExternalId(ActivityExamples.ByKind["outreach"], $"list-{i}"), b =>
        {
            b["occurredOn"] = $"2022-0{i}-15";
            b["unitId"] = i % 2 == 0 ? "si-lo-lau" : "muong-te";
        }));
        await reporter.PostJsonAsync("/api/v1/activities/batch", "{\"activities\":[" + string.Join(",", batch) + "]}");

        using var analyst = api.Analyst;
        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await analyst.GetFromJsonAsync<JsonElement>(
                $"/api/v1/activities?unitId=phong-tho&kind=outreach&from=2022-01-01&to=2022-12-31&limit=2{(cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor))}");
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(a => a.GetProperty("occurredOn").GetString()!));
            cursor = page.GetProperty("nextCursor").GetString();
        } while (cursor is not null);

        Assert.Equal(["2022-08-15", "2022-06-15", "2022-04-15", "2022-02-15"], seen);
        await (await analyst.GetAsync("/api/v1/activities?cursor=nonsense")).AssertProblemAsync(400, "cursor");
        await (await analyst.GetAsync("/api/v1/activities?from=2022-02-30")).AssertProblemAsync(400, "from");
        await (await analyst.GetAsync("/api/v1/activities?kind=parade")).AssertProblemAsync(400, "kind");
    }
}
