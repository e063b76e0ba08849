using CoordinationEvents.Api.Core;
using CoordinationEvents.Api;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Statistics;
using CoordinationEvents.Api.Units;
using CoordinationEvents.Contracts.V1;
using JasperFx;
using JasperFx.Events.Daemon;
using Marten;
using Wolverine;
using Wolverine.Http;
using Wolverine.Marten;

// The idiomatic peer of POST /api/v1/activities (issue 10): one Wolverine.Http endpoint, one Marten session and
// one transaction per request, no group commit. Same store options (ServiceSetup.EventStoreOptions: Quick append,
// the inline activity read model, the async statistics projection under a HotCold daemon), same pool settings,
// same validation (ActivityRules.Check) and the same deterministic stream id as the service. Left out: API
// keys and unit scopes (the bench's reporter key has no scope, so the service only reads the header), the strict
// body reader and problem documents; a duplicate externalId is not looked up (the bench posts only new ones: the
// stream's primary key would refuse it).
var builder = WebApplication.CreateBuilder(args);
var services = builder.Services;
services.AddSingleton(TimeProvider.System);
services.AddSingleton(sp => ServiceSetup.CreateDataSource(sp.GetRequiredService<IConfiguration>().GetConnectionString(ServiceSetup.ConnectionStringName)
    ?? throw new InvalidOperationException($"Set ConnectionStrings__{ServiceSetup.ConnectionStringName}.")));
services.AddSingleton<UnitDirectory>();
services.AddSingleton<StatisticsProjection>();
services.AddMarten(sp => ServiceSetup.EventStoreOptions(sp.GetRequiredService<StatisticsProjection>()))
    .UseNpgsqlDataSource()
    .ApplyAllDatabaseChangesOnStartup()
    .InitializeWith<UnitSeedData>()
    .AddAsyncDaemon(DaemonMode.HotCold)
    .IntegrateWithWolverine();
builder.Host.UseWolverine(options =>
{
    options.Policies.AutoApplyTransactions();
    options.CodeGeneration.TypeLoadMode = JasperFx.CodeGeneration.TypeLoadMode.Dynamic;
});
services.AddWolverineHttp();
services.ConfigureHttpJsonOptions(o => o.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.CamelCase);

var app = builder.Build();
app.MapWolverineEndpoints();
app.MapGet("/health/ready", () => Results.Ok(new { status = "ready" }));
return await app.RunJasperFxCommands(args);

/// <summary>The peer's one endpoint.</summary>
public static class PeerEndpoint
{
    [WolverinePost("/api/v1/activities")]
    public static async Task<IResult> Post(ActivityRequest request, HttpContext http, IDocumentSession session, UnitDirectory units, TimeProvider clock, CancellationToken ct)
    {
        var named = new[] { request.UnitId, request.Location?.CommuneId }.Concat(request.PartnerUnitIds ?? []);
        var tree = await units.GetKnowingAsync(named, ct);
        var outcome = ActivityRules.Check(request, tree, VietnamCalendar.Today(clock));
        if (!outcome.IsValid) return Results.ValidationProblem(outcome.Errors.ToDictionary(e => e.Key, e => e.Value));
        var content = outcome.Content!;
        const string client = "bench-peer";
        var id = ActivityIds.For(client, content.ExternalId);
        var events = Activity.Decide(new RecordActivity(id, client, content, clock.GetUtcNow()), Activity.Initial);
        session.Events.StartStream<ActivityView>(id, events.Select(e => ActivityEventTypes.Wrap(e, client, http.TraceIdentifier)).ToArray());
        await session.SaveChangesAsync(ct);
        return Results.Created($"/api/v1/activities/{id}", new ActivityWritten(id, events.Length));
    }
}
