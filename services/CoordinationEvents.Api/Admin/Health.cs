using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Statistics;
using Npgsql;
using Wolverine.Http;

namespace CoordinationEvents.Api.Admin;

/// <summary>The async daemon's part of readiness, on the instance that runs the projections.</summary>
/// <param name="RunsHere">Whether this instance runs the projections; only that one judges their lag.</param>
public sealed record ProjectionHealth(string Status, bool RunsHere, long? LagEvents, double? LagSeconds, double MaxLagSeconds);

/// <summary>The answer of <c>/health/ready</c>: <c>Healthy</c>, <c>Degraded</c> (200) or <c>Unhealthy</c> (503).</summary>
public sealed record ReadyResponse(string Status, string Database, ProjectionHealth? Projections, string? Detail = null);

/// <summary>
/// Liveness, and readiness: the database answers, and (on the instance whose daemon runs the projections, HotCold)
/// the statistics projection lags no more than <c>Health:MaxProjectionLagSeconds</c> (30 s by default). Past the
/// threshold the instance is <c>Degraded</c>: it still serves, its figures are late. Without the database it is
/// <c>Unhealthy</c>, a 503. An instance that stands by never judges the lag (the lag is not its to fix).
/// Marten's <c>AddMartenAsyncDaemonHealthCheck</c> judges every instance by the events behind; this judges the one
/// that runs the projection, in seconds, as an operator reads it.
/// </summary>
public static class HealthEndpoints
{
    public const string Healthy = "Healthy", Degraded = "Degraded", Unhealthy = "Unhealthy";

    [WolverineGet("/health/live", Name = "Live"), Tags("Health")]
    [EndpointSummary("Liveness: the process answers."), Microsoft.AspNetCore.Mvc.ProducesResponseType<HealthStatus>(200, "application/json")]
    public static IResult Live() => TypedResults.Ok(new { status = "live" });

    [WolverineGet("/health/ready", Name = "Ready"), Tags("Health")]
    [EndpointSummary("Readiness: Healthy or Degraded (the projection lags past Health:MaxProjectionLagSeconds) with 200; Unhealthy with 503 when the database does not answer."), Microsoft.AspNetCore.Mvc.ProducesResponseType<ReadyResponse>(200, "application/json"), Microsoft.AspNetCore.Mvc.ProducesResponseType<ReadyResponse>(503, "application/json")]
    public static async Task<IResult> Ready(NpgsqlDataSource db, StatisticsRebuild rebuild, IConfiguration configuration, CancellationToken ct)
    {
        var maxLag = configuration.GetValue("Health:MaxProjectionLagSeconds", 30.0);
        try
        {
            await using (var cmd = db.CreateCommand("select 1")) await cmd.ExecuteScalarAsync(ct);
            if (!rebuild.RunsHere())
                return Results.Ok(new ReadyResponse(Healthy, Healthy, new ProjectionHealth(Healthy, false, null, null, maxLag)));
            var lag = await ProjectionLag.ReadAsync(db, ct);
            // Judged on the figure it reports (to the millisecond), so a Degraded answer always shows a lag past the threshold.
            var seconds = Math.Round(lag.Seconds, 3);
            var status = seconds > maxLag ? Degraded : Healthy;
            return Results.Ok(new ReadyResponse(status, Healthy, new ProjectionHealth(status, true, lag.Events, seconds, maxLag),
                status == Degraded ? $"The statistics projection is {seconds:0.###} s behind (threshold {maxLag} s): figures are late." : null));
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            return Results.Json(new ReadyResponse(Unhealthy, Unhealthy, null, "The database does not answer."), statusCode: 503);
        }
    }
}
