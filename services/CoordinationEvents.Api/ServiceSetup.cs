using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Admin;
using CoordinationEvents.Api.Feed;
using CoordinationEvents.Api.Reports;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Imports;
using CoordinationEvents.Api.Keys;
using CoordinationEvents.Api.Statistics;
using CoordinationEvents.Api.Units;
using JasperFx.Events.Daemon;
using Marten;
using Microsoft.AspNetCore.Authentication;
using Npgsql;
using Wolverine;
using Wolverine.Http;
using Wolverine.Marten;

namespace CoordinationEvents.Api;

/// <summary>
/// The composition root, wiring only: the core's services, the event store with the settings the guarantees rest on,
/// and each feature's own wiring (<c>AddActivities</c>, <c>ActivitiesFeature.ConfigureStore</c> …). Endpoints are
/// found by Wolverine.
/// </summary>
public static class ServiceSetup
{
    public const string ConnectionStringName = "Events";

    public static WebApplicationBuilder AddCoordinationEvents(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        // Metrics at /metrics, OTLP when configured, JSON logs outside Development (Core/Telemetry.cs, README "Operations").
        builder.AddTelemetry();
        var telemetry = Telemetry.Enabled(builder.Configuration);
        services.AddSingleton(TimeProvider.System);
        // Memory given back once a load is over (Core/IdleMemory.cs, README "Memory").
        services.AddHostedService<IdleMemory>();
        services.AddSingleton(sp => CreateDataSource(sp.GetRequiredService<IConfiguration>().GetConnectionString(ConnectionStringName)
            ?? throw new InvalidOperationException(
                $"No connection string: set ConnectionStrings:{ConnectionStringName} (environment ConnectionStrings__{ConnectionStringName}). `make run` sets one up for you.")));
        // Swagger first: the features' own operation filters (examples, parameters) run after the core's request bodies.
        services.AddSwagger();
        services.AddActivities();
        services.AddUnits();
        services.AddStatistics();
        services.AddImports();
        services.AddReports();
        services.AddFeed();
        services.AddAdmin();
        services.AddKeys();

        var runProjections = builder.Configuration.GetValue("Projections:RunInBackground", true);
        services.AddMarten(sp =>
            {
                var options = EventStoreOptions(sp.GetRequiredService<StatisticsProjection>(), telemetry);
                // A client's race (a duplicate stream, a concurrency conflict) is a 200/409/412, not an error log.
                options.Logger(new ClientConflictLogging(sp.GetRequiredService<ILoggerFactory>().CreateLogger<IDocumentStore>()));
                return options;
            })
            .UseNpgsqlDataSource()
            .ApplyAllDatabaseChangesOnStartup()
            .InitializeWith<UnitSeedData>()
            // HotCold: every instance runs a daemon, exactly one holds the projections' lock and runs them; the others stand by.
            .AddAsyncDaemon(runProjections ? DaemonMode.HotCold : DaemonMode.Disabled)
            // Wolverine's inbox, outbox and durable queues live in the same database, in Marten's transactions.
            .IntegrateWithWolverine();

        builder.Host.UseWolverine(options =>
        {
            options.Policies.AutoApplyTransactions();
            // Local messages (a unit moved, an import's next chunk) are stored with the transaction that sends them
            // and survive a restart.
            options.Policies.UseDurableLocalQueues();
            // Static: the handlers are generated ahead (`make codegen`, Internal/Generated) and compiled in; no Roslyn at
            // run time. Measured (Release, this machine): first 200 in 1.5–2.2 s and 155 MiB, against 2.4–2.5 s and 303 MiB
            // with Dynamic. A missing or stale handler fails the build, the tests and CI (run-tests.sh regenerates and diffs).
            options.CodeGeneration.TypeLoadMode = JasperFx.CodeGeneration.TypeLoadMode.Static;
        });
        services.AddWolverineHttp();

        services.Configure<ApiKeyOptions>(options =>
        {
            options.Keys.AddRange(builder.Configuration.GetSection("ApiKeys").Get<List<ApiKeyConfig>>() ?? []);
            if (builder.Environment.IsDevelopment()) options.Keys.AddRange(ApiKeyOptions.DevelopmentKeys());
        });
        services.AddSingleton<KeyDirectory>();
        services.AddAuthentication(ApiKeyHandler.SchemeName).AddScheme<AuthenticationSchemeOptions, ApiKeyHandler>(ApiKeyHandler.SchemeName, null);
        services.AddAuthorization(Policies.Add);
        services.AddRateLimits(builder.Configuration);

        services.AddProblemDetails();
        services.AddExpensiveReads();
        services.AddSingleton<IProblemDetailsWriter, FallbackProblemDetailsWriter>(); // after the default writer: whatever the Accept header
        services.AddExceptionHandler<ProblemExceptionHandler>();
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.CamelCase);
        services.AddEndpointsApiExplorer();
        return builder;
    }

    public const int MaxAutoPrepare = 64;

    /// <summary>
    /// Pool settings from perf-notes.md: no session reset on every return (30–40% of a short call), and automatic
    /// preparation of the statements used most (Marten's appends, the read model's upsert, the projection's), which
    /// halved PostgreSQL's CPU per posted activity (make bench: 0.38 → 0.21 ms; single POST at 32 clients 1,783 →
    /// 3,185/s, batches 3,818 → 5,924/s). It needs Npgsql 10.0.3 or later: before npgsql#6432 was fixed, a batch
    /// executed again on another connection (Marten retries a SaveChanges that hit a deadlock) answered "26000:
    /// prepared statement "_auto2" does not exist", a 500 for a request that did nothing wrong (seen in make bench
    /// with Npgsql 9.0.4; Infrastructure/DriverTests). Explicit settings in the string win.
    /// </summary>
    public static NpgsqlDataSource CreateDataSource(string connectionString)
    {
        var csb = new NpgsqlConnectionStringBuilder(connectionString);
        var given = connectionString.ToLowerInvariant();
        if (!given.Contains("no reset on close")) csb.NoResetOnClose = true;
        if (!given.Contains("maximum pool size")) csb.MaxPoolSize = 64;
        if (!given.Contains("max auto prepare")) csb.MaxAutoPrepare = MaxAutoPrepare;
        return new NpgsqlDataSourceBuilder(csb.ConnectionString).Build();
    }

    /// <summary>
    /// The event store (Marten), with every setting that the guarantees depend on:
    /// <list type="bullet">
    /// <item>Quick append (never Rich): the sequence number is taken inside the appending transaction, so the
    /// daemon's transaction evidence sees an in-flight append and never skips it (critter-stack.md).</item>
    /// <item>Transaction-evidence gap skipping stays on (the default), with no "skip despite live transactions"
    /// timeout: a gap is skipped only when no transaction can still fill it. The stale threshold is 1 s, so a
    /// rolled-back append holds the projections back about that long.</item>
    /// <item>A losing optimistic append fails on the stream's lock before it takes a sequence number, so a 412
    /// leaves no gap behind.</item>
    /// <item>Event type names are stable strings; metadata holds the client (a header) and the correlation id.</item>
    /// </list>
    /// </summary>
    public static StoreOptions EventStoreOptions(StatisticsProjection statistics, bool telemetry = false)
    {
        var options = new StoreOptions();
        options.UseSystemTextJsonForSerialization(Weasel.Core.EnumStorage.AsString, Weasel.Core.Casing.CamelCase, o => StoreJson.Configure(o));
        options.Events.AppendMode = JasperFx.Events.EventAppendMode.Quick;
        options.Events.UseExclusiveLockOnConcurrentAppends = true;
        options.Events.MetadataConfig.CorrelationIdEnabled = true;
        options.Events.MetadataConfig.HeadersEnabled = true;

        ActivitiesFeature.ConfigureStore(options);
        UnitsFeature.ConfigureStore(options);
        StatisticsFeature.ConfigureStore(options, statistics);
        ImportsFeature.ConfigureStore(options);
        KeysFeature.ConfigureStore(options);
        // Who changed keys and units (Core/AuditTrail): written by the Keys and Units features.
        options.Storage.ExtendedSchemaObjects.Add(AuditTrail.Table());
        // Which changes of the organisation have had their figures moved (written by Statistics, read by Units).
        options.Storage.ExtendedSchemaObjects.Add(OrganisationRestates.Table());

        if (telemetry) Telemetry.ConfigureStore(options);
        ReportsFeature.ConfigureStore(options);

        options.Projections.StaleSequenceThreshold = TimeSpan.FromSeconds(1);
        // How often the daemon looks for new events. Cadence only; it changes nothing of what is skipped or counted.
        // The high water agent waits the slow time after every poll that finds it caught up (no gap below the
        // newest committed event), and under steady load that is most polls. With 100 ms the lag p99 was 207-300 ms
        // under single posts, but each poll's batch held few events, and their cells merged little: PostgreSQL's cell
        // upsert cost 0.052-0.067 ms per posted activity. With 250 ms it is 0.033-0.039 ms, for a lag p99 of 407-507 ms
        // (make bench --ingest-only, nine runs against four). A poll is two index probes, four a second when idle.
        options.Projections.SlowPollingTime = options.Projections.FastPollingTime = TimeSpan.FromMilliseconds(250);

        return options;
    }

    public static WebApplication UseCoordinationEvents(this WebApplication app)
    {
        app.UseSecurityHeaders();
        app.UseTelemetry();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseSwaggerUi();
        app.UseDashboard();
        app.UseAuthentication();
        app.UseAuthorization();
        // The expensive reads' concurrency limit (Core/ExpensiveReads.cs): after authorization, so a caller without
        // a key is refused before it takes a permit. One UseRateLimiter serves every rate-limiter policy.
        app.UseRateLimiter();

        app.MapWolverineEndpoints(options =>
        {
            options.AddParameterHandlingStrategy<StrictJsonBodyStrategy>();
            options.AddPolicy<FluentValidationPolicy>();
            // `?limit=abc` is a 400 problem, not the default value.
            options.RejectUnparseableQueryValues = true;
        });

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
}
