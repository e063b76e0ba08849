using CoordinationEvents.Api.Core;
using Npgsql;
using Wolverine.Http;

namespace CoordinationEvents.Api.Admin;

/// <summary>Liveness, and readiness: the database answers.</summary>
public static class HealthEndpoints
{
    [WolverineGet("/health/live", Name = "Live"), Tags("Health")]
    [EndpointSummary("Liveness: the process answers."), Microsoft.AspNetCore.Mvc.ProducesResponseType<HealthStatus>(200, "application/json")]
    public static IResult Live() => TypedResults.Ok(new { status = "live" });

    [WolverineGet("/health/ready", Name = "Ready"), Tags("Health")]
    [EndpointSummary("Readiness: the database answers (503 when it does not)."), Microsoft.AspNetCore.Mvc.ProducesResponseType<HealthStatus>(200, "application/json"), Microsoft.AspNetCore.Mvc.ProducesResponseType<Microsoft.AspNetCore.Mvc.ProblemDetails>(503, "application/problem+json")]
    public static async Task<IResult> Ready(NpgsqlDataSource db, CancellationToken ct)
    {
        try
        {
            await using var cmd = db.CreateCommand("select 1");
            await cmd.ExecuteScalarAsync(ct);
            return Results.Ok(new { status = "ready" });
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            return Results.Problem(statusCode: 503, title: "Not ready", detail: "The database does not answer.");
        }
    }
}
