using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Tests.Activities;
using CoordinationEvents.Api.Tests.Infrastructure;
using CoordinationEvents.Testing;
using Npgsql;
using Xunit.Abstractions;
using static CoordinationEvents.Api.Tests.Units.UnitsOverTime;

namespace CoordinationEvents.Api.Tests.Statistics;

/// <summary>
/// issue 17: a reorganisation recorded late while 8 clients post, with the service killed (SIGKILL) once in the
/// middle. The service runs as a process of its own (<see cref="ServiceProcess"/>); Phong Thổ's reform of 2025-07-01
/// (two communes merged into a new one, the border posts moved under a new Border Guard command, the district
/// dissolved) is recorded while the clients post activities of Phong Thổ's units dated 2025-01..2026-06, and the
/// process is killed as soon as the reform's restatement is asked for (its row in <c>organisation_restates</c>), before
/// it is done. A second process on the same database takes over; the clients, which retry a failed post with the same
/// body as posting systems do, go on against it. Then: every activity that got a 2xx is stored exactly once, nothing
/// else is, verify finds 0, and the figures as it was equal the test's own count.
/// <para>
/// Where the kill lands varies: the restatement asked for and not done (most runs), or the reform committed and its
/// message not yet handled (the 201 came first). Then, and when A handled the message without marking it handled, B
/// takes the message back only once Wolverine ejects A's node as stale (StaleNodeTimeout, 1 min by default, checked
/// every 10 s): the test then lasts about 90 s instead of 30.
/// </para>
/// </summary>
public sealed class ReorganisationKillTests(ITestOutputHelper output)
{
    const string ReformId = "nq-1670-kill-test";
    static readonly DateOnly Reform = new(2025, 7, 1);
    static readonly DateOnly First = new(2025, 1, 1), Last = new(2026, 6, 30);
    static readonly string[] Posts = ["don-dao-san", "don-huoi-luong", "don-ma-lu-thang", "don-si-lo-lau", "don-vang-ma-chai"];
    const string Command = "bch-bdbp-lai-chau", NewCommune = "khong-lao";

    /// <summary>The units the clients post for, before the reform is known to them.</summary>
    static readonly string[] Posted = ["phong-tho", "hoang-then", "ban-lang", "si-lo-lau", "mo-si-san", "don-ma-lu-thang", "don-dao-san"];

    static string ReformBody() => Reorganisation(ReformId, "Nghị quyết 1670/NQ-UBTVQH15 (thử)", "2025-07-01",
    [
        Establish(NewCommune, "Khổng Lào", "commune", "lai-chau"),
        Merge(["hoang-then", "ban-lang"], NewCommune),
        Establish(Command, "Ban Chỉ huy Bộ đội Biên phòng tỉnh Lai Châu", "border-guard-command", "lai-chau"),
        .. Posts.Select(p => Move(p, Command)),
        Dissolve("phong-tho", "lai-chau"),
    ]);

    /// <summary>
    /// The test's own reading of organisation.md for this reform: the unit that holds an activity of
    /// <paramref name="unit"/> on <paramref name="day"/>, then its ancestors on that day. Before the reform, Phong
    /// Thổ's units stand under the district; from it, the merged communes count for their successor, the posts for
    /// the command, the other communes for the province, and the dissolved district keeps its own.
    /// </summary>
    static string[] Holders(string unit, DateOnly day)
    {
        if (unit == "phong-tho") return ["phong-tho", "lai-chau"];
        if (day < Reform) return [unit, "phong-tho", "lai-chau"];
        if (unit is "hoang-then" or "ban-lang" or NewCommune) return [NewCommune, "lai-chau"];
        if (unit.StartsWith("don-", StringComparison.Ordinal)) return [unit, Command, "lai-chau"];
        return [unit, "lai-chau"];
    }

    sealed record Activity(string ExternalId, string Unit, DateOnly Day, int Participants, string Body);

    static Activity Make(string externalId, string unit, DateOnly day, int participants) =>
        new(externalId, unit, day, participants, ReorganisationTests.Body(externalId, unit, day, participants));

