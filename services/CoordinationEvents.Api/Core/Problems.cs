using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace CoordinationEvents.Api.Core;

/// <summary>Input that is wrong, by field: always a 400 problem document, and nothing is stored.</summary>
public sealed class InputException(IReadOnlyDictionary<string, string[]> errors, string? detail = null)
    : Exception(detail ?? "The request has invalid fields.")
{
    public IReadOnlyDictionary<string, string[]> Errors { get; } = errors;

    public static InputException For(string field, string message) => new(new Dictionary<string, string[]> { [field] = [message] });
}

/// <summary>
/// Any other client error with its status (403, 404, 409, 412, 413, 415, 422, 428). Domain errors derive from it
/// (an unknown activity is a 404, a rule violation a 409 or 422), so this one mapping serves every feature.
/// </summary>
public class ProblemException(int status, string title, string detail) : Exception(detail)
{
    public int Status { get; } = status;
    public string Title { get; } = title;
}

/// <summary>
/// Every error becomes an RFC 9457 problem document here, in one place: a user's mistake is a 4xx with
/// the reason, never a 500.
/// </summary>
public sealed class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> log) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken ct)
    {
        var problem = MapFor(context, exception);
        if (problem is null)
        {
            log.LogError(exception, "Unhandled error on {Method} {Path}", context.Request.Method, context.Request.Path);
            return false; // the default handler writes a 500 problem without internals
        }
        context.Response.StatusCode = problem.Status!.Value;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem, Exception = exception });
    }

    /// <summary>Every mapping: those of <see cref="Map"/>, then those that depend on the request.</summary>
    public static ProblemDetails? MapFor(HttpContext context, Exception exception) => Map(exception) ?? exception switch
    {
        // No activity has the nil id (ids are name-based UUIDs), but Marten's FetchForWriting refuses to look for it.
        // (The exception handler has cleared the route values; its feature keeps them.)
        ArgumentOutOfRangeException when context.Features.Get<IExceptionHandlerFeature>()?.RouteValues?["activityId"]?.ToString() is { } id
                                         && Guid.TryParse(id, out var guid) && guid == Guid.Empty =>
            new ProblemDetails { Status = 404, Title = "Not found", Detail = $"Activity {Guid.Empty} does not exist." },
        // Marten's check at commit: another write came between this request's read of the stream and its append.
        // With If-Match that is a failed precondition; without one, a conflict the client may simply retry.
        JasperFx.ConcurrencyException => context.Request.Headers.IfMatch.Count > 0
            ? new ProblemDetails { Status = 412, Title = "Precondition failed", Detail = "The activity changed while this request was being handled: read it again and resend with its new ETag." }
            : new ProblemDetails { Status = 409, Title = "Conflict", Detail = "The activity changed while this request was being handled: send the request again." },
        _ => null,
    };

    public static ProblemDetails? Map(Exception exception) => exception switch
    {
        InputException e => Validation(e.Errors, e.Message),
        ProblemException e => new ProblemDetails { Status = e.Status, Title = e.Title, Detail = e.Message },
        // Both are handled where they arise (a racing first post finds the stream its rival started); reaching
        // here means the retries ran out under a storm of identical posts: the client may simply retry.
        Marten.Exceptions.ExistingStreamIdCollisionException or JasperFx.DocumentAlreadyExistsException => new ProblemDetails
        {
            Status = 409, Title = "Conflict", Detail = "Another request wrote the same record at the same moment; send it again.",
        },
        BadHttpRequestException { StatusCode: 413 } => new ProblemDetails { Status = 413, Title = "Payload too large", Detail = "The request body is larger than this endpoint accepts." },
        BadHttpRequestException { InnerException: JsonException j } => Validation(JsonInput.ErrorsOf(j), "The request body is not valid JSON for this endpoint."),
        BadHttpRequestException e => new ProblemDetails { Status = e.StatusCode, Title = "Bad request", Detail = e.Message },
        _ => null,
    };

    public static ProblemDetails Validation(IReadOnlyDictionary<string, string[]> errors, string? detail = null) =>
        new HttpValidationProblemDetails(errors.ToDictionary(e => e.Key, e => e.Value))
        {
            Status = 400, Title = "One or more fields are invalid.", Detail = detail,
        };
}

/// <summary>
/// The last of the problem writers: ASP.NET's default one writes only when the request's Accept header admits
/// JSON, so a client asking for <c>text/csv</c> or <c>text/markdown</c> got an error status with an empty body.
/// Registered after <c>AddProblemDetails</c>, this one writes the same document whatever the Accept header says.
/// </summary>
public sealed class FallbackProblemDetailsWriter(IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json) : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context) => true;

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var http = context.HttpContext;
        var problem = context.ProblemDetails;
        problem.Status ??= http.Response.StatusCode;
        problem.Extensions.TryAdd("traceId", System.Diagnostics.Activity.Current?.Id ?? http.TraceIdentifier);
        return new ValueTask(http.Response.WriteAsJsonAsync(problem, problem.GetType(), json.Value.SerializerOptions, "application/problem+json", http.RequestAborted));
    }
}
