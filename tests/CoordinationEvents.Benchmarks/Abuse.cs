using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using CoordinationEvents.Api.Activities;

namespace CoordinationEvents.Benchmarks;

/// <summary>
/// <c>make bench-abuse</c> (<c>--abuse</c>, issue 21.7): the loads of a careless client, each beside an ordinary client
/// that posts one activity and asks one small statistics query 5 times a second. Per load it prints the ordinary
/// client's p50/p99, the heavy requests' times and answers, the service's peak RSS during the load and its RSS a
/// while after (<c>--settle N</c> seconds; 60 in a full run). Figures, not assertions.
/// <list type="number">
/// <item>the widest legal statistics query (all units, 200 years by month, grouped by unit and two dimensions,
/// narrowed until the service accepts it), eight at once, repeatedly;</item>
/// <item>50 feed readers, each reading the whole feed by pages of 1,000, again and again;</item>
/// <item>an import over the line limit (1,000,001 tiny lines, 3 MB);</item>
/// <item>one activity corrected 2,000 times, then its history read whole and by pages.</item>
/// </list>
/// </summary>
public static class AbuseBench
{
    public sealed record LoadFigures(string Name, Latencies OrdinaryPosts, Latencies OrdinaryQueries, int OrdinaryFailures, string? OrdinaryFirstError,
        IReadOnlyList<string> Heavy, long? PeakRssBytes, long? RssBeforeBytes, long? RssAfterSettleBytes, double Seconds);

    public sealed record AbuseResults(int Activities, double SettleSeconds, long? IdleRssBytes, IReadOnlyList<LoadFigures> Loads, IReadOnlyDictionary<string, string> ServiceEnvironment, string Verify);