    /// <summary>What the clients share: where the service is, whether they know of the reform, when to stop, and what they got.</summary>
    sealed class Clients
    {
        public volatile Uri Address = null!;
        public volatile bool ReformKnown;
        public volatile bool Stop;
        public readonly ConcurrentDictionary<string, (Activity Activity, HttpStatusCode Status, int Attempts)> Accepted = new();
        public readonly ConcurrentDictionary<string, (Activity Activity, int Attempts, string Problem)> Rejected = new();
        public readonly ConcurrentQueue<string> Unexpected = new();
        public int FailedAttempts;
        public int Retried;
    }

    static async Task ClientAsync(Clients clients, int client, int seed)
    {
        var random = new Random(seed + client);
        using var http = new HttpClient(new OpenApiConformance(clients.Address)) { Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Add("X-Api-Key", CoordinationEvents.Api.Core.ApiKeyOptions.DevReporterKey);
        for (var n = 0; !clients.Stop; n++)
        {
            var day = First.AddDays(random.Next(Last.DayNumber - First.DayNumber + 1));
            var unit = Posted[random.Next(Posted.Length)];
            // A posting system that knows of the reform posts the new units after it (the old ones would be a 400).
            if (clients.ReformKnown && day >= Reform)
                unit = unit switch { "hoang-then" or "ban-lang" => NewCommune, "phong-tho" => "si-lo-lau", _ => unit };
            var activity = Make($"kill-{client}-{n}", unit, day, 1 + random.Next(20));
            for (var attempt = 1; ; attempt++)
            {
                if (attempt > 1000)
                {
                    clients.Unexpected.Enqueue($"{activity.ExternalId}: no answer after 1000 attempts");
                    return;
                }
                HttpResponseMessage response;
                try
                {
                    response = await http.PostAsync(new Uri(clients.Address, "api/v1/activities"), HttpExtensions.JsonBody(activity.Body));
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    // Refused or reset while the service is down: the same body again, as a posting system would.
                    Interlocked.Increment(ref clients.FailedAttempts);
                    await Task.Delay(20);
                    continue;
                }
                using (response)
                {
                    if (response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK)
                    {
                        clients.Accepted[activity.ExternalId] = (activity, response.StatusCode, attempt);
                        if (attempt > 1) Interlocked.Increment(ref clients.Retried);
                        break;
                    }
                    if ((int)response.StatusCode >= 500)
                    {
                        Interlocked.Increment(ref clients.FailedAttempts);
                        await Task.Delay(20);
                        continue;
                    }
                    var problem = await response.Content.ReadAsStringAsync();
                    // Only a unit that the reform ended, on a day from it on, may be refused: the reform committed
                    // before this client heard of it.
                    if (response.StatusCode == HttpStatusCode.BadRequest && day >= Reform && unit is "hoang-then" or "ban-lang" or "phong-tho")
                        clients.Rejected[activity.ExternalId] = (activity, attempt, problem);
                    else
                        clients.Unexpected.Enqueue($"{activity.ExternalId} ({unit}, {day:yyyy-MM-dd}) attempt {attempt}: {(int)response.StatusCode} {problem}");
                    break;
                }
            }
        }
    }

    [Fact]
    public async Task A_reorganisation_recorded_late_while_8_clients_post_with_the_service_killed_in_the_middle_loses_nothing_and_counts_nothing_twice()
    {
        var watch = Stopwatch.StartNew();
        var seed = Environment.TickCount;
        output.WriteLine($"seed {seed}");
        // How soon Wolverine finds a dead node and takes back its messages: its defaults, which the service keeps.
        var durability = new Wolverine.DurabilitySettings();
        output.WriteLine("Wolverine " + string.Join(", ", typeof(Wolverine.DurabilitySettings).GetProperties()
            .Where(p => p.PropertyType == typeof(TimeSpan) && p.Name is "StaleNodeTimeout" or "HealthCheckPollingTime" or "FirstHealthCheckExecution" or "ScheduledJobPollingTime" or "OrphanedMessageSweepPollingTime")
            .Select(p => $"{p.Name} {p.GetValue(durability)}")));
        var database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("kill", maxPoolSize: 40);
        var processes = new List<ServiceProcess>();
        var passed = false;
        try
        {
            var a = await ServiceProcess.StartAsync("A", database);
            processes.Add(a);
            output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0} s: A ready (pid {a.Id})");
            // The OpenAPI document is read once, from the first service the clients reach: from A, while it lives.
            using (var warm = a.Analyst) await warm.GetStringAsync("api/v1/units");

            var clients = new Clients { Address = a.Address };
            var posting = Enumerable.Range(0, 8).Select(c => Task.Run(() => ClientAsync(clients, c, seed))).ToArray();
            await Task.Delay(TimeSpan.FromSeconds(2));
            var beforeReform = clients.Accepted.Count;

            // The reform, recorded late (many activities already posted are dated after 2025-07-01); A is killed as
            // soon as its restatement is asked for, or on the 201, whichever comes first.
            string killedOn = "", restateAtKill = "";
            using var killing = new CancellationTokenSource();
            var killer = Task.Run(async () =>
            {
                await using var connection = new NpgsqlConnection(database);
                await connection.OpenAsync();
                while (!killing.IsCancellationRequested)
                {
                    await using var cmd = new NpgsqlCommand($"select count(*) from organisation_restates where change_id = 'reorganisation:{ReformId}'", connection);
                    if ((long)(await cmd.ExecuteScalarAsync())! > 0) return true;
                    await Task.Delay(1);
                }
                return false;
            });
            var reformPosted = Task.Run(async () =>
            {
                using var admin = a.Admin;
                return await admin.PostReorganisationAsync(ReformBody());
            });
            var first = await Task.WhenAny(killer, reformPosted);
            a.Kill();
            await killing.CancelAsync();
            clients.ReformKnown = true;
            killedOn = first == killer ? "the restatement's row" : "the reform's answer";
            restateAtKill = await RestateStateAsync(database);
            var envelopesAtKill = await EnvelopesAsync(database);
            output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0} s: A killed on {killedOn}, {beforeReform} activities accepted before the reform, {clients.Accepted.Count} at the kill; restatement at the kill: {restateAtKill}; its messages: {envelopesAtKill}");
            HttpStatusCode? reformStatus = null;
            try
            {
                var answer = await reformPosted;
                reformStatus = answer.StatusCode;
                Assert.True(answer.StatusCode == HttpStatusCode.Created, await answer.Content.ReadAsStringAsync());
            }
            catch (HttpRequestException e)
            {
                output.WriteLine($"the reform's answer was lost in the kill: {e.Message}");
            }

            var b = await ServiceProcess.StartAsync("B", database);
            processes.Add(b);
            clients.Address = b.Address;
            output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0} s: B ready (pid {b.Id}), {clients.FailedAttempts} failed attempts so far");
            using var adminB = b.Admin;
            if (reformStatus is null)
            {
                // The admin did not hear back: the same body again, which was recorded (its restatement was asked for).
                var again = await adminB.PostReorganisationAsync(ReformBody());
                Assert.True(again.StatusCode == HttpStatusCode.OK, await again.Content.ReadAsStringAsync());
            }

