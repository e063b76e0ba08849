using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace CoordinationEvents.Api.Core;

public static class Roles
{
    public const string Reporter = "reporter";
    public const string Analyst = "analyst";
    public const string Admin = "admin";
}

/// <summary>Who may do what. Admin may do everything.</summary>
public static class Policies
{
    public const string Record = "record";   // reporter, admin
    public const string Read = "read";       // analyst, admin
    public const string ReadOwn = "read-own"; // reporter, analyst, admin: one activity, for its ETag
    public const string Admin = "admin";

    public static void Add(Microsoft.AspNetCore.Authorization.AuthorizationOptions options)
    {
        options.AddPolicy(Record, p => p.RequireRole(Roles.Reporter, Roles.Admin));
        options.AddPolicy(Read, p => p.RequireRole(Roles.Analyst, Roles.Admin));
        options.AddPolicy(ReadOwn, p => p.RequireRole(Roles.Reporter, Roles.Analyst, Roles.Admin));
        options.AddPolicy(Admin, p => p.RequireRole(Roles.Admin));
    }
}

/// <summary>One configured key: only its SHA-256 is kept in configuration.</summary>
public sealed record ApiKeyConfig
{
    public string Client { get; init; } = "";
    public string Role { get; init; } = "";
    public string KeySha256 { get; init; } = "";
    /// <summary>Reporter only: unit ids whose subtrees it may write. Empty: every unit.</summary>
    public string[] Scope { get; init; } = [];
}

public sealed class ApiKeyOptions
{
    public List<ApiKeyConfig> Keys { get; } = [];

    public const string DevReporterKey = "dev-reporter-key";
    public const string DevAnalystKey = "dev-analyst-key";
    public const string DevAdminKey = "dev-admin-key";

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    (byte[] Hash, ApiKeyConfig Key)[]? hashes;

    /// <summary>
    /// The configured key whose hash is the hash of <paramref name="key"/>, or null. Every configured hash is compared
    /// in fixed time; a configured hash that is not 64 hex digits matches nothing. The hashes are decoded once, on the
    /// first call (the options are complete by then).
    /// </summary>
    public ApiKeyConfig? Find(string key)
    {
        hashes ??= Keys.Where(k => k.KeySha256.Length == 64 && k.KeySha256.All(char.IsAsciiHexDigit))
            .Select(k => (Convert.FromHexString(k.KeySha256), k)).ToArray();
        Span<byte> given = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(key), given);
        ApiKeyConfig? found = null;
        foreach (var (hash, config) in hashes)
            if (CryptographicOperations.FixedTimeEquals(hash, given)) found ??= config;
        return found;
    }

    /// <summary>The fixed keys of the Development environment, and only of it.</summary>
    public static IEnumerable<ApiKeyConfig> DevelopmentKeys() =>
    [
        new() { Client = "dev-reporter", Role = Roles.Reporter, KeySha256 = Hash(DevReporterKey) },
        new() { Client = "dev-analyst", Role = Roles.Analyst, KeySha256 = Hash(DevAnalystKey) },
        new() { Client = "dev-admin", Role = Roles.Admin, KeySha256 = Hash(DevAdminKey) },
    ];
}

/// <summary>The caller, as the endpoints see it.</summary>
public sealed record Caller(string Client, string Role, IReadOnlyList<string> Scope)
{
    public const string ScopeClaim = "ce:scope";

    public static Caller From(ClaimsPrincipal user) => new(
        user.Identity?.Name ?? "",
        user.FindFirstValue(ClaimTypes.Role) ?? "",
        user.FindAll(ScopeClaim).Select(c => c.Value).ToArray());

    /// <summary>Reporters with a scope are limited to those subtrees; everyone else who may write, is not.</summary>
    public bool IsScoped => Role == Roles.Reporter && Scope.Count > 0;

