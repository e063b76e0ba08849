using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Tests.Infrastructure;
using Xunit.Abstractions;

namespace CoordinationEvents.Api.Tests.Robustness;

/// <summary>
/// No input ends in a 500: seeded mutations of valid bodies, query strings and headers, sent to every endpoint
/// through real HTTP. Every answer must be a 2xx, or a 4xx problem document; a rejected write stores no event
/// (and a rejected unit write leaves the tree as it was); a batch stores exactly its <c>created</c> items.
/// <para>Two runs: a fixed seed, and a random one that the test prints. Replay a failure with
/// <c>CE_FUZZ_SEED=&lt;seed&gt; dotnet test --filter NoServerErrorTests</c>; <c>CE_FUZZ_REQUESTS</c> sets
/// the number of requests per seed (default 1,500).</para>
/// <para>Afterwards everything that was accepted must read back: each activity and its history, the whole
/// feed, and the statistics must equal a recomputation from the events (<c>/admin/verify</c>).</para>
/// The test talks only HTTP (plus <see cref="ApiFactory.EventCountAsync"/>), so it holds whatever the internals.
/// </summary>
public sealed class NoServerErrorTests(ApiFactory api, ITestOutputHelper output) : IClassFixture<ApiFactory>
{
    public const string SeedVariable = "CE_FUZZ_SEED";
    public const string RequestsVariable = "CE_FUZZ_REQUESTS";
    const int FixedSeed = 20_261_201;

    static readonly int RandomSeed =
        int.TryParse(Environment.GetEnvironmentVariable(SeedVariable), out var seed) ? seed : Random.Shared.Next();

    static int RequestCount =>
        int.TryParse(Environment.GetEnvironmentVariable(RequestsVariable), out var n) && n > 0 ? n : 1_500;

    [Fact]
    public Task With_the_fixed_seed_no_request_gets_a_5xx_and_no_rejected_write_stores_anything() => RunAsync(FixedSeed);

    [Fact]
    public Task With_a_random_seed_no_request_gets_a_5xx_and_no_rejected_write_stores_anything() => RunAsync(RandomSeed);

    enum Effect { Read, ActivityWrite, Batch, UnitWrite, Import }

    sealed record Probe(string Name, HttpMethod Method, string Url, string? Key, Effect Effect)
    {
        public byte[]? Body { get; init; }
        public string? ContentType { get; init; } = "application/json";
        public List<(string Name, string Value)> Headers { get; } = [];

        public string Describe()
        {
            var text = new StringBuilder($"{Name}: {Method} {Url} key={Key ?? "(none)"}");
            foreach (var (name, value) in Headers) text.Append($" [{name}: {Printable(value, 200)}]");
            if (Body is not null) text.Append($" content-type={ContentType ?? "(none)"} body={Printable(Encoding.UTF8.GetString(Body), 1_500)}");
            return text.ToString();
        }
    }

    static string Printable(string s, int max)
    {
        var text = new StringBuilder();
        foreach (var c in s.Length > max ? s[..max] : s)
            text.Append(c < ' ' || char.IsSurrogate(c) || c == '\uFFFD' ? $"\\u{(int)c:x4}" : c.ToString());
        return s.Length > max ? text.Append($"…({s.Length} chars)").ToString() : text.ToString();
    }

    sealed class Run(int seed)
    {
        public readonly int Seed = seed;
        public readonly Mutations M = new(new Random(seed));
        public readonly List<(Guid Id, string Kind, string Body)> Activities = [];
        public readonly List<Guid> Throwaway = [];
        public readonly List<string> Failures = [];
        public readonly Dictionary<int, int> Statuses = [];
        public readonly List<(double Ms, string What)> Slowest = [];
        public int Serial;
        public string UnitId = "";
    }

