using System.Globalization;

namespace CoordinationEvents.Benchmarks;

/// <summary>What the figures were measured on, and how busy the machine was with other work meanwhile.</summary>
public static class Machine
{
    public static string Describe()
    {
        var cpu = ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";
        var memKb = ReadLines("/proc/meminfo").Where(l => l.StartsWith("MemTotal:", StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture)).FirstOrDefault();
        return $"{Environment.ProcessorCount} CPUs ({cpu}), {memKb / 1024.0 / 1024.0:0.0} GiB RAM, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}";
    }

    public static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    /// <summary>The resident set high-water mark of a process (/proc/&lt;pid&gt;/status VmHWM), in bytes; null if unknown.</summary>
    public static long? PeakRssBytes(int pid) => StatusKb(pid, "VmHWM:") * 1024;

    /// <summary>
    /// Starts a new high-water mark for the process (Linux: writing 5 to /proc/&lt;pid&gt;/clear_refs). Where that is
    /// not allowed, the mark stays the process's lifetime one: an upper bound.
    /// </summary>
    public static void ResetPeakRss(int pid)
    {
        try
        {
            File.WriteAllText($"/proc/{pid}/clear_refs", "5");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    public static long? RssBytes(int pid) => StatusKb(pid, "VmRSS:") * 1024;

    static long? StatusKb(int pid, string field)
    {
        var line = ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
        return line is null ? null : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }

    /// <summary>Busy CPU time of the whole machine so far (user, nice, system, irq, softirq, steal), in clock ticks.</summary>
    public static long MachineBusyTicks()
    {
        var cpu = ReadLines("/proc/stat").FirstOrDefault(l => l.StartsWith("cpu ", StringComparison.Ordinal));
        if (cpu is null) return 0;
        var f = cpu.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        // user nice system idle iowait irq softirq steal
        return f[0] + f[1] + f[2] + f[5] + f[6] + (f.Length > 7 ? f[7] : 0);
    }

    /// <summary>
    /// CPU ticks used by a process and by its children that it has reaped (utime, stime, cutime, cstime); with
    /// <paramref name="includeChildren"/> false only the first two.
    /// </summary>
    public static long ProcessTicks(int pid, bool includeChildren = true)
    {
        var stat = ReadAll($"/proc/{pid}/stat");
        if (stat is null) return 0;
        // The command name may hold spaces: fields start after the closing parenthesis.
        var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        long Field(int n) => long.Parse(f[n - 3], CultureInfo.InvariantCulture); // n as in proc(5), 1-based
        return Field(14) + Field(15) + (includeChildren ? Field(16) + Field(17) : 0);
    }

    /// <summary>The ids of the live children of a process.</summary>
    public static IEnumerable<int> Children(int pid)
    {
        if (!Directory.Exists("/proc")) yield break;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var child)) continue;
            var stat = ReadAll(Path.Combine(dir, "stat"));
            if (stat is null) continue;
            var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            if (f.Length > 1 && f[1] == pid.ToString(CultureInfo.InvariantCulture)) yield return child;
        }
    }

    static IEnumerable<string> ReadLines(string path)
    {
        var text = ReadAll(path);
        return text is null ? [] : text.Split('\n');
    }

    static string? ReadAll(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllText(path) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}

/// <summary>
/// CPU time so far, split by who used it: this program (the load client), its children (the service, pgbench;
/// running or already reaped), the PostgreSQL server (postmaster, its backends and the backends it reaped; only
/// when the server is our own) and everything else on the machine (other builds, tests, agents).
/// </summary>
public readonly record struct CpuSnapshot(DateTime At, long Machine, long Client, long Children, long Service, long Postgres);

public sealed class CpuMeter(int? postmasterPid)
{
    /// <summary>The service whose share is reported separately (one of this program's children).</summary>
    public int? ServicePid { get; set; }

    public bool KnowsPostgres => postmasterPid is not null;

    public CpuSnapshot Take()
    {
        var self = Environment.ProcessId;
        var children = Machine.ProcessTicks(self) - Machine.ProcessTicks(self, includeChildren: false);
        foreach (var child in Machine.Children(self)) children += Machine.ProcessTicks(child);
        long postgres = 0;
        if (postmasterPid is { } pm)
        {
            postgres = Machine.ProcessTicks(pm);
            foreach (var backend in Machine.Children(pm)) postgres += Machine.ProcessTicks(backend, includeChildren: false);
        }
        return new CpuSnapshot(DateTime.UtcNow, Machine.MachineBusyTicks(), Machine.ProcessTicks(self, includeChildren: false), children,
            ServicePid is { } service ? Machine.ProcessTicks(service) : 0, postgres);
    }
}

/// <summary>CPU seconds used between two snapshots, by whom.</summary>
public sealed record CpuSplit(double Seconds, double Client, double Service, double Postgres, double Other)
{
    const double TicksPerSecond = 100.0; // USER_HZ on Linux

    public static CpuSplit Between(CpuSnapshot a, CpuSnapshot b)
    {
        double S(long ticks) => Math.Max(0, ticks) / TicksPerSecond;
        var ours = (b.Client - a.Client) + (b.Children - a.Children) + (b.Postgres - a.Postgres);
        return new CpuSplit((b.At - a.At).TotalSeconds, S(b.Client - a.Client), S(b.Service - a.Service), S(b.Postgres - a.Postgres),
            S(b.Machine - a.Machine - ours));
    }

    /// <summary>Other work's average use, in CPUs.</summary>
    public double OtherCpus => Other / Math.Max(Seconds, 0.001);

    /// <summary>Other work's share of the machine's capacity (0..1).</summary>
    public double OtherShare => OtherCpus / Environment.ProcessorCount;

    /// <summary>"service 1.23 ms, PostgreSQL 0.80 ms, load client 0.10 ms, other processes 0.30 ms" per item.</summary>
    public string PerItem(double items) => items <= 0 ? "n/a" :
        $"service {Ms(Service / items)}, PostgreSQL {Ms(Postgres / items)}, load client {Ms(Client / items)}, other processes {Ms(Other / items)}";

    /// <summary>Average CPUs in use by each, of the machine's.</summary>
    public string Use() => FormattableString.Invariant(
        $"service {Service / Seconds:0.00}, PostgreSQL {Postgres / Seconds:0.00}, load client {Client / Seconds:0.00}, other processes {Other / Seconds:0.00} of {Environment.ProcessorCount} CPUs");

    static string Ms(double seconds) => FormattableString.Invariant($"{seconds * 1000:0.00} ms");
}