    /// <summary>
    /// Whether this caller may write (or read one record) of <paramref name="unitId"/> dated <paramref name="day"/>
    /// (organisation.md, "Reporter scope"): judged on that day's tree, so a key scoped to a district may backfill its
    /// old communes for the years it held them, and covers nothing of the units that follow it. A unit that did not
    /// exist on the day (an activity accepted before a reorganisation recorded late) is judged as it was on its
    /// nearest day, and also by where the activity counts (<see cref="UnitHistory.HoldersOn"/>): the key that wrote it
    /// may still correct or retract it.
    /// </summary>
    public bool MayWrite(UnitHistory history, string unitId, DateOnly day)
    {
        if (!IsScoped) return true;
        var on = history.Life(unitId) is { } life ? life.Clamp(day) : day;
        var within = history.TreeOn(on).SelfAndAncestors(unitId);
        if (on != day) within = within.Concat(history.HoldersOn(unitId, day));
        var units = within.ToHashSet(StringComparer.Ordinal);
        return Scope.Any(units.Contains);
    }

    public static string OutOfScope(string unitId) => $"Unit '{unitId}' is outside the units this API key may write.";

    public static string OutOfScope(string unitId, DateOnly day) =>
        $"Unit '{unitId}' on {VietnamCalendar.Iso(day)} is outside the units this API key may write (a scope covers the units under its own on each day).";

    /// <summary>A 403 unless this caller may write <paramref name="unitId"/> on <paramref name="day"/> (the history is fetched only for a scoped caller).</summary>
    public async Task DemandScopeAsync(UnitDirectory units, string unitId, DateOnly day, CancellationToken ct)
    {
        if (!IsScoped) return;
        if (!MayWrite(await units.GetKnowingAsync([unitId], ct), unitId, day)) throw new ProblemException(403, "Forbidden", OutOfScope(unitId, day));
    }

    /// <summary>
    /// A 403 unless this caller may write <paramref name="unitId"/> as it is today, or as it last was if it has ended
    /// (for a caller that knows no date; one that knows the activity's date passes it).
    /// </summary>
    public async Task DemandScopeAsync(UnitDirectory units, string unitId, CancellationToken ct)
    {
        if (!IsScoped) return;
        var history = await units.GetKnowingAsync([unitId], ct);
        if (!MayWrite(history, unitId, history.Today)) throw new ProblemException(403, "Forbidden", OutOfScope(unitId));
    }
}

/// <summary>
/// X-Api-Key authentication: the key's hash is looked up among the configured ones. Missing or unknown: 401.
/// Known but not allowed: 403. Both as problem documents.
/// </summary>
public sealed class ApiKeyHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, IOptions<ApiKeyOptions> keys,
    KeyDirectory stored)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string Header = "X-Api-Key";

    /// <summary>Configured keys first (no database), then the keys made at run time (<see cref="KeyDirectory"/>).</summary>
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(Header, out var values) || string.IsNullOrEmpty(values.ToString()))
            return AuthenticateResult.NoResult();
        var secret = values.ToString();
        string keyId;
        var key = keys.Value.Find(secret);
        if (key is not null) keyId = "config:" + key.Client;
        else if (await stored.FindAsync(secret, Context.RequestAborted) is { } found) (keyId, key) = (found.KeyId, found.Key);
        else return AuthenticateResult.Fail("Unknown API key.");

        var claims = new List<Claim> { new(ClaimTypes.Name, key.Client), new(ClaimTypes.Role, key.Role), new(RateLimits.KeyClaim, keyId) };
        claims.AddRange(key.Scope.Select(s => new Claim(Caller.ScopeClaim, s)));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        WriteProblem(401, "Unauthorized", $"Send a valid API key in the {Header} header.");

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WriteProblem(403, "Forbidden", "This API key's role does not allow this call.");

    Task WriteProblem(int status, string title, string detail)
    {
        Response.StatusCode = status;
        return Response.WriteAsJsonAsync(new ProblemDetails { Status = status, Title = title, Detail = detail },
            options: null, contentType: "application/problem+json");
    }
}