            await Task.Delay(TimeSpan.FromSeconds(2));
            clients.Stop = true;
            await Task.WhenAll(posting);
            output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0} s: clients stopped: {clients.Accepted.Count} accepted " +
                $"({clients.Accepted.Values.Count(x => x.Status == HttpStatusCode.OK)} answered 200 on a retry), {clients.Rejected.Count} refused (an ended unit), " +
                $"{clients.FailedAttempts} failed attempts, {clients.Retried} accepted after a retry");
            Assert.True(clients.Unexpected.IsEmpty, string.Join("\n", clients.Unexpected));

            // The reform applied, and the projection caught up, on B.
            await WaitAppliedAsync(adminB, TimeSpan.FromSeconds(150));
            output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0} s: the reform is applied");
            await WaitForProjectionsAsync(adminB, TimeSpan.FromSeconds(60));
            output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0} s: projections caught up; messages: {await EnvelopesAsync(database)}");

            // Nothing lost, nothing twice, nothing else: one stream and one recorded event per accepted externalId.
            var stored = new Dictionary<string, (long Events, long Streams, string Unit, string Day)>();
            await using (var connection = new NpgsqlConnection(database))
            {
                await connection.OpenAsync();
                await using var cmd = new NpgsqlCommand("""
                    select data->'content'->>'externalId', count(*), count(distinct stream_id), min(data->'content'->>'unitId'), min(data->'content'->>'occurredOn')
                    from mt_events where type = 'activity-recorded' group by 1
                    """, connection);
                await using var reader = await cmd.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                    stored[reader.GetString(0)] = (reader.GetInt64(1), reader.GetInt64(2), reader.GetString(3), reader.GetString(4));
            }
            var refusedButStored = clients.Rejected.Keys.Where(stored.ContainsKey).ToArray();
            Assert.True(refusedButStored.Length == 0, "Stored, though the client's last answer was a 400 (a retry refused after the reform): "
                + string.Join("; ", refusedButStored.Select(id => $"{id} after {clients.Rejected[id].Attempts} attempts: {clients.Rejected[id].Problem}")));
            var lost = clients.Accepted.Keys.Where(id => !stored.ContainsKey(id)).ToArray();
            Assert.True(lost.Length == 0, "Accepted, not stored: " + string.Join(", ", lost));
            var unknown = stored.Keys.Where(id => !clients.Accepted.ContainsKey(id)).ToArray();
            Assert.True(unknown.Length == 0, "Stored, never accepted: " + string.Join(", ", unknown));
            var twice = stored.Where(s => s.Value.Events != 1 || s.Value.Streams != 1).Select(s => $"{s.Key}: {s.Value.Events} events in {s.Value.Streams} streams").ToArray();
            Assert.True(twice.Length == 0, "Recorded more than once: " + string.Join(", ", twice));
            Assert.Equal(clients.Accepted.Count, await ScalarAsync(database, "select count(*) from mt_doc_activityview"));
            Assert.Equal(clients.Accepted.Count, await ScalarAsync(database, "select count(*) from mt_events where type like 'activity-%'"));
            Assert.All(clients.Accepted.Values, x => Assert.Equal((x.Activity.Unit, x.Activity.Day.ToString("yyyy-MM-dd")), (stored[x.Activity.ExternalId].Unit, stored[x.Activity.ExternalId].Day)));
            Assert.Equal(1, await ScalarAsync(database, $"select count(*) from organisation_restates where change_id = 'reorganisation:{ReformId}' and done_at is not null"));

            var accepted = clients.Accepted.Values.Select(x => x.Activity).ToArray();
            var lateOnes = accepted.Count(x => x.Day >= Reform && x.Unit is "hoang-then" or "ban-lang" or "phong-tho" or "don-ma-lu-thang" or "don-dao-san");
            output.WriteLine($"{accepted.Length} activities, {lateOnes} of them of the reformed units dated on or after 2025-07-01");
            Assert.True(lateOnes >= 20, $"Too few activities the reform moves ({lateOnes}) to prove anything.");

            // verify recomputes the figures from the events: 0 differences.
            var verify = await adminB.GetFromJsonAsync<JsonElement>("api/v1/admin/verify");
            Assert.True(verify.GetProperty("differenceCount").GetInt32() == 0, verify.ToString());

            // The figures as it was, against the test's own count.
            using var analyst = b.Analyst;
            var period = $"from={First:yyyy-MM-dd}&to={Last:yyyy-MM-dd}";
            string[] units = ["lai-chau", "phong-tho", NewCommune, Command, "hoang-then", "ban-lang", "si-lo-lau", "mo-si-san", "don-ma-lu-thang", "don-dao-san"];
            foreach (var unit in units)
            {
                var totals = (await analyst.GetFromJsonAsync<JsonElement>($"api/v1/statistics?{period}&unitId={unit}")).GetProperty("totals");
                var mine = accepted.Where(x => Holders(x.Unit, x.Day).Contains(unit)).ToArray();
                Assert.True((mine.Length, (decimal)mine.Sum(x => x.Participants)) == (Metric(totals, "activities"), Metric(totals, "patrolParticipants")),
                    $"{unit}: {totals}, expected {mine.Length} activities, {mine.Sum(x => x.Participants)} participants");
            }
            var province = (await analyst.GetFromJsonAsync<JsonElement>($"api/v1/statistics?{period}&unitId=lai-chau")).GetProperty("totals");
            Assert.Equal(clients.Accepted.Count, Metric(province, "activities"));

            // Grouped by the child that held each activity on its date, and by month.
            foreach (var unit in new[] { "lai-chau", "phong-tho" })
            {
                var answer = await analyst.GetFromJsonAsync<JsonElement>($"api/v1/statistics?{period}&unitId={unit}&groupBy=unit,month");
                var rows = answer.GetProperty("rows").EnumerateArray().ToDictionary(
                    r => r.GetProperty("key").GetProperty("unit").GetString() + "|" + r.GetProperty("key").GetProperty("month").GetString(),
                    r => Metric(r.GetProperty("metrics"), "activities"));
                var expected = accepted
                    .Select(x => (x, Holders(x.Unit, x.Day)))
                    .Where(p => p.Item2.Contains(unit))
                    .GroupBy(p => (Array.IndexOf(p.Item2, unit) is var at && at == 0 ? unit : p.Item2[at - 1]) + "|" + p.x.Day.ToString("yyyy-MM", CultureInfo.InvariantCulture))
                    .ToDictionary(g => g.Key, g => (decimal)g.Count());
                Assert.Equal(expected.OrderBy(e => e.Key, StringComparer.Ordinal), rows.OrderBy(e => e.Key, StringComparer.Ordinal));
            }
            // The message may have been handled on A without Wolverine marking it so before the kill: its stored copy
            // is still owned by A's node, and B handles it again once Wolverine finds that node dead (Balanced mode: its
            // node record is ejected after StaleNodeTimeout, a minute by default; then the inbox recovery). Handled
            // twice, it must change nothing: the restatement is asked for once per change.
            if (await ScalarAsync(database, IncomingSql) > 0)
            {
                var doneAt = await ScalarAsync(database, $"select (extract(epoch from done_at) * 1000000)::bigint from organisation_restates where change_id = 'reorganisation:{ReformId}'");
                var figures = await analyst.GetStringAsync($"api/v1/statistics?{period}&unitId=lai-chau&groupBy=unit,month");
                var since = Stopwatch.StartNew();
                while (await ScalarAsync(database, IncomingSql) > 0)
                {
                    if (since.Elapsed > TimeSpan.FromSeconds(120)) throw new TimeoutException($"Wolverine did not take back the dead node's message: {await EnvelopesAsync(database)}");
                    await Task.Delay(250);
                }
                output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0} s: B handled the dead node's message again after {since.Elapsed.TotalSeconds:0.0} s more: {await EnvelopesAsync(database)}");
                await WaitForProjectionsAsync(adminB, TimeSpan.FromSeconds(60));
                Assert.Equal(1, await ScalarAsync(database, "select count(*) from organisation_restates"));
                Assert.Equal(doneAt, await ScalarAsync(database, $"select (extract(epoch from done_at) * 1000000)::bigint from organisation_restates where change_id = 'reorganisation:{ReformId}'"));
                Assert.Equal(figures, await analyst.GetStringAsync($"api/v1/statistics?{period}&unitId=lai-chau&groupBy=unit,month"));
                var again = await adminB.GetFromJsonAsync<JsonElement>("api/v1/admin/verify");
                Assert.True(again.GetProperty("differenceCount").GetInt32() == 0, again.ToString());
            }
            output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0} s: done");
            passed = true;
        }
        finally
        {
            if (!passed)
                foreach (var process in processes) output.WriteLine(process.Output);
            foreach (var process in processes) await process.DisposeAsync();
        }
    }

    const string IncomingSql = "select count(*) from wolverine_incoming_envelopes where message_type ilike '%organisationchanged%' and status = 'Incoming'";

    static decimal Metric(JsonElement metrics, string name) => metrics.TryGetProperty(name, out var v) ? v.GetDecimal() : 0;

    static async Task<long> ScalarAsync(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync());
    }

    /// <summary>The reform's row in <c>organisation_restates</c>: absent, pending or done.</summary>
    static async Task<string> RestateStateAsync(string database)
    {
        var done = await ScalarAsync(database, $"select count(done_at) from organisation_restates where change_id = 'reorganisation:{ReformId}'");
        var rows = await ScalarAsync(database, $"select count(*) from organisation_restates where change_id = 'reorganisation:{ReformId}'");
        return rows == 0 ? "not yet asked for" : done == 0 ? "asked for, not done (done_at null)" : "done";
    }

    /// <summary>Wolverine's stored copies of the organisation's messages: status and owner of each.</summary>
    static async Task<string> EnvelopesAsync(string database)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var cmd = new NpgsqlCommand("""
            select coalesce(string_agg(status || ' owned by ' || owner_id, ', '), 'none')
            from wolverine_incoming_envelopes where message_type ilike '%organisationchanged%'
            """, connection);
        var incoming = (string)(await cmd.ExecuteScalarAsync())!;
        await using var nodes = new NpgsqlCommand("select coalesce(string_agg(node_number::text, ', ' order by node_number), '') from wolverine_nodes", connection);
        return $"{incoming} (nodes {(string)(await nodes.ExecuteScalarAsync())!})";
    }

    static async Task WaitAppliedAsync(HttpClient admin, TimeSpan patience)
    {
        var deadline = DateTime.UtcNow + patience;
        while (true)
        {
            var reform = await admin.GetFromJsonAsync<JsonElement>($"api/v1/reorganisations/{ReformId}");
            if (reform.GetProperty("applied").GetBoolean()) return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"The reform was not applied within {patience.TotalSeconds:0} s: {reform}");
            await Task.Delay(100);
        }
    }

    static async Task WaitForProjectionsAsync(HttpClient admin, TimeSpan patience)
    {
        var deadline = DateTime.UtcNow + patience;
        while (true)
        {
            var status = await admin.GetFromJsonAsync<JsonElement>("api/v1/admin/projections");
            if (status.GetProperty("projections").EnumerateArray().All(p => p.GetProperty("lag").GetInt64() == 0 && !p.GetProperty("rebuilding").GetBoolean()
                && p.GetProperty("rebuildRequestedAt").ValueKind == JsonValueKind.Null))
                return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Projections did not catch up: {status}");
            await Task.Delay(50);
        }
    }
}