    async Task RunAsync(int seed)
    {
        output.WriteLine($"seed {seed} (replay: {SeedVariable}={seed}); {RequestCount} requests");
        var run = new Run(seed);
        var clock = Stopwatch.StartNew();
        await SetUpAsync(run, seed);

        for (var i = 0; i < RequestCount; i++)
        {
            var probe = Next(run, seed, i);
            await SendAndCheckAsync(run, probe);
            if (run.Failures.Count >= 25) break;
        }
        if (run.Failures.Count == 0) await ReadEverythingBackAsync(run);

        output.WriteLine($"{run.Statuses.Values.Sum()} requests in {clock.Elapsed.TotalSeconds:F1} s; statuses: "
            + string.Join(", ", run.Statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}×{s.Value}")));
        foreach (var (ms, what) in run.Slowest.OrderByDescending(s => s.Ms).Take(5)) output.WriteLine($"  slowest: {ms:F0} ms {what}");
        Assert.True(run.Failures.Count == 0,
            $"seed {seed} (replay with {SeedVariable}={seed}): {run.Failures.Count} failure(s):\n" + string.Join("\n\n", run.Failures));
    }

    /// <summary>What was accepted reads back without a 5xx, and the figures equal a recomputation.</summary>
    async Task ReadEverythingBackAsync(Run run)
    {
        using var admin = api.Admin;
        foreach (var id in run.Activities.Select(a => a.Id).Concat(run.Throwaway))
        {
            foreach (var url in new[] { $"/api/v1/activities/{id}", $"/api/v1/activities/{id}/history" })
            {
                var response = await admin.GetAsync(url);
                if ((int)response.StatusCode != 200) run.Failures.Add($"read back {url}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
        }
        string? after = null;
        for (var page = 0; page < 10_000; page++)
        {
            var response = await admin.GetAsync("/api/v1/feed?limit=1000" + (after is null ? "" : "&after=" + Uri.EscapeDataString(after)));
            var text = await response.Content.ReadAsStringAsync();
            if ((int)response.StatusCode != 200) { run.Failures.Add($"read back the feed: {(int)response.StatusCode} {Printable(text, 1_000)}"); break; }
            var feed = JsonSerializer.Deserialize<JsonElement>(text);
            if (feed.GetProperty("events").GetArrayLength() == 0) break;
            after = feed.GetProperty("nextAfter").GetString();
        }
        await api.WaitForProjectionsAsync();
        await api.AssertStatisticsConsistentAsync();
    }

    async Task SetUpAsync(Run run, int seed)
    {
        using var reporter = api.Reporter;
        foreach (var (kind, example) in ActivityExamples.ByKind)
        {
            var body = WithExternalId(example, $"fuzz-{seed}-base-{kind}");
            var response = await reporter.PostJsonAsync("/api/v1/activities", body);
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            run.Activities.Add(((await response.JsonAsync()).GetProperty("activityId").GetGuid(), kind, body));
        }
        using var admin = api.Admin;
        run.UnitId = $"don-fuzz-{(uint)seed}";
        var unit = await admin.PostJsonAsync("/api/v1/units",
            JsonSerializer.Serialize(new { unitId = run.UnitId, name = "Đồn Biên phòng thử", type = "border-post", parentId = "phong-tho" }));
        // 409 when the random seed is the fixed one (a replay of it): the unit is there already.
        Assert.True(unit.IsSuccessStatusCode || unit.StatusCode == System.Net.HttpStatusCode.Conflict, await unit.Content.ReadAsStringAsync());
    }

    static string WithExternalId(string json, string externalId)
    {
        var node = JsonNode.Parse(json)!.AsObject();
        node["externalId"] = externalId;
        return node.ToJsonString();
    }

    // ---------- what to send ----------

    Probe Next(Run run, int seed, int i)
    {
        var m = run.M;
        var probe = m.Next(100) switch
        {
            < 22 => PostActivity(run, seed),
            < 30 => Batch(run, seed),
            < 40 => Correct(run),
            < 45 => Retract(run),
            < 50 => ReadOne(run),
            < 57 => List(run),
            < 70 => Statistics(run),
            < 78 => Report(run),
            < 83 => Feed(run),
            < 94 => Units(run),
            < 97 => Import(run, seed),
            _ => AdminCall(run),
        };
        // Now and then: odd headers, another key, another content type.
        if (m.Chance(0.08)) probe.Headers.Add(("X-Correlation-Id", m.Pick(new[] { "", new string('c', 201), "abc\u0001", "ab\u00e9", "§NUL§" }).Replace("§NUL§", "a\0b")));
        if (m.Chance(0.04)) probe = probe with { Key = m.Pick<string?>([null, "not-a-key", ApiKeyOptions.DevAnalystKey, ApiFactory.ScopedReporterKey, ApiKeyOptions.DevAdminKey]) };
        if (probe.Url.Split('?')[0].Contains("%00", StringComparison.Ordinal))
            probe = probe with { Url = probe.Url.Split('?')[0].Replace("%00", "%01", StringComparison.Ordinal) + probe.Url[probe.Url.Split('?')[0].Length..] };
        if (probe.Body is not null && m.Chance(0.04))
            probe = probe with { ContentType = m.Pick<string?>([null, "text/plain", "application/json; charset=latin1", "application/x-www-form-urlencoded", "application/merge-patch+json", "application/json; charset=utf-16"]) };
        return probe with { Name = $"#{i} {probe.Name}" };
    }

    Probe PostActivity(Run run, int seed)
    {
        var m = run.M;
        var kind = m.Pick(ActivityExamples.ByKind.Keys.ToArray());
        var node = JsonNode.Parse(ActivityExamples.ByKind[kind])!;
        node["externalId"] = m.Chance(0.8) ? $"fuzz-{seed}-{run.Serial++}" : $"fuzz-{seed}-base-{kind}";
        if (m.Chance(0.15)) Extremes(m, node, kind, $"fuzz-{seed}-x{run.Serial++}-");
        else if (m.Chance(0.9)) m.Mutate(node);
        return new Probe("post", HttpMethod.Post, "/api/v1/activities", ApiKeyOptions.DevReporterKey, Effect.ActivityWrite)
            { Body = Mutations.ToBytes(m.ToJson(node)) };
    }

    /// <summary>Valid, but at the limits: every metric at its maximum, texts at their longest (in NFD, twice as many
    /// chars before normalization), the earliest date, 50 markers, a 200-character externalId. What is accepted
    /// must be stored, projected and read back like anything else.</summary>
    static void Extremes(Mutations m, JsonNode node, string kindName, string externalIdPrefix)
    {
        var kind = KindCatalog.Get(kindName);
        var details = node["details"]?.AsObject() ?? new JsonObject();
        foreach (var metric in kind.Metrics)
        {
            if (!m.Chance(0.7)) continue;
            details[metric.Name] = metric.Type switch
            {
                MetricType.Count => JsonValue.Create(KindCatalog.MaxCount),
                MetricType.Vnd => JsonValue.Create(KindCatalog.MaxVnd),
                _ => JsonNode.Parse(m.Pick(new[] { "999999.999", "1000000", "0.001", "1e6", "0" })),
            };
        }
        foreach (var text in kind.TextFields)
            if (m.Chance(0.7)) details[text] = new string('ạ', KindCatalog.MaxTextLength).Normalize(System.Text.NormalizationForm.FormD);
        node["details"] = details;
        if (m.Chance(0.5)) node["summary"] = string.Concat(Enumerable.Repeat("Tuần tra ", 444)).Normalize(System.Text.NormalizationForm.FormD) + "ạạạ  ";
        if (m.Chance(0.3)) node["externalId"] = (externalIdPrefix + new string('x', 200))[..200];
        if (m.Chance(0.3)) { node["occurredOn"] = m.Pick(new[] { "1900-01-01", "2000-02-29", "1999-12-31" }); node["endsOn"] = node["occurredOn"]!.DeepClone(); }
        if (m.Chance(0.3))
            node["location"] = new JsonObject
            {
                ["placeName"] = "Mốc " + new string('9', 496),
                ["markers"] = new JsonArray(Enumerable.Range(0, 50).Select(i => (JsonNode?)JsonValue.Create(i % 2 == 0 ? new string('7', 50) : $"{i}({i})")).ToArray()),
            };
    }

    Probe Batch(Run run, int seed)
    {
        var m = run.M;
        var items = new JsonArray();
        for (var i = 0; i < 1 + m.Next(5); i++)
        {
            var kind = m.Pick(ActivityExamples.ByKind.Keys.ToArray());
            var node = JsonNode.Parse(ActivityExamples.ByKind[kind])!;
            node["externalId"] = m.Chance(0.85) ? $"fuzz-{seed}-{run.Serial++}" : $"fuzz-{seed}-base-{kind}";
            if (m.Chance(0.6)) m.Mutate(node);
            items.Add(node);
        }
        JsonNode envelope = new JsonObject { ["activities"] = items };
        if (m.Chance(0.15)) m.Mutate(envelope);
        if (m.Chance(0.03)) envelope = new JsonObject { ["activities"] = new JsonArray(Enumerable.Range(0, 1_001).Select(_ => (JsonNode?)new JsonObject()).ToArray()) };
        if (m.Chance(0.03)) envelope = m.Pick<JsonNode?>([new JsonArray(), JsonValue.Create("activities"), new JsonObject { ["activities"] = null }, new JsonObject()]) ?? new JsonObject();
        return new Probe("batch", HttpMethod.Post, "/api/v1/activities/batch", ApiKeyOptions.DevReporterKey, Effect.Batch)
            { Body = Mutations.ToBytes(m.ToJson(envelope)) };
    }

    /// <summary>An NDJSON import of a few (often mutated) activities, odd lines and line endings now and then.</summary>
    Probe Import(Run run, int seed)
    {
        var m = run.M;
        var lines = new List<string>();
        for (var i = 0; i < 1 + m.Next(4); i++)
        {
            var kind = m.Pick(ActivityExamples.ByKind.Keys.ToArray());
            var node = JsonNode.Parse(ActivityExamples.ByKind[kind])!;
            node["externalId"] = m.Chance(0.85) ? $"fuzz-{seed}-{run.Serial++}" : $"fuzz-{seed}-base-{kind}";
            if (m.Chance(0.6)) m.Mutate(node);
            lines.Add(m.ToJson(node));
        }
        if (m.Chance(0.15)) lines.Insert(m.Next(lines.Count + 1), m.Pick(new[] { "", "  ", "null", "[]", "{", "\u0000", "\ufeff{}", "{\"externalId\":1}" }));
        var body = string.Join(m.Chance(0.2) ? "\r\n" : "\n", lines) + (m.Chance(0.5) ? "\n" : "");
        if (m.Chance(0.03)) body = m.Pick(new[] { "", "\n\n", " " });
        return new Probe("import", HttpMethod.Post, "/api/v1/imports", ApiKeyOptions.DevReporterKey, Effect.Import)
        {
            Body = Mutations.ToBytes(body),
            ContentType = m.Pick(new[] { "application/x-ndjson", "application/jsonl", "application/x-ndjson; charset=utf-8" }),
        };
    }

    Probe Correct(Run run)
    {
        var m = run.M;
        var (id, _, body) = m.Pick(run.Activities);
        var node = JsonNode.Parse(body)!;
        if (m.Chance(0.85)) m.Mutate(node);
        var target = m.Chance(0.9) ? id.ToString() : m.Pick(new[] { m.NewGuid().ToString(), "not-a-guid", "00000000-0000-0000-0000-000000000000", "%00", new string('a', 5_000) });
        var probe = new Probe("correct", HttpMethod.Put, $"/api/v1/activities/{target}", ApiKeyOptions.DevReporterKey, Effect.ActivityWrite)
            { Body = Mutations.ToBytes(m.ToJson(node)) };
        probe.Headers.Add(("If-Match", IfMatch(m)));
        if (m.Chance(0.05)) probe.Headers.Add(("If-Match", IfMatch(m)));
        return probe;
    }

    /// <summary>"current" is replaced by the activity's ETag just before sending.</summary>
    static string IfMatch(Mutations m) => m.Pick(new[]
    {
        "current", "current", "current", "current", "\"1\"", "\"0\"", "\"-1\"", "\"99999999999\"", "\"2147483647\"", "*", "W/\"1\"", "W/current",
        "\"1\", \"2\"", "1", "\"\"", "\"", "\" 1\"", "\"1.0\"", "\"1e0\"", "\"０\"", "soon", "", "\"a\0b\"",
    });

    Probe Retract(Run run)
    {
        var m = run.M;
        var target = m.Next(4) switch
        {
            0 or 1 when run.Throwaway.Count > 0 => run.Throwaway[^1].ToString(),
            0 or 1 => "new",
            2 => m.NewGuid().ToString(),
            _ => m.Pick(new[] { "not-a-guid", "00000000-0000-0000-0000-000000000000", "new" }),
        };
        JsonNode body = new JsonObject { ["reason"] = "Ghi trùng với sổ tuần tra" };
        if (m.Chance(0.85)) m.Mutate(body);
        var probe = new Probe("retract", HttpMethod.Delete, $"/api/v1/activities/{target}", ApiKeyOptions.DevReporterKey, Effect.ActivityWrite)
            { Body = m.Chance(0.05) ? null : Mutations.ToBytes(m.ToJson(body)) };
        if (m.Chance(0.2)) probe.Headers.Add(("If-Match", IfMatch(m)));
        return probe;
    }

    Probe ReadOne(Run run)
    {
        var m = run.M;
        var id = m.Chance(0.6) ? m.Pick(run.Activities).Id.ToString()
            : m.Pick(new[] { m.NewGuid().ToString(), "not-a-guid", "%00", "%FF", "{" + m.NewGuid() + "}", m.NewGuid().ToString("N"), new string('9', 3_000) });
        var path = m.Chance(0.5) ? $"/api/v1/activities/{id}" : $"/api/v1/activities/{id}/history";
        return new Probe("read", HttpMethod.Get, path + (m.Chance(0.1) ? m.Query([], new Dictionary<string, string[]> { ["zzz"] = ["1"] }) : ""),
            ApiKeyOptions.DevAnalystKey, Effect.Read);
    }

    static readonly Dictionary<string, string[]> ListParams = new()
    {
        ["unitId"] = ["phong-tho", "lai-chau", "don-ma-lu-thang", "nowhere"],
        ["kind"] = KindCatalog.All.Select(k => k.Name).ToArray(),
        ["from"] = Mutations.Dates,
        ["to"] = Mutations.Dates,
        ["limit"] = ["1", "2", "50", "500", "501", "0"],
        ["cursor"] = Cursors(),
    };

    static string[] Cursors()
    {
        static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));
        var id = Guid.Empty;
        return
        [
            B64($"0001-01-01|{id}"), B64($"9999-12-31|{id}"), B64($"2024-02-30|{id}"), B64("2024-01-01"), B64($"2024-01-01|{id}|x"),
            B64($"10000-01-01|{id}"), B64("\0|\0"), "====", "a", "nonsense", "%00", new string('A', 4_000), B64($"2024-01-01|{id}").TrimEnd('='),
            B64($"2024-01-01|{id}").Replace('+', '-'),
        ];
    }

    Probe List(Run run) =>
        new("list", HttpMethod.Get, "/api/v1/activities" + run.M.Query(
            [("unitId", "phong-tho"), ("kind", "outreach"), ("from", "2022-01-01"), ("to", "2024-12-31"), ("limit", "2")], ListParams),
            ApiKeyOptions.DevAnalystKey, Effect.Read);

    static readonly Dictionary<string, string[]> StatisticsParams = new()
    {
        ["from"] = Mutations.Dates,
        ["to"] = Mutations.Dates,
        ["unitId"] = ["phong-tho", "lai-chau", "don-ma-lu-thang", "huoi-luong", "nowhere"],
        ["kind"] = KindCatalog.All.Select(k => k.Name).ToArray(),
        ["groupBy"] = ["kind", "unit", "year", "quarter", "month", "mode", "format", "level", "category", "outcome", "day"],
        ["category"] = ["drugs", "smuggling", "other", "nope"],
        ["mode"] = ["joint", "independent"],
        ["level"] = ["province", "post"],
        ["hazard"] = ["flood"],
    };

    Probe Statistics(Run run)
    {
        var m = run.M;
        var (from, to) = m.Chance(0.5)
            ? ("2019-01-01", "2024-06-30")
            : (m.Pick(new[] { "0001-01-01", "0001-01-02", "9999-12-30", "9999-12-01", "1900-01-01" }), m.Pick(new[] { "9999-12-31", "9999-12-30", "0001-01-31", "0001-01-01", "2024-12-31" }));
        var groupBy = m.Pick(new[] { "kind,year", "month", "quarter", "year", "unit,kind", "kind", "mode,level" });
        var probe = new Probe("statistics", HttpMethod.Get, "/api/v1/statistics" + m.Query(
            [("from", from), ("to", to), ("unitId", "phong-tho"), ("kind", "patrol,crime-bust"), ("groupBy", groupBy), ("category", "drugs")], StatisticsParams),
            ApiKeyOptions.DevAnalystKey, Effect.Read);
        if (m.Chance(0.4)) probe.Headers.Add(("Accept", m.Pick(new[] { "text/csv", "text/csv; charset=utf-8", "application/json", "text/csv;q=0.1, */*", "*/*", "text/markdown", "x/\u00ff" })));
        return probe;
    }

    Probe Report(Run run)
    {
        var m = run.M;
        var (from, to) = m.Chance(0.5)
            ? ("2019-01-01", "2024-06-30")
            : (m.Pick(new[] { "0001-01-01", "9999-12-31", "1900-01-01", "2024-02-29" }), m.Pick(new[] { "9999-12-31", "0001-01-01", "2024-12-31" }));
        return new Probe("report", HttpMethod.Get, "/api/v1/reports/review" + m.Query(
            [("unitId", "phong-tho"), ("from", from), ("to", to), ("format", m.Chance(0.5) ? "markdown" : "json")],
            new Dictionary<string, string[]>
            {
                ["unitId"] = ["phong-tho", "lai-chau", "nowhere"], ["from"] = Mutations.Dates, ["to"] = Mutations.Dates,
                ["format"] = ["markdown", "json", "csv", "Markdown", "MARKDOWN", ""],
            }), ApiKeyOptions.DevAnalystKey, Effect.Read);
    }

    Probe Feed(Run run) =>
        new("feed", HttpMethod.Get, "/api/v1/feed" + run.M.Query([("limit", "5")], new Dictionary<string, string[]>
        {
            ["after"] = ["0-0", "1-1", "-1-0", "1-", "-", "99999999999999999999-1", "9223372036854775807-9223372036854775807", "1-2-3", "abc", " 1-1", "0x1-0x1", "1-1%00"],
            ["limit"] = ["1", "100", "1000", "1001", "0", "-5"],
        }), ApiKeyOptions.DevAnalystKey, Effect.Read);

    Probe Units(Run run)
    {
        var m = run.M;
        switch (m.Next(5))
        {
            case 0:
                return new Probe("units tree", HttpMethod.Get, "/api/v1/units" + (m.Chance(0.7) ? $"?name={m.QueryValue(["đồn", "Phong Thổ", "xã"])}" : ""),
                    ApiKeyOptions.DevAnalystKey, Effect.Read);
            case 1:
                return new Probe("unit", HttpMethod.Get, "/api/v1/units/" + (m.Chance(0.4) ? "phong-tho" : m.QueryValue(["phong-tho", "PHONG-THO", run.UnitId])),
                    ApiKeyOptions.DevAnalystKey, Effect.Read);
            case 2:
            case 3:
            {
                JsonNode body = new JsonObject { ["unitId"] = $"xa-fuzz-{run.Serial++}", ["name"] = "Xã thử nghiệm", ["type"] = "commune", ["parentId"] = "phong-tho" };
                if (m.Chance(0.9)) m.Mutate(body);
                return new Probe("create unit", HttpMethod.Post, "/api/v1/units", ApiKeyOptions.DevAdminKey, Effect.UnitWrite)
                    { Body = Mutations.ToBytes(m.ToJson(body)) };
            }
            default:
            {
                JsonNode body = new JsonObject { ["unitId"] = run.UnitId, ["name"] = "Đồn Biên phòng thử " + m.Next(1000), ["type"] = "border-post", ["parentId"] = "phong-tho" };
                if (m.Chance(0.9)) m.Mutate(body);
                var target = m.Chance(0.85) ? run.UnitId : m.Pick(new[] { "phong-tho", "nowhere", "%00", "A", new string('a', 65) });
                return new Probe("update unit", HttpMethod.Put, $"/api/v1/units/{target}", ApiKeyOptions.DevAdminKey, Effect.UnitWrite)
                    { Body = Mutations.ToBytes(m.ToJson(body)) };
            }
        }
    }

    Probe AdminCall(Run run)
    {
        var m = run.M;
        return m.Next(9) switch
        {
            7 => KeyCall(run),
            8 => new Probe("audit", HttpMethod.Get, "/api/v1/admin/audit" + m.Query([("limit", "5")], new Dictionary<string, string[]>
                { ["subjectType"] = ["key", "unit", "KEY", ""], ["subjectId"] = ["phong-tho", "key-0"], ["before"] = ["1", "x", "-1"], ["limit"] = ["0", "1001", "x"] }),
                ApiKeyOptions.DevAdminKey, Effect.Read),
            6 => new Probe("health and swagger", HttpMethod.Get, m.Pick(new[] { "/health/live", "/health/ready", "/swagger/v1/swagger.json", "/swagger/index.html", "/api/v1", "/api/v1/activities/batch", $"/api/v1/imports/{m.NewGuid()}", "/api/v1/imports/not-a-guid" })
                + m.Query([], new Dictionary<string, string[]> { ["zzz"] = ["1"] }), m.Pick<string?>([null, ApiKeyOptions.DevAdminKey]), Effect.Read),
            0 or 1 => new Probe("projections", HttpMethod.Get, "/api/v1/admin/projections" + m.Query([], new Dictionary<string, string[]> { ["zzz"] = ["1"] }),
                ApiKeyOptions.DevAdminKey, Effect.Read),
            2 => new Probe("verify", HttpMethod.Get, "/api/v1/admin/verify", ApiKeyOptions.DevAdminKey, Effect.Read),
            // Mostly projections that do not exist; now and then the real one (it rebuilds beside the served figures).
            _ => new Probe("rebuild", HttpMethod.Post, $"/api/v1/admin/projections/{(m.Chance(0.1) ? "statistics" : m.QueryValue(["statistic", "STATISTICS", "x", ".."]))}/rebuild",
                ApiKeyOptions.DevAdminKey, Effect.Read),
        };
    }

    /// <summary>The admin's key endpoints: mostly mutated new keys; reads; rotations and revocations of keys that do not exist.</summary>
    Probe KeyCall(Run run)
    {
        var m = run.M;
        switch (m.Next(4))
        {
            case 0:
            case 1:
            {
                JsonNode body = new JsonObject { ["client"] = $"fuzz-client-{run.Serial++}", ["role"] = "reporter", ["scope"] = new JsonArray("phong-tho") };
                if (m.Chance(0.9)) m.Mutate(body);
                return new Probe("create key", HttpMethod.Post, "/api/v1/admin/keys", ApiKeyOptions.DevAdminKey, Effect.Read) { Body = Mutations.ToBytes(m.ToJson(body)) };
            }
            case 2:
                return new Probe("keys", HttpMethod.Get, "/api/v1/admin/keys", ApiKeyOptions.DevAdminKey, Effect.Read);
            default:
            {
                var target = m.Pick(new[] { "key-0000000000000000", "nowhere", "%00", "A", new string('a', 300) });
                return m.Chance(0.5)
                    ? new Probe("rotate key", HttpMethod.Post, $"/api/v1/admin/keys/{target}/rotate", ApiKeyOptions.DevAdminKey, Effect.Read)
                    : new Probe("revoke key", HttpMethod.Delete, $"/api/v1/admin/keys/{target}", ApiKeyOptions.DevAdminKey, Effect.Read);
            }
        }
    }

    // ---------- sending and checking ----------

    async Task SendAndCheckAsync(Run run, Probe probe)
    {
        using var client = api.Client(probe.Key);
        probe = await ResolveAsync(run, probe, client);
        var eventsBefore = probe.Effect is Effect.Read ? 0 : await api.EventCountAsync();
        var unitsBefore = probe.Effect is Effect.UnitWrite ? await UnitTreeAsync() : null;

        using var request = new HttpRequestMessage(probe.Method, probe.Url);
        if (probe.Body is not null)
        {
            request.Content = new ByteArrayContent(probe.Body);
            if (probe.ContentType is not null) request.Content.Headers.TryAddWithoutValidation("Content-Type", probe.ContentType);
        }
        foreach (var (name, value) in probe.Headers) request.Headers.TryAddWithoutValidation(name, value);

        var watch = Stopwatch.StartNew();
        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            run.Failures.Add($"{probe.Describe()}\n  → threw {e.GetType().Name}: {e.Message}");
            return;
        }
        using var _ = response;
        var status = (int)response.StatusCode;
        var text = await response.Content.ReadAsStringAsync();
        run.Slowest.Add((watch.Elapsed.TotalMilliseconds, $"{status} {probe.Name} {Printable(probe.Url, 200)}"));
        if (run.Slowest.Count > 20) run.Slowest.Remove(run.Slowest.MinBy(s => s.Ms));
        run.Statuses[status] = run.Statuses.GetValueOrDefault(status) + 1;

        void Fail(string why) => run.Failures.Add($"{probe.Describe()}\n  → {status} {why}: {Printable(text, 1_000)}");

        if (status is < 200 or >= 500 or (>= 300 and < 400))
        {
            Fail("not a 2xx or 4xx");
            return;
        }
        if (status >= 400)
        {
            if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
                Fail($"a 4xx that is not a problem document ({response.Content.Headers.ContentType?.MediaType ?? "no content type"})");
            else if (!IsProblem(text, status))
                Fail("a problem document without its status");
        }

        switch (probe.Effect)
        {
            case Effect.ActivityWrite when status >= 400:
                var after = await api.EventCountAsync();
                if (after != eventsBefore) Fail($"rejected, yet {after - eventsBefore} event(s) stored");
                break;
            case Effect.Batch:
                var added = await api.EventCountAsync() - eventsBefore;
                var created = status == 200 ? CountCreated(text) : 0;
                if (added != created) Fail($"{created} item(s) created, but {added} event(s) stored");
                break;
            case Effect.Import when status == 202:
                await CheckImportAsync(response.Headers.Location, eventsBefore, Fail);
                break;
            case Effect.Import:
                var stored = await api.EventCountAsync() - eventsBefore;
                if (stored != 0) Fail($"refused, yet {stored} event(s) stored");
                break;
            case Effect.UnitWrite when status >= 400:
                if (await UnitTreeAsync() != unitsBefore) Fail("rejected, yet the unit tree changed");
                break;
        }
        if (status is 200 or 201 && probe.Method == HttpMethod.Post && probe.Url == "/api/v1/activities" && TryActivityId(text) is { } id
            && run.Throwaway.Count < 200)
            run.Throwaway.Add(id);
    }

