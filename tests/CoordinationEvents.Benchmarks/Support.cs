using System.Diagnostics;
using System.Globalization;

namespace CoordinationEvents.Benchmarks;

/// <summary>What to run: <c>--quick</c> for a short run (under 3 minutes), otherwise the full one.</summary>
public sealed record BenchOptions(bool Quick, TimeSpan RunDuration, TimeSpan Warmup, int CopyRows, IReadOnlyList<long> StatisticsSizes,
    long RebuildSize, int QueryRepetitions, int BatchClients, string? Note, long? RebuildAtScale = null, bool IngestOnly = false, bool StatisticsOnly = false, bool BatchOnly = false,
    bool Abuse = false, double? SettleSeconds = null, IReadOnlyList<string>? AbuseLoads = null, bool ReorganisationOnly = false, bool TelemetryOnly = false,
    bool ReuseStatistics = false)
{
    public const int BatchSize = 1_000;
    public const long RebuildAtScaleSize = 1_000_000;
    public const int StoreWriters = 8;
    public static readonly int[] ClientCounts = [1, 8, 32];

    public string Mode => Quick ? "quick" : "full";

    /// <summary>Settings for the service's process (<c>--env NAME=VALUE</c>, repeatable): e.g. GC settings to compare.</summary>
    public IReadOnlyDictionary<string, string> ServiceEnvironment { get; init; } = new Dictionary<string, string>();

    /// <summary>Lines of the import run: issue 10 asks 1M; a quick run takes 100k.</summary>
    public int ImportLines => Quick ? 100_000 : 1_000_000;

    public const int ImportConcurrentClients = 8;

    public static BenchOptions Parse(string[] args)
    {
        var quick = args.Contains("--quick");
        var options = quick
            ? new BenchOptions(true, TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(2), 100_000, [100_000], 100_000, 100, 2, null)
            : new BenchOptions(false, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(5), 1_000_000, [100_000, 1_000_000, 10_000_000], 1_000_000, 300, 2, null);
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--quick":
                    break;
                case "--ingest-only":
                    options = options with { IngestOnly = true };
                    break;
                case "--batch-only":
                    // The batch run alone (a few warm-up batches first), for comparing changes to the batch path side by side.
                    options = options with { IngestOnly = true, BatchOnly = true };
                    break;
                case "--abuse":
                    options = options with { Abuse = true };
                    break;
                case "--telemetry-only":
                    // Single POST at 32 clients with telemetry on and off, beside pgbench -M prepared at 32 clients.
                    options = options with { TelemetryOnly = true };
                    break;
                case "--reorganisation":
                    // Issue 17's figures alone: a late reorganisation's restate rate and the straddling query grouped by unit.
                    options = options with { ReorganisationOnly = true };
                    break;
                case "--loads" when value is not null:
                    // Some of the abuse loads only: quiet, statistics, feed, import, history.
                    options = options with { AbuseLoads = value.Split(',', StringSplitOptions.RemoveEmptyEntries) };
                    i++;
                    break;
                case "--settle" when value is not null:
                    options = options with { SettleSeconds = double.Parse(value, CultureInfo.InvariantCulture) };
                    i++;
                    break;
                case "--env" when value is not null && value.Contains('='):
                    options = options with { ServiceEnvironment = new Dictionary<string, string>(options.ServiceEnvironment) { [value[..value.IndexOf('=')]] = value[(value.IndexOf('=') + 1)..] } };
                    i++;
                    break;
                case "--reuse-statistics":
                    options = options with { ReuseStatistics = true };
                    break;
                case "--statistics-only":
                    options = options with { StatisticsOnly = true };
                    break;
                case "--rebuild-1m":
                    options = options with { RebuildAtScale = RebuildAtScaleSize };
                    break;
                case "--rebuild-at" when value is not null:
                    options = options with { RebuildAtScale = long.Parse(value, CultureInfo.InvariantCulture) };
                    i++;
                    break;
                case "--seconds" when value is not null:
                    options = options with { RunDuration = TimeSpan.FromSeconds(double.Parse(value, CultureInfo.InvariantCulture)) };
                    i++;
                    break;
                case "--sizes" when value is not null:
                    options = options with { StatisticsSizes = value.Split(',').Select(s => long.Parse(s, CultureInfo.InvariantCulture)).ToArray() };
                    i++;
                    break;
                case "--rebuild-size" when value is not null:
                    options = options with { RebuildSize = long.Parse(value, CultureInfo.InvariantCulture) };
                    i++;
                    break;
                case "--note" when value is not null:
                    options = options with { Note = value };
                    i++;
                    break;
                default:
                    throw new ArgumentException(
                        $"Unknown argument '{args[i]}'. Use: [--quick] [--ingest-only | --batch-only | --statistics-only | --reorganisation | --telemetry-only | --abuse [--loads quiet,statistics,feed,import,history] [--settle S] [--env NAME=VALUE]…] [--rebuild-1m | --rebuild-at N] [--seconds N] [--sizes 100000,1000000] [--rebuild-size N] [--note \"text\"]");
            }
        }
        if (Environment.GetEnvironmentVariable("BENCH_NOTE") is { Length: > 0 } note && options.Note is null)
            options = options with { Note = note };
        return options;
    }
}

/// <summary>Progress lines go to stderr, so stdout holds only the table.</summary>
public static class Log
{
    static readonly Stopwatch Clock = Stopwatch.StartNew();

    public static TimeSpan Elapsed => Clock.Elapsed;

    public static void Line(string text) => Console.Error.WriteLine($"[{Clock.Elapsed:mm\\:ss}] {text}");
}

/// <summary>Latency samples in milliseconds.</summary>
public sealed class Latencies
{
    readonly double[] sorted;

    public IReadOnlyList<double> Samples => sorted;

    public Latencies(IEnumerable<double> samples)
    {
        sorted = samples.ToArray();
        Array.Sort(sorted);
    }

    public int Count => sorted.Length;

    /// <summary>The nearest-rank percentile (p in 0..100); NaN without samples.</summary>
    public double Percentile(double p)
    {
        if (sorted.Length == 0) return double.NaN;
        var rank = (int)Math.Ceiling(p / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    public double P50 => Percentile(50);
    public double P99 => Percentile(99);
    public double Max => sorted.Length == 0 ? double.NaN : sorted[^1];
}

public static class Format
{
    static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>12,345 or 1.2 or 0.35: a rate or a count, readable.</summary>
    public static string Number(double value) => double.IsNaN(value) ? "n/a"
        : Math.Abs(value) >= 100 ? value.ToString("#,0", Invariant)
        : Math.Abs(value) >= 10 ? value.ToString("0.0", Invariant)
        : value.ToString("0.##", Invariant);

    public static string Ms(double value) => double.IsNaN(value) ? "n/a"
        : value >= 100 ? value.ToString("#,0", Invariant) + " ms"
        : value >= 10 ? value.ToString("0.0", Invariant) + " ms"
        : value.ToString("0.00", Invariant) + " ms";

    public static string Percent(double ratio) => double.IsNaN(ratio) || double.IsInfinity(ratio) ? "n/a" : (ratio * 100).ToString("0", Invariant) + "%";

    public static string Size(long n) => n >= 1_000_000 && n % 1_000_000 == 0 ? $"{n / 1_000_000}M"
        : n >= 1_000 && n % 1_000 == 0 ? $"{n / 1_000}k" : n.ToString("#,0", Invariant);
}