/// <summary>
/// What the kill test found: a posting system that retries an activity whose answer it lost (the service died after
/// the commit) must get 200, even when a reorganisation recorded in between ended the activity's unit on its date.
/// </summary>
public sealed class RetryAfterLateReorganisationTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task A_retry_of_an_activity_recorded_before_a_late_reorganisation_answers_200_not_400()
    {
        using var reporter = api.Reporter;
        using var admin = api.Admin;
        static string Patrol(string externalId, string occurredOn, int participants = 8)
        {
            var node = JsonNode.Parse(LateReorganisation.Patrol(externalId, "hoang-then", occurredOn))!;
            node["details"]!["patrolParticipants"] = participants;
            return node.ToJsonString();
        }
        var first = await reporter.PostJsonAsync("/api/v1/activities", Patrol("retry-1", "2025-08-10"));
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var id = (await first.JsonAsync()).GetProperty("activityId").GetString();

        var reform = await admin.PostReorganisationAsync(Reorganisation("retry-reform", "Nghị quyết thử", "2025-07-01",
            Establish("khong-lao", "Khổng Lào", "commune", "lai-chau"), Merge(["hoang-then", "ban-lang"], "khong-lao")));
        Assert.True(reform.StatusCode == HttpStatusCode.Created, await reform.Content.ReadAsStringAsync());

        // The same body again: the activity is stored, and counted for Khổng Lào; the retry is told so.
        var again = await reporter.PostJsonAsync("/api/v1/activities", Patrol("retry-1", "2025-08-10"));
        Assert.True(again.StatusCode == HttpStatusCode.OK, await again.Content.ReadAsStringAsync());
        Assert.Equal(id, (await again.JsonAsync()).GetProperty("activityId").GetString());
        // Other content under that externalId is still a conflict, and a new activity of the ended unit on that day still a 400.
        await (await reporter.PostJsonAsync("/api/v1/activities", Patrol("retry-1", "2025-08-10", participants: 6))).AssertProblemAsync(409);
        await (await reporter.PostJsonAsync("/api/v1/activities", Patrol("retry-2", "2025-08-10"))).AssertProblemAsync(400, "unitId");
        await (await reporter.PostJsonAsync("/api/v1/activities", Patrol("retry-1", "2025-08-11"))).AssertProblemAsync(400, "unitId");
        // A batch answers each item as a single post does: the resent item is a duplicate, the new one invalid.
        var batch = await reporter.PostJsonAsync("/api/v1/activities/batch",
            $$"""{"activities":[{{Patrol("retry-1", "2025-08-10")}},{{Patrol("retry-2", "2025-08-10")}},{{Patrol("retry-1", "2025-08-10", participants: 6)}}]}""");
        Assert.True(batch.StatusCode == HttpStatusCode.OK, await batch.Content.ReadAsStringAsync());
        var items = (await batch.JsonAsync()).GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal(["duplicate", "invalid", "conflict"], items.Select(r => r.GetProperty("status").GetString()));
        Assert.Equal(id, items[0].GetProperty("activityId").GetString());
        Assert.True(items[1].GetProperty("errors").TryGetProperty("unitId", out _), items[1].ToString());
        Assert.Equal(1, await api.EventCountAsync());
    }
}