    /// <summary>Fills in what depends on the server's state: the current ETag, a fresh activity to retract.</summary>
    async Task<Probe> ResolveAsync(Run run, Probe probe, HttpClient client)
    {
        if (probe.Url.EndsWith("/new", StringComparison.Ordinal))
        {
            using var reporter = api.Reporter;
            var body = WithExternalId(ActivityExamples.ByKind["border-day"], $"fuzz-throwaway-{run.Seed}-{run.Serial++}");
            var created = await reporter.PostJsonAsync("/api/v1/activities", body);
            var id = (await created.JsonAsync()).GetProperty("activityId").GetGuid();
            run.Throwaway.Add(id);
            probe = probe with { Url = probe.Url[..^3] + id };
        }
        var ifMatch = probe.Headers.FindIndex(h => h.Name == "If-Match" && h.Value.Contains("current", StringComparison.Ordinal));
        if (ifMatch >= 0)
        {
            using var reader = api.Admin;
            var current = await reader.GetAsync(probe.Url);
            var etag = current.Headers.ETag?.Tag ?? "\"1\"";
            probe.Headers[ifMatch] = ("If-Match", probe.Headers[ifMatch].Value.Replace("current", etag, StringComparison.Ordinal));
        }
        _ = client;
        return probe;
    }

