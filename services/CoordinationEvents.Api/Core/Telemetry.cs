using System.Diagnostics;
using System.Diagnostics.Metrics;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace CoordinationEvents.Api.Core;

/// <summary>The projection lag as last read on the instance that runs the projections.</summary>
/// <param name="Events">Committed events after the projection's position (at most 1,000,000 are counted).</param>
/// <param name="Seconds">Age of the oldest committed event the projection has not applied; 0 when caught up.</param>
public sealed record ProjectionLagReading(string Projection, long Events, double Seconds, DateTimeOffset ReadAt);

/// <summary>
/// The service's own metrics, and the OpenTelemetry wiring (README, "Operations"): OpenTelemetry's SDK with the
/// instrumentation the stack already emits (ASP.NET Core, the runtime, Npgsql, Marten, Wolverine) and the meter
/// below, served at <c>/metrics</c> in Prometheus' text format (on the main port, or on <c>Metrics:Port</c>), and
/// exported over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set. <c>Telemetry:Enabled=false</c> turns it all
/// off (the benchmark measures its cost that way).
/// <para>
/// The instruments are static, as <see cref="Meter"/>s usually are: the features record into them where the thing
/// really happened (after the commit), and every meter provider of the process reads them.
/// </para>
/// </summary>
public static class Telemetry
{
    public const string Name = "CoordinationEvents";
    public const string CorrelationTag = "correlation.id";

    public static readonly Meter Meter = new(Name, "1.0");

    /// <summary>Activities stored (after the commit), by kind and posting client: every path (single post, batch, import).</summary>
    public static readonly Counter<long> ActivitiesRecorded = Meter.CreateCounter<long>("coordination.activities.recorded", null,
        "Activities stored (committed), by kind and posting client");

    /// <summary>Corrections stored, by kind (after the correction) and client.</summary>
    public static readonly Counter<long> ActivitiesCorrected = Meter.CreateCounter<long>("coordination.activities.corrected", null,
        "Corrections stored (committed), by kind and client");

    /// <summary>Retractions stored, by client.</summary>
    public static readonly Counter<long> ActivitiesRetracted = Meter.CreateCounter<long>("coordination.activities.retracted", null,
        "Retractions stored (committed), by client");

    /// <summary>Import lines handled (after the chunk's commit), by outcome: created, duplicate, invalid, conflict.</summary>
    public static readonly Counter<long> ImportLines = Meter.CreateCounter<long>("coordination.import.lines", null,
        "NDJSON import lines recorded, by outcome (created, duplicate, invalid, conflict)");

    /// <summary>Review reports issued, by format. Ready for the report endpoint to record into.</summary>
    public static readonly Counter<long> ReportsIssued = Meter.CreateCounter<long>("coordination.reports.issued", null,
        "Review reports issued, by format");

    static ProjectionLagReading? lag;

    /// <summary>
    /// The latest lag reading, set by the instance that runs the projections (Admin's lag monitor), null elsewhere:
    /// the lag gauges report nothing on an instance that stands by.
    /// </summary>
    public static ProjectionLagReading? ProjectionLag
    {
        get => Volatile.Read(ref lag);
        set => Volatile.Write(ref lag, value);
    }

    static readonly ObservableGauge<long> LagEvents = Meter.CreateObservableGauge("coordination.projection.lag.events",
        () => ProjectionLag is { } l ? [new Measurement<long>(l.Events, new KeyValuePair<string, object?>("projection", l.Projection))] : Array.Empty<Measurement<long>>(),
        null, "Committed events the async projection has not applied yet (only the instance that runs the projections reports it)");

    static readonly ObservableGauge<double> LagSeconds = Meter.CreateObservableGauge("coordination.projection.lag.seconds",
        () => ProjectionLag is { } l ? [new Measurement<double>(l.Seconds, new KeyValuePair<string, object?>("projection", l.Projection))] : Array.Empty<Measurement<double>>(),
        null, "Age in seconds of the oldest committed event the async projection has not applied (0 when caught up)");

    public static bool Enabled(IConfiguration configuration) => configuration.GetValue("Telemetry:Enabled", true);

    /// <summary>Metrics (and traces when an OTLP endpoint is set), the correlation id on each request's span, and the JSON logs.</summary>
    public static WebApplicationBuilder AddTelemetry(this WebApplicationBuilder builder)
    {
        // Logs: JSON lines on standard output outside Development, each with its trace and span ids (ActivityTrackingOptions
        // puts them in the scope, which the JSON formatter writes).
        builder.Logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        if (!builder.Environment.IsDevelopment())
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddJsonConsole(o =>
            {
                o.IncludeScopes = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            });
        }

        if (!Enabled(builder.Configuration)) return builder;

        if (builder.Configuration.GetValue<int?>("Metrics:Port") is { } metricsPort)
        {
            // Kestrel listens on the configured URLs plus the metrics port (the configured URLs would be ignored if
            // Kestrel were given an endpoint in code).
            var urls = builder.Configuration["urls"] is { Length: > 0 } configured ? configured : "http://localhost:5000";
            builder.WebHost.UseUrls($"{urls};http://*:{metricsPort}");
        }

        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(builder.Configuration["OTEL_SERVICE_NAME"] ?? "coordination-events"))
            .WithMetrics(metrics =>
            {
                metrics.AddAspNetCoreInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddMeter("Npgsql")
                    .AddMeter("Marten")
                    // Wolverine names its meter "Wolverine:{ServiceName}".
                    .AddMeter("Wolverine:*", "Wolverine")
                    .AddMeter(Name)
                    .AddPrometheusExporter();
            });
        if (otlp)
        {
            // Traces only when they go somewhere: a span per request, handler, session and statement costs.
            otel.WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation()
                .AddNpgsql()
                .AddSource("Marten")
                .AddSource("Wolverine")
                .AddSource(Name));
            otel.UseOtlpExporter();
        }
        return builder;
    }

    /// <summary>Marten's own metrics and spans: appends by event type, the daemon's progress and gaps.</summary>
    public static void ConfigureStore(Marten.StoreOptions options)
    {
        options.OpenTelemetry.TrackEventCounters();
    }

    /// <summary><c>/metrics</c> (on <c>Metrics:Port</c> only, when set), and the correlation id on each request's span.</summary>
    public static WebApplication UseTelemetry(this WebApplication app)
    {
        if (!Enabled(app.Configuration)) return app;
        app.Use((http, next) =>
        {
            if (Activity.Current is { } span) span.SetTag(CorrelationTag, RequestHeaders.CorrelationId(http));
            return next(http);
        });
        var endpoint = app.MapPrometheusScrapingEndpoint("/metrics");
        if (app.Configuration.GetValue<int?>("Metrics:Port") is { } port) endpoint.RequireHost($"*:{port}");
        return app;
    }
}
