using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Core;
using Npgsql;
using NpgsqlTypes;

namespace CoordinationEvents.Benchmarks;

/// <summary>One event as the store writes it: type, data and metadata (the headers column), as JSON text.</summary>
public sealed record EventRow(string Type, string Data, string Metadata)
{
    /// <summary>
    /// A recorded patrol (the commonest kind), serialized as Marten stores it for the service: the data with
    /// <see cref="StoreJson.Options"/> (camelCase), the headers with the posting client.
    /// </summary>
    public static EventRow Sample(ActivityFactory factory)
    {
        var content = factory.Validate(ActivityExamples.ByKind["patrol"]);
        var now = DateTimeOffset.UtcNow;
        var id = ActivityIds.For("dev-reporter", content.ExternalId);
        var data = JsonSerializer.Serialize(new ActivityRecorded(id, "dev-reporter", content, now), StoreJson.Options);
        var metadata = JsonSerializer.Serialize(new Dictionary<string, object> { [ActivityEventTypes.ClientHeader] = "dev-reporter" }, StoreJson.Options);
        return new EventRow(ActivityEventTypes.Recorded, data, metadata);
    }
}

public sealed record PgbenchScript(string Path, IReadOnlyDictionary<string, string> Variables);

public sealed record PgbenchResult(int Clients, double Tps, double LatencyAverageMs);

/// <summary>
/// PostgreSQL's own ceilings, measured on the same server in the same run: pgbench inserting one event-shaped row
/// per transaction, a binary COPY of the same rows, a plain count(*) and a sequential read of the events table.
/// </summary>
public static class Ceilings
{
    public const string Table = "bench_rows";

    /// <summary>
    /// An event-shaped table: the columns of the old store's <c>events</c> table, with its identity primary key
    /// (the shape every earlier ceiling was measured with; unchanged so that the figures keep their meaning).
    /// </summary>
    public static Task CreateTableAsync(NpgsqlDataSource dataSource) => BenchServer.ExecuteAsync(dataSource, $"""
        create table if not exists {Table} (
            position bigint generated always as identity primary key,
            stream_id uuid not null,
            version int not null,
            type text not null,
            data jsonb not null,
            metadata jsonb not null,
            recorded_at timestamptz not null)
        """);

