using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Admin;
using CoordinationEvents.Contracts.V1;
using CoordinationEvents.Api.Statistics;
using Npgsql;

namespace CoordinationEvents.Benchmarks;

public sealed record LoadResult(int Clients, long Stored, long Failed, double Seconds, Latencies Latencies, string? FirstError)
{
    public double PerSecond => Stored / Seconds;
}

/// <summary>
/// Closed-loop load over HTTP: N clients, each sending its next request as soon as the previous one is answered,
/// every activity new (its own externalId).
/// </summary>
public static class Ingest
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    static long runCounter;

    /// <summary>POST /api/v1/activities, one activity per request.</summary>
    public static Task<LoadResult> SinglePostAsync(HttpClient reporter, BodyPool bodies, int clients, TimeSpan duration) =>
        RunAsync(clients, duration, async (client, seq, runId) =>
        {
            using var content = new StringContent(bodies.Body(seq * 7 + client, $"{runId}-{client}-{seq}"), Encoding.UTF8, "application/json");
            using var response = await reporter.PostAsync("api/v1/activities", content);
            var body = await response.Content.ReadAsStringAsync();
            return response.StatusCode == HttpStatusCode.Created ? (1, null) : (0, $"{(int)response.StatusCode}: {body}");
        });

    /// <summary>POST /api/v1/activities/batch with <paramref name="batchSize"/> activities per request.</summary>
    public static Task<LoadResult> BatchPostAsync(HttpClient reporter, BodyPool bodies, int clients, int batchSize, TimeSpan duration) =>
        RunAsync(clients, duration, async (client, seq, runId) =>
        {
            var json = new StringBuilder(batchSize * 1_200).Append("{\"activities\":[");
            for (var i = 0; i < batchSize; i++)
            {
                if (i > 0) json.Append(',');
                json.Append(bodies.Body(seq * batchSize + i + client, $"{runId}-{client}-{seq}-{i}"));
            }
            json.Append("]}");
            using var content = new StringContent(json.ToString(), Encoding.UTF8, "application/json");
            using var response = await reporter.PostAsync("api/v1/activities/batch", content);
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode != HttpStatusCode.OK) return (0, $"{(int)response.StatusCode}: {body}");
            using var document = JsonDocument.Parse(body);
            var created = 0;
            string? error = null;
            foreach (var result in document.RootElement.GetProperty("results").EnumerateArray())
                if (result.GetProperty("status").GetString() == "created") created++;
                else error ??= result.ToString();
            return (created, error);
        });

    /// <summary>
    /// POST /api/v1/imports of <paramref name="lines"/> new activities as NDJSON (streamed, never held whole), while
    /// <paramref name="concurrentClients"/> clients post single activities; timed from the first byte sent until the
    /// job is completed (GET /api/v1/imports/{id}, polled every 250 ms).
    /// </summary>
    public static async Task<ImportResult> ImportAsync(HttpClient reporter, BodyPool bodies, int lines, int concurrentClients)
    {
        var runId = $"bench-import-{DateTime.UtcNow:HHmmss}-{Interlocked.Increment(ref runCounter)}";
        using var done = new CancellationTokenSource();
        var others = Task.Run(async () =>
        {
            var runs = new List<LoadResult>();
            while (!done.IsCancellationRequested) runs.Add(await SinglePostAsync(reporter, bodies, concurrentClients, TimeSpan.FromSeconds(1)));
            return runs;
        });
        var watch = Stopwatch.StartNew();
        using var content = new NdjsonContent(lines, i => bodies.Body(i, $"{runId}-{i}"));
        using var response = await reporter.PostAsync("api/v1/imports", content);
        var uploadSeconds = watch.Elapsed.TotalSeconds;
        var accepted = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.Accepted) throw new InvalidOperationException($"POST /api/v1/imports: {(int)response.StatusCode} {accepted}");
        var id = JsonSerializer.Deserialize<ImportAccepted>(accepted, Json)!.ImportId;
        ImportState state;
        while (true)
        {
            state = JsonSerializer.Deserialize<ImportState>(await reporter.GetStringAsync($"api/v1/imports/{id}?invalidLimit=1"), Json)!;
            if (state.Status == ImportStatus.Failed) throw new InvalidOperationException($"The import failed: {state.Failure}");
            if (state.Status == ImportStatus.Completed) break;
            await Task.Delay(250);
        }
        var seconds = watch.Elapsed.TotalSeconds;
        done.Cancel();
        var runs = await others;
        var concurrent = new LoadResult(concurrentClients, runs.Sum(r => r.Stored), runs.Sum(r => r.Failed), runs.Sum(r => r.Seconds),
            new Latencies(runs.SelectMany(r => r.Latencies.Samples)), runs.Select(r => r.FirstError).FirstOrDefault(e => e is not null));
        return new ImportResult(lines, state.Counts.Created, lines - state.Counts.Created, seconds, uploadSeconds, concurrent);
    }

    /// <summary>NDJSON written line by line as the request goes out (chunked): 1M lines are over a gigabyte.</summary>
    sealed class NdjsonContent : HttpContent
    {
        readonly int lines;
        readonly Func<int, string> line;

        public NdjsonContent(int lines, Func<int, string> line)
        {
            (this.lines, this.line) = (lines, line);
            Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-ndjson");
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
            for (var i = 0; i < lines; i++)
            {
                await writer.WriteAsync(line(i));
                await writer.WriteAsync('\n');
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    static async Task<LoadResult> RunAsync(int clients, TimeSpan duration, Func<int, long, string, Task<(int Stored, string? Error)>> request)
    {
        var runId = $"bench-{DateTime.UtcNow:HHmmss}-{Interlocked.Increment(ref runCounter)}";
        var stopAt = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var latencies = new List<double>[clients];
        long stored = 0, failed = 0;
        string? firstError = null;
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(client => Task.Run(async () =>
        {
            var mine = latencies[client] = new List<double>(4_096);
            for (long seq = 0; Stopwatch.GetTimestamp() < stopAt; seq++)
            {
                var started = Stopwatch.GetTimestamp();
                var (count, error) = await request(client, seq, runId);
                mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                Interlocked.Add(ref stored, count);
                if (error is not null)
                {
                    Interlocked.Increment(ref failed);
                    Interlocked.CompareExchange(ref firstError, error.Length > 600 ? error[..600] : error, null);
                }
            }
        })));
        return new LoadResult(clients, stored, failed, watch.Elapsed.TotalSeconds, new Latencies(latencies.SelectMany(l => l)), firstError);
    }
}

public sealed record ImportResult(int Lines, int Created, int NotCreated, double Seconds, double UploadSeconds, LoadResult Concurrent)
{
    public double PerSecond => Created / Seconds;
}

public sealed record LagResult(int Samples, double P99Ms, double MaxMs, double P99Events, long MaxEvents, double DrainMs)
{
    public static readonly LagResult None = new(0, double.NaN, double.NaN, double.NaN, 0, double.NaN);
}

/// <summary>
/// Watches the statistics projection's lag about every 100 ms while load runs, with the query that serves
/// GET /api/v1/admin/projections (<see cref="GetProjectionsEndpoint.StatusAsync"/>: the projection's position in
/// <c>mt_event_progression</c> against the events in <c>mt_events</c> after it), asked of the database directly: through
/// the saturated service the answers took a few hundred ms each, too coarse to time a lag of that size. Lag in
/// events is what the endpoint reports; lag in time is how long ago the oldest event the projection has not
/// applied was committed: after the last sample whose head had not yet passed the projection's position (an
/// upper bound, to within one sampling interval).
/// </summary>
public sealed class LagSampler(NpgsqlDataSource dataSource)
{
    readonly CancellationTokenSource stop = new();
    readonly List<(double At, long Head, long Position, long Lag)> samples = [];
    readonly Stopwatch clock = Stopwatch.StartNew();
    Task? loop;
    double loadEndedAt = double.NaN;

    public void Start() => loop = Task.Run(async () =>
    {
        while (!stop.IsCancellationRequested)
        {
            var sent = clock.Elapsed.TotalMilliseconds;
            var status = await GetProjectionsEndpoint.StatusAsync(dataSource, runsHere: false, CancellationToken.None);
            var at = (sent + clock.Elapsed.TotalMilliseconds) / 2;
            var statistics = status.Projections.First(p => p.Name == StatisticsProjection.ProjectionName);
            var head = status.Head;
            lock (samples) samples.Add((at, head, statistics.Position, statistics.Lag));
            if (!double.IsNaN(Volatile.Read(ref loadEndedAt)) && statistics.Lag == 0) return; // drained
            var wait = 100 - (clock.Elapsed.TotalMilliseconds - sent);
            if (wait > 0)
                try { await Task.Delay(TimeSpan.FromMilliseconds(wait), stop.Token); }
                catch (OperationCanceledException) { return; }
        }
    });

    /// <summary>The load has stopped: sample on until the projection has caught up (at most 60 s), then summarise.</summary>
    public async Task<LagResult> StopAsync()
    {
        Volatile.Write(ref loadEndedAt, clock.Elapsed.TotalMilliseconds);
        var finished = await Task.WhenAny(loop!, Task.Delay(TimeSpan.FromSeconds(60)));
        stop.Cancel();
        await loop!;
        (double At, long Head, long Position, long Lag)[] all;
        lock (samples) all = samples.ToArray();
        var during = all.Where(s => s.At <= loadEndedAt).ToArray();
        if (during.Length == 0) return LagResult.None;

        var lagMs = new List<double>();
        foreach (var s in during)
        {
            if (s.Lag == 0) { lagMs.Add(0); continue; }
            var before = all.LastOrDefault(o => o.At < s.At && o.Head <= s.Position);
            lagMs.Add(s.At - (before == default ? all[0].At : before.At));
        }
        // Caught up: the first sample after the last one that still saw a lag.
        var lastBehind = Array.FindLastIndex(all, s => s.Lag > 0);
        var drainMs = lastBehind < 0 ? 0
            : lastBehind + 1 < all.Length && finished == loop ? Math.Max(0, all[lastBehind + 1].At - loadEndedAt)
            : double.NaN;
        var ms = new Latencies(lagMs);
        var events = new Latencies(during.Select(s => (double)s.Lag));
        return new LagResult(during.Length, ms.P99, ms.Max, events.P99, during.Max(s => s.Lag), drainMs);
    }
}
