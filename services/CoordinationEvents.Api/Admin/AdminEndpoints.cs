using CoordinationEvents.Api.Auth;
using CoordinationEvents.Api.Statistics;
using CoordinationEvents.EventStore;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace CoordinationEvents.Api.Admin;

public sealed record ProjectionsResponse(long Head, IReadOnlyList<ProjectionStatus> Projections);

public sealed record RebuildAccepted(string Name, string Status);

/// <summary>What administrators watch: projections, their lag, rebuilds and the consistency check.</summary>
public static class AdminEndpoints
{
    public static IEndpointRouteBuilder MapAdminEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/admin").WithTags("Admin").RequireAuthorization(Policies.Admin);
        group.MapGet("/projections", Projections)
            .WithSummary("Each projection's position (last applied event), the store's head, and the lag: events committed that it has not applied yet.");
        group.MapPost("/projections/{name}/rebuild", Rebuild)
            .WithSummary("Replays the projection from the start into fresh tables and swaps them in once caught up; the old figures are served until then.");
        group.MapGet("/verify", Verify)
            .WithSummary("Recomputes the statistics from the raw events and compares them with the projection at its position. Zero differences expected.");
        return app;
    }

    static async Task<Ok<ProjectionsResponse>> Projections(NpgsqlDataSource db, CancellationToken ct)
    {
        var (head, projections) = await ProjectionDaemon.StatusAsync(db, ct);
        return TypedResults.Ok(new ProjectionsResponse(head, projections));
    }

    static async Task<Results<Accepted<RebuildAccepted>, ProblemHttpResult>> Rebuild(
        string name, NpgsqlDataSource db, ProjectionDaemon daemon, CancellationToken ct)
    {
        if (!await ProjectionDaemon.RequestRebuildAsync(db, name, ct))
            return TypedResults.Problem($"There is no projection '{name}'. Known: {string.Join(", ", daemon.Projections.Select(p => p.Name))}.", statusCode: 404, title: "Not found");
        daemon.Nudge();
        return TypedResults.Accepted("/api/v1/admin/projections", new RebuildAccepted(name, "requested"));
    }

    static async Task<Ok<ConsistencyReport>> Verify(ConsistencyCheck check, CancellationToken ct) =>
        TypedResults.Ok(await check.RunAsync(ct));
}
