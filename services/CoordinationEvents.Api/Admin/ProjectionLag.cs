using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Statistics;
using Npgsql;

namespace CoordinationEvents.Api.Admin;

/// <summary>
/// The statistics projection's lag, in events and in seconds, as <c>GET /api/v1/admin/projections</c> counts it: the
/// committed events after the projection's position (at most 1,000,000), and the age of the oldest of them. Two
/// probes of <c>mt_events</c>' primary key from the position on, and a bounded count.
/// </summary>
public static class ProjectionLag
{
    public static async Task<ProjectionLagReading> ReadAsync(NpgsqlDataSource db, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            select (select count(*) from (select from mt_events e where e.seq_id > p.pos limit 1000000) behind),
                   coalesce(extract(epoch from now() - (select e.timestamp from mt_events e where e.seq_id > p.pos order by e.seq_id limit 1)), 0)::float8
            from (select coalesce((select last_seq_id from mt_event_progression where name = $1), 0) as pos) p
            """);
        cmd.Parameters.AddWithValue(StatisticsProjection.ShardName);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return new ProjectionLagReading(StatisticsProjection.ProjectionName, reader.GetInt64(0), Math.Max(0, reader.GetDouble(1)), DateTimeOffset.UtcNow);
    }
}

/// <summary>
/// Reads the lag every <c>Metrics:LagIntervalSeconds</c> (5 by default) on the instance whose daemon runs the
/// projections (<see cref="StatisticsRebuild.RunsHere"/>), for the gauges of <see cref="Telemetry"/>; an instance that
/// stands by reports none. A scrape reads the cached figure, never the database.
/// </summary>
public sealed class ProjectionLagMonitor(NpgsqlDataSource db, StatisticsRebuild rebuild, IConfiguration configuration,
    ILogger<ProjectionLagMonitor> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromSeconds(Math.Max(0.1, configuration.GetValue("Metrics:LagIntervalSeconds", 5.0)));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                Telemetry.ProjectionLag = rebuild.RunsHere() ? await ProjectionLag.ReadAsync(db, stoppingToken) : null;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                Telemetry.ProjectionLag = null;
                log.LogWarning("The projection lag could not be read: {Reason}", e.Message);
            }
            try
            {
                await Task.Delay(interval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        Telemetry.ProjectionLag = null;
    }
}
