using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Admin;
using CoordinationEvents.Api.Feed;
using CoordinationEvents.Api.Reports;
using CoordinationEvents.Api.Statistics;
using CoordinationEvents.Api.Auth;
using CoordinationEvents.Api.Http;
using CoordinationEvents.Api.Units;
using CoordinationEvents.EventStore;
using Microsoft.AspNetCore.Authentication;
using Npgsql;

namespace CoordinationEvents.Api;

/// <summary>Wiring only: every feature registers its services and maps its endpoints here.</summary>
public static class ServiceSetup
{
    public const string ConnectionStringName = "Events";

    public static WebApplicationBuilder AddCoordinationEvents(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(sp => CreateDataSource(sp.GetRequiredService<IConfiguration>().GetConnectionString(ConnectionStringName)
            ?? throw new InvalidOperationException(
                $"No connection string: set ConnectionStrings:{ConnectionStringName} (environment ConnectionStrings__{ConnectionStringName}). `make run` sets one up for you.")));
        services.AddSingleton(_ => ActivityEventTypes.Register(new EventTypeRegistry()));
        services.AddSingleton<ActivityReadModel>();
        services.AddSingleton(sp => new EventStore.EventStore(sp.GetRequiredService<NpgsqlDataSource>(),
            sp.GetRequiredService<EventTypeRegistry>(), [sp.GetRequiredService<ActivityReadModel>()]));
        services.AddSingleton<ActivityCommands>();
        services.AddSingleton<GroupCommit>();
        services.AddHostedService(sp => sp.GetRequiredService<GroupCommit>());
        services.AddSingleton<UnitDirectory>();

        services.AddSingleton<StatisticsProjection>();
        services.AddSingleton<StatisticsReader>();
        services.AddSingleton<IUnitMoveListener, StatisticsProjection.RebuildOnUnitMove>();
        services.AddSingleton<ConsistencyCheck>();
        services.AddSingleton<IEnumerable<IAsyncProjection>>(sp => [sp.GetRequiredService<StatisticsProjection>()]);
        services.AddSingleton(sp => new ProjectionDaemon(sp.GetRequiredService<EventStore.EventStore>(),
            sp.GetRequiredService<IEnumerable<IAsyncProjection>>(), logger: sp.GetRequiredService<ILogger<ProjectionDaemon>>()).Attach());
        services.AddHostedService<ProjectionHost>();

        services.Configure<ApiKeyOptions>(options =>
        {
            options.Keys.AddRange(builder.Configuration.GetSection("ApiKeys").Get<List<ApiKeyConfig>>() ?? []);
            if (builder.Environment.IsDevelopment()) options.Keys.AddRange(ApiKeyOptions.DevelopmentKeys());
        });
        services.AddAuthentication(ApiKeyHandler.SchemeName).AddScheme<AuthenticationSchemeOptions, ApiKeyHandler>(ApiKeyHandler.SchemeName, null);
        services.AddAuthorization(Policies.Add);

        services.AddProblemDetails();
        services.AddSingleton<IProblemDetailsWriter, FallbackProblemDetailsWriter>(); // after the default writer: whatever the Accept header
        services.AddExceptionHandler<ProblemExceptionHandler>();
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.CamelCase);
        services.AddEndpointsApiExplorer();
        services.AddSwagger();
        return builder;
    }

    /// <summary>
    /// Pool settings from perf-notes.md: no session reset on every return (30–40% of a short call) and
    /// automatic preparation of the statements that repeat. Explicit settings in the string win.
    /// </summary>
    public static NpgsqlDataSource CreateDataSource(string connectionString)
    {
        var csb = new NpgsqlConnectionStringBuilder(connectionString);
        var given = connectionString.ToLowerInvariant();
        if (!given.Contains("no reset on close")) csb.NoResetOnClose = true;
        if (!given.Contains("max auto prepare")) csb.MaxAutoPrepare = 50;
        if (!given.Contains("auto prepare min usages")) csb.AutoPrepareMinUsages = 2;
        if (!given.Contains("maximum pool size")) csb.MaxPoolSize = 64;
        return new NpgsqlDataSourceBuilder(csb.ConnectionString).Build();
    }

    /// <summary>Every table of the service: the event store's, then each feature's.</summary>
    public static IReadOnlyList<Migration> Migrations { get; } =
        [.. EventStoreSchema.Migrations, UnitDirectory.Schema, ActivityReadModel.Schema, StatisticsProjection.Schema];

    public static async Task MigrateAsync(this WebApplication app)
    {
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        await SchemaMigrator.MigrateAsync(db, Migrations);
        await ProjectionDaemon.EnsureRegisteredAsync(db, app.Services.GetRequiredService<IEnumerable<IAsyncProjection>>());
    }

    public static WebApplication UseCoordinationEvents(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseSwaggerUi();
        app.UseAuthentication();
        app.UseAuthorization();

        app.MapHealthEndpoints();
        app.MapActivityEndpoints();
        app.MapUnitEndpoints();
        app.MapStatisticsEndpoints();
        app.MapFeedEndpoints();
        app.MapAdminEndpoints();
        app.MapReportEndpoints();

        if (app.Environment.IsDevelopment())
            app.Lifetime.ApplicationStarted.Register(() =>
            {
                var urls = string.Join(", ", app.Urls);
                app.Logger.LogInformation(
                    "CoordinationEvents is up on {Urls}. Swagger UI: {Swagger}. Development keys: {Reporter} (reporter), {Analyst} (analyst), {Admin} (admin)",
                    urls, app.Urls.FirstOrDefault() + "/swagger", ApiKeyOptions.DevReporterKey, ApiKeyOptions.DevAnalystKey, ApiKeyOptions.DevAdminKey);
            });
        return app;
    }

    static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health/live", () => TypedResults.Ok(new { status = "live" })).WithTags("Health");
        app.MapGet("/health/ready", async (NpgsqlDataSource db, CancellationToken ct) =>
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
        }).WithTags("Health");
        return app;
    }
}

/// <summary>Runs the async projections for as long as the service runs.</summary>
public sealed class ProjectionHost(ProjectionDaemon daemon, IConfiguration configuration) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        configuration.GetValue("Projections:RunInBackground", true) ? daemon.RunAsync(stoppingToken) : Task.CompletedTask;
}