    public static async Task<AbuseResults> RunAsync(BenchServer server, BenchOptions options, string scratch, Results results)
    {
        var activities = options.Quick ? 5_000 : 20_000;
        var duration = options.Quick ? TimeSpan.FromSeconds(10) : TimeSpan.FromSeconds(30);
        var settle = options.SettleSeconds ?? (options.Quick ? 10 : 60);
        var environment = options.ServiceEnvironment;
        var db = await server.CreateDatabaseAsync("bench_abuse");
        await using var service = await ServiceProcess.StartAsync(db, "abuse", scratch, environment);
        Log.Line($"abuse: service pid {service.Pid} at {service.BaseAddress}" + (environment.Count > 0 ? $" with {string.Join(' ', environment.Select(e => $"{e.Key}={e.Value}"))}" : ""));

        var factory = new ActivityFactory(BenchUnits.Seed);
        var bodies = new BodyPool(factory, 2_000);
        Log.Line($"abuse: recording {activities:N0} activities in batches of 1,000");
        for (var start = 0; start < activities; start += 1_000)
        {
            var json = new StringBuilder("{\"activities\":[");
            for (var i = start; i < Math.Min(activities, start + 1_000); i++)
                json.Append(i > start ? "," : "").Append(bodies.Body(i, $"abuse-seed-{i}"));
            json.Append("]}");
            using var response = await service.Reporter.PostAsync("api/v1/activities/batch", new StringContent(json.ToString(), Encoding.UTF8, "application/json"));
            if (response.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"abuse seed batch: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
        await WaitForProjectionAsync(service);
        // Quiet: the ordinary client alone.
        await Task.Delay(TimeSpan.FromSeconds(settle / 2.0));
        var idle = Machine.RssBytes(service.Pid);
        Log.Line($"abuse: idle RSS {Mib(idle)}");

        (string Key, string Name, Func<CancellationToken, Task<List<string>>> Load)[] all =
        [
            ("quiet", "quiet (the ordinary client alone)", async ct => { await Task.Delay(duration, ct); return []; }),
            ("statistics", "widest legal statistics query, 8 at once", ct => WideStatisticsAsync(service, duration, ct)),
            ("feed", "50 feed readers", ct => FeedReadersAsync(service, duration, ct)),
            ("import", "an import over the line limit (1,000,001 lines)", ct => OverLimitImportAsync(service, ct)),
            ("history", "2,000 corrections of one activity, then its history", ct => LongHistoryAsync(service, bodies, ct)),
        ];
        var loads = new List<LoadFigures>();
        foreach (var (key, name, load) in all)
            if (options.AbuseLoads is null || options.AbuseLoads.Contains(key))
                loads.Add(await MeasureAsync(service, bodies, name, settle, load));
        string verify;
        try
        {
            var check = await Verification.RunAsync(service, "after the abuse loads", results);
            verify = $"verify after the loads: {check.DifferenceCount} differences ({check.EventsChecked:N0} events)";
        }
        catch (InvalidOperationException e)
        {
            verify = $"verify after the loads failed: {Short(e.Message)}";
            Log.Line(verify);
        }
        return new AbuseResults(activities, settle, idle, loads, environment, verify);
    }

    static string Mib(long? bytes) => bytes is { } b ? $"{b / 1024 / 1024} MiB" : "n/a";

    static async Task WaitForProjectionAsync(ServiceProcess service)
    {
        var deadline = DateTime.UtcNow.AddMinutes(5);
        while (DateTime.UtcNow < deadline)
        {
            using var response = await service.Admin.GetAsync("health/ready");
            if (response.StatusCode == HttpStatusCode.OK && !(await response.Content.ReadAsStringAsync()).Contains("Degraded")) return;
            await Task.Delay(500);
        }
    }

    /// <summary>One load beside the ordinary client; the service's peak RSS from its start, its RSS <paramref name="settle"/> s after.</summary>
    static async Task<LoadFigures> MeasureAsync(ServiceProcess service, BodyPool bodies, string name, double settle, Func<CancellationToken, Task<List<string>>> load)
    {
        Log.Line($"abuse: {name}");
        var before = Machine.RssBytes(service.Pid);
        Machine.ResetPeakRss(service.Pid);
        using var stop = new CancellationTokenSource();
        var ordinary = OrdinaryClientAsync(service, bodies, name, stop.Token);
        var watch = Stopwatch.StartNew();
        List<string> heavy;
        try { heavy = await load(stop.Token); }
        catch (Exception e) { heavy = [$"the load failed: {e.GetType().Name}: {e.Message}"]; }
        var seconds = watch.Elapsed.TotalSeconds;
        await stop.CancelAsync();
        var (posts, queries, failures, firstError) = await ordinary;
        var peak = service.PeakRssBytes;
        await Task.Delay(TimeSpan.FromSeconds(settle));
        var after = Machine.RssBytes(service.Pid);
        var figures = new LoadFigures(name, posts, queries, failures, firstError, heavy, peak, before, after, seconds);
        Log.Line($"  ordinary POST p50 {Format.Ms(posts.P50)} p99 {Format.Ms(posts.P99)}; query p50 {Format.Ms(queries.P50)} p99 {Format.Ms(queries.P99)}; "
            + $"{failures} failed; peak RSS {Mib(peak)}, {settle:0} s later {Mib(after)}");
        foreach (var line in heavy) Log.Line($"  {line}");
        return figures;
    }

    /// <summary>Every 200 ms: one POST of a new activity, then one small statistics query (a district's patrols by year).</summary>
    static async Task<(Latencies Posts, Latencies Queries, int Failures, string? FirstError)> OrdinaryClientAsync(ServiceProcess service, BodyPool bodies, string load, CancellationToken ct)
    {
        var posts = new List<double>();
        var queries = new List<double>();
        var failures = 0;
        string? firstError = null;
        var run = $"ordinary-{Math.Abs(load.GetHashCode()):x}-{DateTime.UtcNow:HHmmssfff}";
        var tick = Stopwatch.StartNew();
        for (var i = 0; !ct.IsCancellationRequested; i++)
        {
            var watch = Stopwatch.StartNew();
            try
            {
                using (var response = await service.Reporter.PostAsync("api/v1/activities",
                           new StringContent(bodies.Body(i * 13, $"{run}-{i}"), Encoding.UTF8, "application/json"), CancellationToken.None))
                {
                    posts.Add(watch.Elapsed.TotalMilliseconds);
                    if (response.StatusCode != HttpStatusCode.Created) { failures++; firstError ??= $"POST {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}"; }
                }
                watch.Restart();
                using (var response = await service.Analyst.GetAsync("api/v1/statistics?from=2019-01-01&to=2024-12-31&kind=patrol&groupBy=year", CancellationToken.None))
                {
                    queries.Add(watch.Elapsed.TotalMilliseconds);
                    if (response.StatusCode != HttpStatusCode.OK) { failures++; firstError ??= $"GET statistics {(int)response.StatusCode}: {Short(await response.Content.ReadAsStringAsync())}"; }
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                failures++;
                firstError ??= e.Message;
            }
            var next = TimeSpan.FromMilliseconds(200 * (i + 1)) - tick.Elapsed;
            if (next > TimeSpan.Zero)
                try { await Task.Delay(next, ct); }
                catch (OperationCanceledException) { break; }
        }
        return (new Latencies(posts), new Latencies(queries), failures, firstError);
    }

    static string Short(string text) => text.Length > 300 ? text[..300] + "…" : text;

    static string Statuses(IEnumerable<int> statuses) =>
        string.Join(", ", statuses.GroupBy(s => s).OrderBy(g => g.Key).Select(g => $"{g.Count()}× {g.Key}"));

    /// <summary>
    /// The query of issue 21 (all units, 200 years by month, grouped by unit and two dimensions), answered once; then
    /// the widest of a few narrower ones that the service accepts, eight at once for the load's duration.
    /// </summary>
    static async Task<List<string>> WideStatisticsAsync(ServiceProcess service, TimeSpan duration, CancellationToken ct)
    {
        var dimensions = KindCatalog.DimensionNames.Take(2).ToArray();
        var period = "from=1900-01-01&to=2099-12-31";
        string[] candidates =
        [
            $"api/v1/statistics?{period}&groupBy=unit,month,{string.Join(',', dimensions)}",
            $"api/v1/statistics?{period}&groupBy=unit,month,{dimensions[0]}",
            $"api/v1/statistics?{period}&groupBy=unit,month",
            $"api/v1/statistics?{period}&groupBy=unit,year,{string.Join(',', dimensions)}",
            $"api/v1/statistics?{period}&groupBy=unit,year",
        ];
        var lines = new List<string>();
        string? chosen = null;
        foreach (var candidate in candidates)
        {
            var watch = Stopwatch.StartNew();
            using var response = await service.Analyst.GetAsync(candidate, CancellationToken.None);
            var body = await response.Content.ReadAsByteArrayAsync(CancellationToken.None);
            var answer = response.StatusCode == HttpStatusCode.OK ? $"{Rows(body):N0} rows, {body.Length / 1024.0 / 1024:0.00} MB" : Short(ProblemDetail(body));
            lines.Add($"{candidate["api/v1/statistics?".Length..]}: {(int)response.StatusCode} in {Format.Ms(watch.Elapsed.TotalMilliseconds)}: {answer}");
            if (response.StatusCode == HttpStatusCode.OK) { chosen = candidate; break; }
        }
        if (chosen is null) return lines;

        var times = new List<double>();
        var statuses = new List<int>();
        var rows = 0;
        var deadline = DateTime.UtcNow + duration;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            while (DateTime.UtcNow < deadline)
            {
                var watch = Stopwatch.StartNew();
                using var response = await service.Analyst.GetAsync(chosen, CancellationToken.None);
                var body = await response.Content.ReadAsByteArrayAsync(CancellationToken.None);
                lock (times)
                {
                    times.Add(watch.Elapsed.TotalMilliseconds);
                    statuses.Add((int)response.StatusCode);
                    if (response.StatusCode == HttpStatusCode.OK) rows = Rows(body);
                }
                if (response.StatusCode == HttpStatusCode.TooManyRequests) await Task.Delay(RetryAfter(response));
            }
        }));
        var all = new Latencies(times);
        lines.Add($"8 at once for {duration.TotalSeconds:0} s: {all.Count} requests ({Statuses(statuses)}), p50 {Format.Ms(all.P50)}, max {Format.Ms(all.Max)}; {rows:N0} rows each");
        return lines;
    }

