using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Core;
using JasperFx;
using Marten.Exceptions;
using Microsoft.AspNetCore.Http;

namespace CoordinationEvents.Api.Tests.Http;

/// <summary>
/// The Critter Stack's exceptions that reach our one problem-document handler, each mapped to the 4xx the
/// contract gives instead of the default 500 (critter-stack.md lists them). The HTTP tests show the common paths
/// (two racing corrections: one 412); these pin every mapping, including the ones a race rarely reaches.
/// </summary>
public sealed class ProblemMappingTests
{
    static int? StatusFor(Exception exception, string? ifMatch = null)
    {
        var http = new DefaultHttpContext();
        if (ifMatch is not null) http.Request.Headers.IfMatch = ifMatch;
        return ProblemExceptionHandler.MapFor(http, exception)?.Status;
    }

    [Fact]
    public void A_stale_IfMatch_is_412() =>
        Assert.Equal(412, StatusFor(new StaleVersionException(2)));

    [Fact]
    public void Martens_concurrency_check_at_commit_is_412_with_IfMatch_and_409_without() =>
        Assert.Equal((412, 409), (StatusFor(new ConcurrencyException("stream moved", null), "\"2\"")!.Value, StatusFor(new ConcurrencyException("stream moved", null))!.Value));

    [Fact]
    public void A_stream_started_twice_is_409() =>
        Assert.Equal(409, StatusFor(new ExistingStreamIdCollisionException(Guid.NewGuid(), typeof(Activity))));

    [Fact]
    public void A_document_written_twice_is_409() =>
        Assert.Equal(409, StatusFor(new DocumentAlreadyExistsException(new Exception("23505"), typeof(ActivityView), Guid.NewGuid())));

    [Fact]
    public void Unknown_and_retracted_activities_are_404_and_409()
    {
        Assert.Equal(404, StatusFor(new ActivityNotFoundException(Guid.NewGuid())));
        Assert.Equal(409, StatusFor(new ActivityRuleViolation("Activity retracted", "A retracted activity cannot be corrected.", 409)));
    }

    [Fact]
    public void Anything_else_is_not_mapped_and_stays_a_500() =>
        Assert.Null(StatusFor(new InvalidOperationException("a bug")));
}
