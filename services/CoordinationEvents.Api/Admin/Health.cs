using Npgsql;
using Wolverine.Http;

namespace CoordinationEvents.Api.Admin;

/// <summary>Liveness, and readiness: the database answers.</summary>
public static class HealthEndpoints
{
    [WolverineGet("/health/live", Name = "Live"), Tags("Health")]
    public static IResult Live() => TypedResults.Ok(new { status = "live" });

    [WolverineGet("/health/ready", Name = "Ready"), Tags("Health")]
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