    static TimeSpan RetryAfter(HttpResponseMessage response) =>
        response.Headers.RetryAfter?.Delta is { } delta && delta > TimeSpan.Zero ? delta : TimeSpan.FromSeconds(1);

    static int Rows(byte[] body)
    {
        using var document = JsonDocument.Parse(body);
        return document.RootElement.TryGetProperty("rows", out var rows) && rows.ValueKind == JsonValueKind.Array ? rows.GetArrayLength() : -1;
    }

    static string ProblemDetail(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.TryGetProperty("errors", out var errors)) return errors.ToString();
            return root.TryGetProperty("detail", out var detail) ? detail.ToString() : root.ToString();
        }
        catch (JsonException) { return Encoding.UTF8.GetString(body); }
    }

    /// <summary>50 readers, each reading the feed from its start by pages of 1,000 to its end, again and again; a 429 waits its Retry-After.</summary>
    static async Task<List<string>> FeedReadersAsync(ServiceProcess service, TimeSpan duration, CancellationToken ct)
    {
        var times = new List<double>();
        var statuses = new List<int>();
        long events = 0;
        var passes = 0;
        var deadline = DateTime.UtcNow + duration;
        await Task.WhenAll(Enumerable.Range(0, 50).Select(async _ =>
        {
            string? after = null;
            while (DateTime.UtcNow < deadline)
            {
                var watch = Stopwatch.StartNew();
                using var response = await service.Analyst.GetAsync("api/v1/feed?limit=1000" + (after is null ? "" : $"&after={after}"), CancellationToken.None);
                var body = await response.Content.ReadAsByteArrayAsync(CancellationToken.None);
                var ms = watch.Elapsed.TotalMilliseconds;
                lock (times) { times.Add(ms); statuses.Add((int)response.StatusCode); }
                if (response.StatusCode == HttpStatusCode.TooManyRequests) { await Task.Delay(RetryAfter(response)); continue; }
                if (response.StatusCode != HttpStatusCode.OK) { await Task.Delay(1_000); continue; }
                using var page = JsonDocument.Parse(body);
                var count = page.RootElement.GetProperty("events").GetArrayLength();
                Interlocked.Add(ref events, count);
                if (count == 0) { after = null; Interlocked.Increment(ref passes); }
                else after = page.RootElement.GetProperty("nextAfter").GetString();
            }
        }));
        var all = new Latencies(times);
        return [$"{all.Count} pages in {duration.TotalSeconds:0} s ({Statuses(statuses)}), p50 {Format.Ms(all.P50)}, p99 {Format.Ms(all.P99)}, max {Format.Ms(all.Max)}; {events:N0} events read, {passes} whole passes"];
    }

    /// <summary>1,000,001 lines of <c>{}</c>: one over the import's limit, 3 MB.</summary>
    static async Task<List<string>> OverLimitImportAsync(ServiceProcess service, CancellationToken ct)
    {
        var body = new byte[3 * 1_000_001];
        for (var i = 0; i < 1_000_001; i++) { body[3 * i] = (byte)'{'; body[3 * i + 1] = (byte)'}'; body[3 * i + 2] = (byte)'\n'; }
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-ndjson");
        var watch = Stopwatch.StartNew();
        using var response = await service.Reporter.PostAsync("api/v1/imports", content, CancellationToken.None);
        var answer = await response.Content.ReadAsByteArrayAsync(CancellationToken.None);
        return [$"POST /api/v1/imports, {body.Length / 1_000_000.0:0.0} MB: {(int)response.StatusCode} after {Format.Ms(watch.Elapsed.TotalMilliseconds)}: {Short(ProblemDetail(answer))}"];
    }

    /// <summary>One activity corrected 2,000 times by one client, as fast as it answers; then its history, whole and by pages of 1,000.</summary>
    static async Task<List<string>> LongHistoryAsync(ServiceProcess service, BodyPool bodies, CancellationToken ct)
    {
        const int corrections = 2_000;
        var externalId = $"abuse-history-{DateTime.UtcNow:HHmmssfff}";
        var template = JsonDocument.Parse(bodies.Body(3, externalId)).RootElement;
        string Body(int n)
        {
            var node = System.Text.Json.Nodes.JsonNode.Parse(template.GetRawText())!.AsObject();
            node["summary"] = $"{node["summary"]} (sửa lần {n})";
            return node.ToJsonString();
        }
        using var created = await service.Reporter.PostAsync("api/v1/activities", new StringContent(Body(0), Encoding.UTF8, "application/json"), CancellationToken.None);
        var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("activityId").GetGuid();
        var times = new double[corrections];
        var statuses = new List<int>();
        for (var n = 1; n <= corrections; n++)
        {
            var request = new HttpRequestMessage(HttpMethod.Put, $"api/v1/activities/{id}") { Content = new StringContent(Body(n), Encoding.UTF8, "application/json") };
            request.Headers.TryAddWithoutValidation("If-Match", $"\"{n}\"");
            var watch = Stopwatch.StartNew();
            using var response = await service.Reporter.SendAsync(request, CancellationToken.None);
            await response.Content.ReadAsByteArrayAsync(CancellationToken.None);
            times[n - 1] = watch.Elapsed.TotalMilliseconds;
            statuses.Add((int)response.StatusCode);
        }
        var first = new Latencies(times.Take(100));
        var last = new Latencies(times.Skip(corrections - 100));
        var lines = new List<string>
        {
            $"{corrections:N0} corrections ({Statuses(statuses)}): the first 100 p50 {Format.Ms(first.P50)} (mean {Format.Ms(first.Samples.Average())}), the last 100 (versions {corrections - 98}–{corrections + 1}) p50 {Format.Ms(last.P50)} (mean {Format.Ms(last.Samples.Average())})",
        };
        {
            var watch = Stopwatch.StartNew();
            using var response = await service.Analyst.GetAsync($"api/v1/activities/{id}/history", CancellationToken.None);
            var body = await response.Content.ReadAsByteArrayAsync(CancellationToken.None);
            var page = JsonDocument.Parse(body).RootElement;
            lines.Add($"GET …/history without paging: {(int)response.StatusCode} in {Format.Ms(watch.Elapsed.TotalMilliseconds)}, {body.Length / 1024.0 / 1024:0.00} MB, "
                + $"{page.GetProperty("events").GetArrayLength():N0} events, nextAfter {(page.TryGetProperty("nextAfter", out var n) ? n.ToString() : "absent")}");
        }
        {
            var watch = Stopwatch.StartNew();
            var pages = 0;
            var events = 0;
            long bytes = 0;
            string? after = null;
            do
            {
                using var response = await service.Analyst.GetAsync($"api/v1/activities/{id}/history?limit=1000" + (after is null ? "" : $"&after={Uri.EscapeDataString(after)}"), CancellationToken.None);
                var body = await response.Content.ReadAsByteArrayAsync(CancellationToken.None);
                if (response.StatusCode != HttpStatusCode.OK) { lines.Add($"GET …/history?limit=1000: {(int)response.StatusCode}: {Short(ProblemDetail(body))}"); break; }
                var page = JsonDocument.Parse(body).RootElement;
                pages++;
                bytes += body.Length;
                events += page.GetProperty("events").GetArrayLength();
                after = page.TryGetProperty("nextAfter", out var next) && next.ValueKind == JsonValueKind.String ? next.GetString() : null;
            } while (after is not null && pages < 10);
            lines.Add($"GET …/history by pages of 1,000: {pages} pages, {events:N0} events, {bytes / 1024.0 / 1024:0.00} MB in {Format.Ms(watch.Elapsed.TotalMilliseconds)}");
        }
        return lines;
    }

    /// <summary>The figures as a Markdown section (RESULTS.md) and as text (stdout).</summary>
    public static string Markdown(AbuseResults results, BenchOptions options, string machine, string postgres)
    {
        var text = new StringBuilder();
        text.AppendLine("## `make bench-abuse`: a careless client beside an ordinary one (issue 21)");
        text.AppendLine();
        text.AppendLine($"Run {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {options.Mode} mode, on {machine}; {postgres}. {results.Activities:N0} activities recorded first;");
        text.AppendLine($"the ordinary client posts one activity and asks one small statistics query every 200 ms. Idle RSS {Mib(results.IdleRssBytes)}; the RSS \"after\" is read {results.SettleSeconds:0} s after each load."
            + (results.ServiceEnvironment.Count > 0 ? $" Service environment: {string.Join(", ", results.ServiceEnvironment.Select(e => $"`{e.Key}={e.Value}`"))}." : ""));
        if (options.Note is { } note) text.AppendLine($"Note: {note}");
        text.AppendLine();
        text.AppendLine("| load | ordinary POST p50 / p99 | ordinary query p50 / p99 | ordinary failures | peak RSS | RSS after |");
        text.AppendLine("| --- | --- | --- | --- | --- | --- |");
        foreach (var load in results.Loads)
            text.AppendLine($"| {load.Name} | {Format.Ms(load.OrdinaryPosts.P50)} / {Format.Ms(load.OrdinaryPosts.P99)} | {Format.Ms(load.OrdinaryQueries.P50)} / {Format.Ms(load.OrdinaryQueries.P99)} "
                + $"| {load.OrdinaryFailures}{(load.OrdinaryFirstError is { } e ? $" ({Short(e).Replace("|", "\\|")})" : "")} | {Mib(load.PeakRssBytes)} | {Mib(load.RssAfterSettleBytes)} |");
        text.AppendLine();
        text.AppendLine(results.Verify + ".");
        text.AppendLine();
        text.AppendLine("The heavy requests:");
        foreach (var load in results.Loads.Where(l => l.Heavy.Count > 0))
        {
            text.AppendLine($"- {load.Name} ({load.Seconds:0} s):");
            foreach (var line in load.Heavy) text.AppendLine($"  - {line.Replace("|", "\\|")}");
        }
        return text.ToString();
    }
}

/// <summary>Sections of RESULTS.md that one kind of run owns, between HTML comments, so that another run keeps them.</summary>
public static class ResultsSections
{
    public const string Abuse = "abuse";

    static (string Start, string End) Marks(string name) => ($"<!-- {name}: begin -->", $"<!-- {name}: end -->");

    /// <summary>The section's content (without its marks), or null.</summary>
    public static string? Find(string text, string name)
    {
        var (start, end) = Marks(name);
        var a = text.IndexOf(start, StringComparison.Ordinal);
        var b = text.IndexOf(end, StringComparison.Ordinal);
        return a < 0 || b < a ? null : text[(a + start.Length)..b].Trim('\n');
    }

    /// <summary>The text with the section replaced, or appended at its end.</summary>
    public static string Replace(string text, string name, string content)
    {
        var (start, end) = Marks(name);
        var block = $"{start}\n{content.TrimEnd('\n')}\n{end}";
        var a = text.IndexOf(start, StringComparison.Ordinal);
        var b = text.IndexOf(end, StringComparison.Ordinal);
        return a < 0 || b < a ? text.TrimEnd('\n') + "\n\n" + block + "\n" : text[..a] + block + text[(b + end.Length)..];
    }
}