    public static string? FindPgbench()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var directory in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            if (File.Exists(Path.Combine(directory, "pgbench"))) return Path.Combine(directory, "pgbench");
        return Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").OrderByDescending(d => d, StringComparer.Ordinal)
                .Select(d => Path.Combine(d, "bin", "pgbench")).FirstOrDefault(File.Exists)
            : null;
    }

    /// <summary>
    /// The pgbench script: one INSERT of the row per transaction, run with <c>-M prepared</c> (parsed once per
    /// connection, as a client with prepared statements does). The row's texts are pgbench variables (<c>-D</c>), bound
    /// as parameters: in prepared mode pgbench would take the <c>:name</c> inside literal JSON for variables.
    /// </summary>
    public static PgbenchScript WriteScript(string directory, EventRow row)
    {
        var path = Path.Combine(directory, "insert-event.sql");
        File.WriteAllText(path,
            $"insert into {Table} (stream_id, version, type, data, metadata, recorded_at) values " +
            "(gen_random_uuid(), 1, :type, cast(:data as jsonb), cast(:metadata as jsonb), now());\n");
        return new PgbenchScript(path, new Dictionary<string, string> { ["type"] = row.Type, ["data"] = row.Data, ["metadata"] = row.Metadata });
    }

    /// <summary>
    /// The same INSERT with its values written in as SQL literals, for the simple query mode (which substitutes
    /// pgbench variables as plain text, unquoted).
    /// </summary>
    public static PgbenchScript WriteLiteralScript(string directory, EventRow row)
    {
        static string Literal(string text) => "'" + text.Replace("'", "''") + "'";
        var path = Path.Combine(directory, "insert-event-literal.sql");
        File.WriteAllText(path,
            $"insert into {Table} (stream_id, version, type, data, metadata, recorded_at) values " +
            $"(gen_random_uuid(), 1, {Literal(row.Type)}, cast({Literal(row.Data)} as jsonb), cast({Literal(row.Metadata)} as jsonb), now());\n");
        return new PgbenchScript(path, new Dictionary<string, string>());
    }

    /// <summary>Runs pgbench -n -M prepared -c N -j min(N,2) -T seconds with the script against the scratch database.</summary>
    public static async Task<PgbenchResult> PgbenchAsync(string pgbench, string connectionString, PgbenchScript script, int clients, TimeSpan duration, string mode = "prepared")
    {
        var cs = new NpgsqlConnectionStringBuilder(connectionString);
        var startInfo = new ProcessStartInfo(pgbench)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var key in startInfo.Environment.Keys.Where(k => k.StartsWith("PG", StringComparison.Ordinal)).ToList())
            startInfo.Environment.Remove(key);
        if (!string.IsNullOrEmpty(cs.Password)) startInfo.Environment["PGPASSWORD"] = cs.Password;
        foreach (var (name, value) in script.Variables)
        {
            startInfo.ArgumentList.Add("-D");
            startInfo.ArgumentList.Add($"{name}={value}");
        }
        foreach (var arg in new[]
                 {
                     "-n", "-M", mode, "-c", clients.ToString(CultureInfo.InvariantCulture), "-j", Math.Min(clients, 2).ToString(CultureInfo.InvariantCulture),
                     "-T", ((int)Math.Ceiling(duration.TotalSeconds)).ToString(CultureInfo.InvariantCulture), "-f", script.Path,
                     "-h", cs.Host ?? "127.0.0.1", "-p", cs.Port.ToString(CultureInfo.InvariantCulture), "-U", cs.Username ?? "postgres", cs.Database!,
                 })
            startInfo.ArgumentList.Add(arg);

        using var process = Process.Start(startInfo)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var output = await stdout + await stderr;
        var tps = Regex.Match(output, @"tps = ([0-9.]+) \(without initial connection time\)");
        if (process.ExitCode != 0 || !tps.Success)
            throw new InvalidOperationException($"pgbench failed (exit {process.ExitCode}):\n{output}");
        var latency = Regex.Match(output, @"latency average = ([0-9.]+) ms");
        return new PgbenchResult(clients, double.Parse(tps.Groups[1].Value, CultureInfo.InvariantCulture),
            latency.Success ? double.Parse(latency.Groups[1].Value, CultureInfo.InvariantCulture) : double.NaN);
    }

    /// <summary>Rows per second of one binary COPY of <paramref name="rows"/> event-shaped rows.</summary>
    public static async Task<double> CopyRowsPerSecondAsync(NpgsqlDataSource dataSource, EventRow row, int rows)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        var at = DateTime.UtcNow;
        var watch = Stopwatch.StartNew();
        await using (var copy = await connection.BeginBinaryImportAsync(
                         $"copy {Table} (stream_id, version, type, data, metadata, recorded_at) from stdin (format binary)"))
        {
            for (var i = 0; i < rows; i++)
            {
                await copy.StartRowAsync();
                await copy.WriteAsync(Guid.NewGuid(), NpgsqlDbType.Uuid);
                await copy.WriteAsync(1, NpgsqlDbType.Integer);
                await copy.WriteAsync(row.Type, NpgsqlDbType.Text);
                await copy.WriteAsync(row.Data, NpgsqlDbType.Jsonb);
                await copy.WriteAsync(row.Metadata, NpgsqlDbType.Jsonb);
                await copy.WriteAsync(at, NpgsqlDbType.TimestampTz);
            }
            await copy.CompleteAsync();
        }
        return rows / watch.Elapsed.TotalSeconds;
    }

    /// <summary>Milliseconds of a plain <c>select count(*) from mt_events</c>: the median of three.</summary>
    public static async Task<double> CountMsAsync(NpgsqlDataSource dataSource)
    {
        var times = new List<double>();
        for (var i = 0; i < 3; i++)
        {
            var watch = Stopwatch.StartNew();
            await BenchServer.ScalarAsync<long>(dataSource, "select count(*) from mt_events");
            times.Add(watch.Elapsed.TotalMilliseconds);
        }
        return new Latencies(times).P50;
    }

    /// <summary>Rows per second of a sequential read of every event's data.</summary>
    public static async Task<double> SequentialReadRowsPerSecondAsync(NpgsqlDataSource dataSource)
    {
        var watch = Stopwatch.StartNew();
        await using var cmd = dataSource.CreateCommand("select count(*), sum(length(data::text)) from mt_events");
        cmd.CommandTimeout = 0;
        await using var reader = await cmd.ExecuteReaderAsync();
        await reader.ReadAsync();
        var rows = reader.GetInt64(0);
        return rows / watch.Elapsed.TotalSeconds;
    }
}
