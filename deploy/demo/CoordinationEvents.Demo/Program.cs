using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using CoordinationEvents.Contracts.V1;

namespace CoordinationEvents.Demo;

/// <summary>
/// The demo (make demo): loads <see cref="DemoDataset"/> into a running CoordinationEvents service, applies its
/// corrections and retractions, records Lai Châu's 2025 reform (<see cref="DemoReform"/>) and a year of the new
/// units' activities, waits for the projections, prints Phong Thổ's 2019–2024 review report (as it was) and a new
/// commune's report for July 2025 – June 2026 with its figures carried forward, and issues Phong Thổ's report as
/// a Word document (phong-tho-2019-2024.docx in the current directory).
/// Running it twice changes nothing but the issue: the posts come back as duplicates, the corrections as no-ops,
/// the reorganisation as already recorded (200), and a new report is issued each time.
/// </summary>
static class Program
{
    const string ReporterKey = "dev-reporter-key";
    const string AnalystKey = "dev-analyst-key";
    const string AdminKey = "dev-admin-key";
    const int BatchSize = 1_000;

    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    static async Task<int> Main(string[] args)
    {
        var url = "http://localhost:5080";
        var output = ".";
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] is "--url" && i + 1 < args.Length)
            {
                url = args[++i];
            }
            else if (args[i] is "--out" && i + 1 < args.Length)
            {
                output = args[++i];
            }
            else if (args[i] is "-h" or "--help")
            {
                Console.WriteLine("usage: CoordinationEvents.Demo [--url http://localhost:5080] [--out directory-for-the-docx]");
                return 0;
            }
            else
            {
                Console.Error.WriteLine($"Unknown argument '{args[i]}'. usage: CoordinationEvents.Demo [--url http://localhost:5080]");
                return 64;
            }
        }

        using var http = new HttpClient { BaseAddress = new Uri(url.TrimEnd('/') + "/"), Timeout = TimeSpan.FromMinutes(5) };
        try
        {
            return await new DemoRun(http, url, output).RunAsync();
        }
        catch (DemoException e)
        {
            Console.Error.WriteLine();
            Console.Error.WriteLine($"Demo failed: {e.Message}");
            return 2;
        }
        catch (HttpRequestException e)
        {
            Console.Error.WriteLine();
            var cause = e.InnerException is { } inner ? $" ({inner.Message})" : "";
            Console.Error.WriteLine($"Lost the connection to CoordinationEvents at {url}: {e.Message}{cause} Is it still running? (start it with `make run`)");
            return 1;
        }
    }

    sealed class DemoException(string message) : Exception(message);

    sealed class DemoRun(HttpClient http, string url, string output)
    {
        int invalid;

        public async Task<int> RunAsync()
        {
            if (!await WaitUntilReadyAsync())
            {
                return 1;
            }

            var dataset = DemoDataset.Build();
            Console.WriteLine($"Data set: {dataset.Activities.Count:N0} activities, {dataset.Corrections.Count} corrections, "
                + $"{dataset.Retractions.Count} retractions, {dataset.Units.Count} units to create.");

            await CreateUnitsAsync(dataset.Units);
            var ids = await PostActivitiesAsync(dataset.Activities);
            await ApplyCorrectionsAsync(dataset, ids);
            await ApplyRetractionsAsync(dataset, ids);
            await WaitForProjectionsAsync();
            var before = await ReadReportAsync();
            // 003's report is issued as the district issued it, before the reform; what changed since is asked after it.
            var issued = await IssueReportAsync();
            await RecordReformAsync();
            await PostActivitiesAsync(DemoReform.Activities());
            await WaitForProjectionsAsync();
            var after = await ReadReportAsync();
            Console.WriteLine();
            Console.WriteLine("---- Phong Thổ, 01/01/2019 – 31/12/2024, as it was (after the reform) ----");
            Console.WriteLine(after);
            Console.WriteLine(before == after
                ? "Phong Thổ's 2019–2024 report is the same, word for word, before and after the reform."
                : "Phong Thổ's 2019–2024 report DIFFERS from the one read before the reform was recorded.");
            await PrintChangesAsync(issued);
            await PrintNewCommuneAsync();
            if (invalid > 0)
            {
                Console.Error.WriteLine($"{invalid} records were refused as invalid (listed above): the figures above miss them.");
                return 3;
            }
            return 0;
        }

        // ---- Readiness ----------------------------------------------------------------------------------

        async Task<bool> WaitUntilReadyAsync()
        {
            Console.Write($"Waiting for CoordinationEvents at {url} ");
            string? lastProblem = null;
            for (var attempt = 0; attempt < 30; attempt++)
            {
                try
                {
                    using var response = await http.GetAsync("health/ready");
                    if (response.IsSuccessStatusCode)
                    {
                        Console.WriteLine("ready.");
                        return true;
                    }
                    lastProblem = $"GET /health/ready answers {(int)response.StatusCode} {response.ReasonPhrase}: the service runs but its database does not answer (is PostgreSQL running?)";
                }
                catch (HttpRequestException e)
                {
                    lastProblem = $"cannot reach {url} ({e.Message}). Is the service running? Start it with `make run`, or pass --url.";
                }
                catch (TaskCanceledException)
                {
                    lastProblem = $"{url} does not answer in time.";
                }
                Console.Write('.');
                await Task.Delay(TimeSpan.FromSeconds(1));
            }
            Console.WriteLine();
            Console.Error.WriteLine($"CoordinationEvents is not ready: {lastProblem}");
            return false;
        }

        // ---- Units --------------------------------------------------------------------------------------

        async Task CreateUnitsAsync(IReadOnlyList<UnitRequest> units)
        {
            int created = 0, existing = 0;
            foreach (var unit in units)
            {
                using var request = Request(HttpMethod.Post, "api/v1/units", AdminKey, unit);
                using var response = await http.SendAsync(request);
                if (response.StatusCode == HttpStatusCode.Conflict)
                {
                    existing++;
                }
                else if (response.IsSuccessStatusCode)
                {
                    created++;
                }
                else
                {
                    throw await Failure(response, $"creating unit {unit.UnitId}");
                }
            }
            Console.WriteLine($"Units: {created} created, {existing} already there.");
        }

        // ---- Activities ---------------------------------------------------------------------------------

        async Task<Dictionary<string, Guid>> PostActivitiesAsync(IReadOnlyList<ActivityRequest> activities)
        {
            var ids = new Dictionary<string, Guid>(StringComparer.Ordinal);
            var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
            var conflicts = new List<string>();
            for (var start = 0; start < activities.Count; start += BatchSize)
            {
                var batch = activities.Skip(start).Take(BatchSize).ToArray();
                using var request = Request(HttpMethod.Post, "api/v1/activities/batch", ReporterKey, new { activities = batch });
                using var response = await http.SendAsync(request);
                if (!response.IsSuccessStatusCode)
                {
                    throw await Failure(response, $"posting activities {start + 1}–{start + batch.Length}");
                }
                var result = await response.Content.ReadFromJsonAsync<BatchResponse>(Json)
                    ?? throw new DemoException("the batch answer is empty");
                foreach (var item in result.Results)
                {
                    var activity = batch[item.Index];
                    counts[item.Status] = counts.GetValueOrDefault(item.Status) + 1;
                    if (item.ActivityId is { } id)
                    {
                        ids[activity.ExternalId!] = id;
                    }
                    if (item.Status == BatchItemStatus.Invalid)
                    {
                        Console.Error.WriteLine($"  invalid: {activity.ExternalId}");
                        foreach (var (field, messages) in item.Errors ?? new Dictionary<string, string[]>())
                        {
                            Console.Error.WriteLine($"    {field}: {string.Join(" ", messages)}");
                        }
                    }
                    else if (item.Status == BatchItemStatus.Conflict)
                    {
                        conflicts.Add(activity.ExternalId!);
                    }
                }
                Console.WriteLine($"Posted {start + batch.Length:N0}/{activities.Count:N0} activities.");
            }

            invalid += counts.GetValueOrDefault(BatchItemStatus.Invalid);
            string Count(string status) => $"{counts.GetValueOrDefault(status):N0} {status}";
            Console.WriteLine($"Activities: {Count(BatchItemStatus.Created)}, {Count(BatchItemStatus.Duplicate)}, "
                + $"{Count(BatchItemStatus.Invalid)}, {Count(BatchItemStatus.Conflict)}.");
            if (conflicts.Count > 0)
            {
                // On a rerun, a record corrected since its first post may be answered "conflict": its content
                // differs from what the service holds now. The corrections below find it all the same.
                Console.WriteLine($"  conflicts (expected on a rerun for corrected records): {string.Join(", ", conflicts.Take(10))}");
            }
            return ids;
        }

        async Task ApplyCorrectionsAsync(DemoDataset dataset, Dictionary<string, Guid> ids)
        {
            int changed = 0, unchanged = 0;
            foreach (var correction in dataset.Corrections)
            {
                var original = dataset.Activities.First(a => a.ExternalId == correction.ExternalId);
                var id = await FindActivityIdAsync(original, ids)
                    ?? throw new DemoException($"activity {correction.ExternalId} to correct was not found");
                for (var attempt = 1; ; attempt++)
                {
                    var (current, etag) = await GetAsync(id);
                    using var request = Request(HttpMethod.Put, $"api/v1/activities/{id}", ReporterKey, correction.Corrected);
                    request.Headers.TryAddWithoutValidation("If-Match", etag);
                    using var response = await http.SendAsync(request);
                    if (response.StatusCode == HttpStatusCode.PreconditionFailed && attempt < 3)
                    {
                        continue; // changed in between: read the version again
                    }
                    if (!response.IsSuccessStatusCode)
                    {
                        throw await Failure(response, $"correcting {correction.ExternalId}");
                    }
                    var written = await response.Content.ReadFromJsonAsync<ActivityWritten>(Json);
                    if (written is not null && written.Version == current.Version)
                    {
                        unchanged++;
                    }
                    else
                    {
                        changed++;
                        Console.WriteLine($"  corrected {correction.ExternalId}: {correction.Note}");
                    }
                    break;
                }
            }
            Console.WriteLine($"Corrections: {changed} applied, {unchanged} already applied.");
        }

        async Task ApplyRetractionsAsync(DemoDataset dataset, Dictionary<string, Guid> ids)
        {
            int retracted = 0, already = 0;
            foreach (var retraction in dataset.Retractions)
            {
                var original = dataset.Activities.First(a => a.ExternalId == retraction.ExternalId);
                if (await FindActivityIdAsync(original, ids) is not { } id)
                {
                    // Only a rerun gets here (the batch answered "conflict" without an id) and a listing may
                    // leave retracted activities out: say so rather than fail.
                    Console.WriteLine($"  {retraction.ExternalId} not found: assumed retracted by an earlier run.");
                    already++;
                    continue;
                }
                if ((await GetAsync(id)).Activity.Status == "retracted")
                {
                    already++;
                    continue;
                }
                using var request = Request(HttpMethod.Delete, $"api/v1/activities/{id}", ReporterKey, new RetractionRequest { Reason = retraction.Reason });
                using var response = await http.SendAsync(request);
                if (!response.IsSuccessStatusCode)
                {
                    throw await Failure(response, $"retracting {retraction.ExternalId}");
                }
                retracted++;
                Console.WriteLine($"  retracted {retraction.ExternalId}: {retraction.Reason}");
            }
            Console.WriteLine($"Retractions: {retracted} applied, {already} already applied.");
        }

        /// <summary>The id the batch answer gave; else (a conflict on a rerun) the activity listed on its unit, kind and day.</summary>
        async Task<Guid?> FindActivityIdAsync(ActivityRequest activity, Dictionary<string, Guid> ids)
        {
            if (ids.TryGetValue(activity.ExternalId!, out var known))
            {
                return known;
            }
            var day = activity.OccurredOn!.Value.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
            string? cursor = null;
            do
            {
                var path = $"api/v1/activities?unitId={Uri.EscapeDataString(activity.UnitId!)}&kind={Uri.EscapeDataString(activity.Kind!)}"
                    + $"&from={day}&to={day}&limit=100" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}");
                using var request = Request(HttpMethod.Get, path, AnalystKey);
                using var response = await http.SendAsync(request);
                if (!response.IsSuccessStatusCode)
                {
                    throw await Failure(response, $"looking up {activity.ExternalId}");
                }
                var page = await response.Content.ReadFromJsonAsync<ActivityPage>(Json);
                var match = page?.Items.FirstOrDefault(a => a.ExternalId == activity.ExternalId);
                if (match is not null)
                {
                    return match.ActivityId;
                }
                cursor = page?.NextCursor;
            }
            while (cursor is not null);
            return null;
        }

        async Task<(ActivityResponse Activity, string ETag)> GetAsync(Guid id)
        {
            using var request = Request(HttpMethod.Get, $"api/v1/activities/{id}", AnalystKey);
            using var response = await http.SendAsync(request);
            if (!response.IsSuccessStatusCode)
            {
                throw await Failure(response, $"reading activity {id}");
            }
            var activity = await response.Content.ReadFromJsonAsync<ActivityResponse>(Json)
                ?? throw new DemoException($"activity {id} came back empty");
            return (activity, response.Headers.ETag?.ToString() ?? $"\"{activity.Version}\"");
        }

        // ---- Projections and the report -----------------------------------------------------------------

        async Task WaitForProjectionsAsync()
        {
            Console.Write("Waiting for the projections to catch up ");
            var deadline = DateTime.UtcNow.AddMinutes(5);
            while (true)
            {
                using var request = Request(HttpMethod.Get, "api/v1/admin/projections", AdminKey);
                using var response = await http.SendAsync(request);
                if (!response.IsSuccessStatusCode)
                {
                    throw await Failure(response, "reading the projections' lag");
                }
                using var status = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                var lagging = status.RootElement.GetProperty("projections").EnumerateArray()
                    .Where(p => p.GetProperty("lag").GetInt64() > 0)
                    .Select(p => $"{p.GetProperty("name").GetString()} ({p.GetProperty("lag").GetInt64():N0} behind)")
                    .ToArray();
                if (lagging.Length == 0)
                {
                    Console.WriteLine("done.");
                    return;
                }
                if (DateTime.UtcNow > deadline)
                {
                    Console.WriteLine();
                    throw new DemoException($"the projections have not caught up after 5 minutes: {string.Join(", ", lagging)}");
                }
                Console.Write('.');
                await Task.Delay(TimeSpan.FromMilliseconds(500));
            }
        }

        async Task<string> ReadReportAsync()
        {
            using var request = Request(HttpMethod.Get,
                "api/v1/reports/review?unitId=phong-tho&from=2019-01-01&to=2024-12-31&format=markdown", AnalystKey,
                accept: "text/markdown, text/plain;q=0.9, */*;q=0.1");
            using var response = await http.SendAsync(request);
            if (!response.IsSuccessStatusCode)
            {
                throw await Failure(response, "reading Phong Thổ's review report");
            }
            return await response.Content.ReadAsStringAsync();
        }

        // ---- Lai Châu's reform, 1 July 2025 --------------------------------------------------------------

        async Task RecordReformAsync()
        {
            using var request = Request(HttpMethod.Post, "api/v1/reorganisations", AdminKey, DemoReform.Reorganisation());
            using var response = await http.SendAsync(request);
            if (!response.IsSuccessStatusCode)
            {
                throw await Failure(response, $"recording the reorganisation {DemoReform.ReorganisationId}");
            }
            Console.WriteLine();
            Console.WriteLine($"Reorganisation {DemoReform.ReorganisationId} ({DemoReform.Title}), from {DemoReform.EffectiveFrom:dd/MM/yyyy}: "
                + (response.StatusCode == HttpStatusCode.Created ? "recorded." : "already recorded."));
            Console.WriteLine($"  huyện Phong Thổ giải thể; {DemoUnits.PhongTho.Posts.Count} đồn biên phòng chuyển về {DemoReform.CommandName};");
            foreach (var commune in DemoReform.Communes)
            {
                var names = commune.MergedFrom.Select(id => DemoUnits.PhongTho.Communes.First(c => c.CommuneId == id).Name);
                Console.WriteLine($"  {commune.Name} ({commune.UnitId}) ← {string.Join(", ", names)}"
                    + (commune.Cited ? " (Nghị quyết 1670/NQ-UBTVQH15; also the old Khổng Lào, not in the demo)" : " (illustrative: the demo's guess, not cited)"));
            }
            Console.WriteLine("  The five new communes are those the resolution forms on the former district's area; which old commune went into"
                + " which is cited for Khổng Lào only, the others are illustrative.");
        }

        async Task PrintNewCommuneAsync()
        {
            var commune = DemoReform.Communes[0];
            var from = DemoReform.ActivitiesFrom.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
            var to = DemoReform.ActivitiesTo.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
            using var request = Request(HttpMethod.Get,
                $"api/v1/reports/review?unitId={commune.UnitId}&from={from}&to={to}&lineage=true&format=markdown", AnalystKey,
                accept: "text/markdown, text/plain;q=0.9, */*;q=0.1");
            using var response = await http.SendAsync(request);
            if (!response.IsSuccessStatusCode)
            {
                throw await Failure(response, $"reading {commune.Name}'s report");
            }
            Console.WriteLine();
            Console.WriteLine($"---- {commune.Name}, {DemoReform.ActivitiesFrom:dd/MM/yyyy} – {DemoReform.ActivitiesTo:dd/MM/yyyy}, figures carried forward (lineage=true) ----");
            Console.WriteLine(await response.Content.ReadAsStringAsync());

            // The same commune from 2019 on, carried forward: the patrols of Hoang Thèn and Bản Lang before July 2025 count for it.
            using var stats = Request(HttpMethod.Get, $"api/v1/statistics?unitId={commune.UnitId}&from=2019-01-01&to={to}&lineage=true&groupBy=year", AnalystKey);
            using var answer = await http.SendAsync(stats);
            if (!answer.IsSuccessStatusCode)
            {
                throw await Failure(answer, $"reading {commune.Name}'s figures carried forward");
            }
            using var figures = JsonDocument.Parse(await answer.Content.ReadAsStringAsync());
            var carried = figures.RootElement.TryGetProperty("lineage", out var lineage) && lineage.ValueKind == JsonValueKind.Array
                ? string.Join(", ", lineage.EnumerateArray().Select(u => u.TryGetProperty("name", out var n) ? n.GetString() : u.GetProperty("unitId").GetString()))
                : "";
            var total = figures.RootElement.GetProperty("totals").TryGetProperty("activities", out var a) ? a.GetDecimal() : 0;
            Console.WriteLine($"{commune.Name}, 01/01/2019 – {DemoReform.ActivitiesTo:dd/MM/yyyy}, carried forward: {total:N0} activities"
                + (carried.Length > 0 ? $" (carried from: {carried})." : "."));
        }

        async Task PrintChangesAsync(Guid reportId)
        {
            using var request = Request(HttpMethod.Get, $"api/v1/reports/{reportId}/changes", AnalystKey);
            using var response = await http.SendAsync(request);
            if (!response.IsSuccessStatusCode)
            {
                throw await Failure(response, $"reading what changed since the issue of {reportId}");
            }
            var changes = await response.Content.ReadFromJsonAsync<ReportChanges>(Json)
                ?? throw new DemoException("the changes' answer is empty");
            Console.WriteLine(changes.Lines.Count == 0
                ? $"The issued report {reportId}: no line differs today, after the reform"
                    + (changes.Activities.Count > 0 ? $" ({changes.Activities.Count} activities in its units and period changed since, to no effect)." : ".")
                : $"The issued report {reportId}: {changes.Lines.Count} lines differ today: "
                    + string.Join("; ", changes.Lines.Select(l => $"{l.Issued?.Text ?? "—"} → {l.Now?.Text ?? "—"}")));
        }

        async Task<Guid> IssueReportAsync()
        {
            var body = new IssueReportRequest("review", DemoUnits.PhongTho.DistrictId, "2019-01-01", "2024-12-31",
                Signer: new ReportSigner(["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"], "Mai Thị Hồng Sim"),
                Recipients:
                [
                    "Ủy ban MTTQ VN tỉnh;", "Bộ Chỉ huy BĐBP tỉnh;", "Thường trực Huyện ủy;", "Thường trực HĐND huyện;",
                    "CT, các PCT UBND huyện;", "Các cơ quan, ban, đoàn thể huyện;", "Ủy ban nhân dân các xã, thị trấn;",
                    "Các Đồn biên phòng trên địa bàn;", "Lưu: VT, C1.",
                ]);
            using var request = Request(HttpMethod.Post, "api/v1/reports", AnalystKey, body);
            using var response = await http.SendAsync(request);
            if (!response.IsSuccessStatusCode)
            {
                throw await Failure(response, "issuing Phong Thổ's report");
            }
            var issued = await response.Content.ReadFromJsonAsync<IssuedReportSummary>(Json)
                ?? throw new DemoException("the issued report's answer is empty");
            using var docx = Request(HttpMethod.Get, $"api/v1/reports/{issued.ReportId}?format=docx", AnalystKey,
                accept: "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
            using var document = await http.SendAsync(docx);
            if (!document.IsSuccessStatusCode)
            {
                throw await Failure(document, $"downloading the issued report {issued.ReportId}");
            }
            Directory.CreateDirectory(output);
            var path = Path.GetFullPath(Path.Combine(output, "phong-tho-2019-2024.docx"));
            await File.WriteAllBytesAsync(path, await document.Content.ReadAsByteArrayAsync());
            Console.WriteLine();
            Console.WriteLine($"Issued Phong Thổ's 2019–2024 report: {response.Headers.Location} (position {issued.Position:N0}, "
                + $"SHA-256 {issued.ContentHash[..12]}…); written as {path}.");
            return issued.ReportId;
        }

        // ---- HTTP helpers -------------------------------------------------------------------------------

        static HttpRequestMessage Request(HttpMethod method, string path, string apiKey, object? body = null, string accept = "application/json")
        {
            var request = new HttpRequestMessage(method, path);
            request.Headers.Add("X-Api-Key", apiKey);
            request.Headers.TryAddWithoutValidation("Accept", accept);
            if (body is not null)
            {
                // Serialised up front so the request carries a Content-Length rather than a chunked body.
                request.Content = new StringContent(JsonSerializer.Serialize(body, body.GetType(), Json), Encoding.UTF8, "application/json");
            }
            return request;
        }

        static async Task<DemoException> Failure(HttpResponseMessage response, string doing)
        {
            var body = await response.Content.ReadAsStringAsync();
            var hint = response.StatusCode switch
            {
                HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden =>
                    " The dev keys work only in the Development environment (make run).",
                HttpStatusCode.NotFound when body.Length == 0 =>
                    " This endpoint does not exist in the running service: is it an older build?",
                _ => "",
            };
            return new DemoException($"{doing}: HTTP {(int)response.StatusCode} {response.ReasonPhrase}. {Truncate(body)}{hint}");
        }

        static string Truncate(string text) => text.Length <= 2_000 ? text : text[..2_000] + " …";
    }
}