    async Task<string> UnitTreeAsync()
    {
        using var admin = api.Admin;
        return await admin.GetStringAsync("/api/v1/units");
    }

    static bool IsProblem(string text, int status)
    {
        try
        {
            var problem = JsonSerializer.Deserialize<JsonElement>(text);
            return problem.ValueKind == JsonValueKind.Object && problem.TryGetProperty("status", out var s) && s.GetInt32() == status;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>An accepted import is waited for: it completes (never fails), every line is counted once, and exactly the
    /// created lines became events.</summary>
    async Task CheckImportAsync(Uri? location, long eventsBefore, Action<string> fail)
    {
        if (location is null) { fail("a 202 without Location"); return; }
        using var admin = api.Admin;
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var state = await admin.GetFromJsonAsync<JsonElement>(location);
            var status = state.GetProperty("status").GetString();
            if (status == "failed") { fail($"the import failed: {state}"); return; }
            if (status == "completed")
            {
                var counts = state.GetProperty("counts");
                var created = counts.GetProperty("created").GetInt32();
                var total = created + counts.GetProperty("duplicate").GetInt32() + counts.GetProperty("invalid").GetInt32() + counts.GetProperty("conflict").GetInt32();
                if (total != state.GetProperty("lines").GetInt32()) fail($"{total} line(s) counted of {state.GetProperty("lines").GetInt32()}: {state}");
                var added = await api.EventCountAsync() - eventsBefore;
                if (added != created) fail($"{created} line(s) created, but {added} event(s) stored: {state}");
                return;
            }
            if (watch.Elapsed > TimeSpan.FromSeconds(60)) { fail($"the import did not complete: {state}"); return; }
            await Task.Delay(20);
        }
    }

    static int CountCreated(string text) =>
        JsonSerializer.Deserialize<JsonElement>(text).GetProperty("results").EnumerateArray()
            .Count(r => r.GetProperty("status").GetString() == "created");

    static Guid? TryActivityId(string text)
    {
        try
        {
            return JsonSerializer.Deserialize<JsonElement>(text).TryGetProperty("activityId", out var id) ? id.GetGuid() : null;
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            return null;
        }
    }

}
