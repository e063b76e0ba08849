using System.Text.Json;
using CoordinationEvents.Api.Activities;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace CoordinationEvents.Api.Http;

/// <summary>Input that is wrong, by field: always a 400 problem document, and nothing is stored.</summary>
public sealed class InputException(IReadOnlyDictionary<string, string[]> errors, string? detail = null)
    : Exception(detail ?? "The request has invalid fields.")
{
    public IReadOnlyDictionary<string, string[]> Errors { get; } = errors;

    public static InputException For(string field, string message) => new(new Dictionary<string, string[]> { [field] = [message] });
}

/// <summary>Any other client error with its status (404, 409, 412, 413, 415, 422, 428).</summary>
public sealed class ProblemException(int status, string title, string detail) : Exception(detail)
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
        var problem = Map(exception);
        if (problem is null)
        {
            log.LogError(exception, "Unhandled error on {Method} {Path}", context.Request.Method, context.Request.Path);
            return false; // the default handler writes a 500 problem without internals
        }
        context.Response.StatusCode = problem.Status!.Value;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem, Exception = exception });
    }

    public static ProblemDetails? Map(Exception exception) => exception switch
    {
        InputException e => Validation(e.Errors, e.Message),
        ProblemException e => new ProblemDetails { Status = e.Status, Title = e.Title, Detail = e.Message },
        ActivityNotFoundException e => new ProblemDetails { Status = 404, Title = "Not found", Detail = e.Message },
        ActivityRuleViolation e => new ProblemDetails { Status = e.Status, Title = e.Title, Detail = e.Message },
        StaleVersionException e => new ProblemDetails
        {
            Status = 412, Title = "Precondition failed",
            Detail = $"The activity is no longer at version {e.Expected}: read it again and resend the correction with its new ETag.",
        },
        // Marten's optimistic check at commit: another write came between this request's read and its append.
        JasperFx.ConcurrencyException => new ProblemDetails
        {
            Status = 412, Title = "Precondition failed",
            Detail = "The activity changed while this request was being handled: read it again and resend with its new ETag.",
        },
        // Both are handled where they arise (a racing first post finds the stream its rival started); reaching
        // here means the retries ran out under a storm of identical posts: the client may simply retry.
        Marten.Exceptions.ExistingStreamIdCollisionException or JasperFx.DocumentAlreadyExistsException => new ProblemDetails
        {
            Status = 409, Title = "Conflict", Detail = "Another request wrote the same record at the same moment; send it again.",
        },
        BadHttpRequestException { StatusCode: 413 } => new ProblemDetails { Status = 413, Title = "Payload too large", Detail = "The request body is larger than this endpoint accepts." },
        BadHttpRequestException { InnerException: JsonException j } => Validation(JsonBody.ErrorsOf(j), "The request body is not valid JSON for this endpoint."),
        BadHttpRequestException e => new ProblemDetails { Status = e.StatusCode, Title = "Bad request", Detail = e.Message },
        _ => null,
    };

    public static ProblemDetails Validation(IReadOnlyDictionary<string, string[]> errors, string? detail = null) =>
        new HttpValidationProblemDetails(errors.ToDictionary(e => e.Key, e => e.Value))
        {
            Status = 400, Title = "One or more fields are invalid.", Detail = detail,
        };
}
