using System.Security.Claims;
using CoordinationEvents.Api.Core;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Wolverine.Http;

namespace CoordinationEvents.Api.Catalog;

/// <summary>The caller's key as the service knows it.</summary>
/// <param name="Client">The client name configured for the key (the idempotency scope of externalId).</param>
/// <param name="Role"><c>reporter</c>, <c>analyst</c> or <c>admin</c>.</param>
/// <param name="Scope">A reporter's unit ids whose subtrees it may write (empty: every unit).</param>
public sealed record MeAnswer(string Client, string Role, IReadOnlyList<string> Scope);

/// <summary>
/// <c>GET /api/v1/me</c>: who the key belongs to and its role, so that a client (the dashboard) asks only for what the
/// role may read instead of finding out with a 403.
/// </summary>
public static class GetMe
{
    [WolverineGet("/api/v1/me", Name = "Me"), Authorize(Policy = Policies.ReadOwn), Tags("Catalog")]
    [EndpointSummary("The caller's client name, role (reporter, analyst, admin) and, for a reporter, its unit scope. Any valid key; an unknown key gets 401.")]
    public static Ok<MeAnswer> Get(ClaimsPrincipal user)
    {
        var caller = Caller.From(user);
        return TypedResults.Ok(new MeAnswer(caller.Client, caller.Role, caller.Scope));
    }
}
