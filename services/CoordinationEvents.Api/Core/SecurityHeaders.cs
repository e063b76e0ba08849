namespace CoordinationEvents.Api.Core;

/// <summary>
/// The security headers of api.md ("Running it in production"), set when each answer starts, so they are on every
/// answer whoever wrote it (an endpoint, the static files, a problem from the exception handler, a 401 from the
/// authentication handler, a 429 from the rate limiter):
/// <list type="bullet">
/// <item><c>X-Content-Type-Options: nosniff</c> on every answer: a browser never runs a JSON or CSV answer as a script
/// or a page.</item>
/// <item>On pages (the dashboard, Swagger UI, and any HTML answer) a <c>Content-Security-Policy</c> that allows only the
/// service's own scripts, styles, images and calls (no inline script, no eval, no other origin), with
/// <c>frame-ancestors 'none'</c> so that no other site frames the pages (clickjacking), and a <c>Referrer-Policy</c> so
/// that the dashboard's URL (its choices) is not sent to other sites.</item>
/// </list>
/// </summary>
public static class SecurityHeaders
{
    /// <summary>
    /// <c>img-src data:</c>: Swagger UI's stylesheet draws its icons as data: SVGs. Everything else is the service's own
    /// files; an API key never leaves the page except to the service itself (<c>connect-src 'self'</c>).
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; " +
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>
    /// Swagger UI's: the same, except that its React code sets style attributes (Chromium reports "Applying inline style
    /// violates … style-src"), which only <c>'unsafe-inline'</c> for styles allows. Scripts stay the service's own
    /// files; an inline style can neither run code nor send the key anywhere.
    /// </summary>
    public const string SwaggerContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; " +
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    public const string ReferrerPolicy = "no-referrer";

    /// <summary>The paths of the pages and their files (the dashboard's under /dashboard, Swagger UI's under /swagger).</summary>
    static readonly string[] PagePaths = ["/dashboard", "/swagger"];

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        context.Response.OnStarting(static state =>
        {
            var http = (HttpContext)state;
            var headers = http.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            if (IsPage(http))
            {
                headers.ContentSecurityPolicy = http.Request.Path.StartsWithSegments("/swagger", StringComparison.OrdinalIgnoreCase)
                    ? SwaggerContentSecurityPolicy : ContentSecurityPolicy;
                headers["Referrer-Policy"] = ReferrerPolicy;
            }
            return Task.CompletedTask;
        }, context);
        return next(context);
    });

    static bool IsPage(HttpContext http) =>
        PagePaths.Any(p => http.Request.Path.StartsWithSegments(p, StringComparison.OrdinalIgnoreCase))
        || http.Response.ContentType?.StartsWith("text/html", StringComparison.OrdinalIgnoreCase) == true;
}
