using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Tests.Infrastructure;

namespace CoordinationEvents.Api.Tests.Security;

/// <summary>The security headers of api.md: nosniff on every answer; CSP, frame-ancestors and Referrer-Policy on pages.</summary>
public sealed class SecurityHeadersTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values)
        : response.Content.Headers.TryGetValues(name, out var content) ? string.Join(",", content) : null;

    static void AssertPageHeaders(HttpResponseMessage response, bool swagger)
    {
        Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
        var csp = Header(response, "Content-Security-Policy");
        Assert.NotNull(csp);
        Assert.Contains("script-src 'self'", csp);
        Assert.Contains(swagger ? "style-src 'self' 'unsafe-inline';" : "style-src 'self';", csp);
        Assert.Contains("frame-ancestors 'none'", csp);
        Assert.DoesNotContain("script-src 'self' 'unsafe-inline'", csp);
        Assert.DoesNotContain("unsafe-eval", csp);
        Assert.Equal("no-referrer", Header(response, "Referrer-Policy"));
    }

    [Theory]
    [InlineData("/dashboard")]
    [InlineData("/dashboard/dashboard.js")]
    [InlineData("/swagger/index.html")]
    [InlineData("/swagger/index.js")]
    public async Task Pages_carry_the_policy_nosniff_and_a_referrer_policy(string path)
    {
        using var client = api.Client(null);
        using var response = await client.GetAsync(path);
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode}");
        AssertPageHeaders(response, swagger: path.StartsWith("/swagger", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Swagger_UI_has_no_inline_script_so_the_policy_lets_it_run()
    {
        using var client = api.Client(null);
        var html = await client.GetStringAsync("/swagger/index.html");
        Assert.DoesNotMatch(@"<script(?![^>]*\bsrc=)[^>]*>", html);
        Assert.DoesNotContain(" on", System.Text.RegularExpressions.Regex.Replace(html, "<script[^>]*>|<link[^>]*>", ""), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_JSON_answer_a_problem_and_a_401_carry_nosniff_and_no_page_policy()
    {
        using var analyst = api.Analyst;
        using var json = await analyst.GetAsync("/api/v1/catalog");
        Assert.Equal(System.Net.HttpStatusCode.OK, json.StatusCode);
        Assert.Equal("application/json", json.Content.Headers.ContentType?.MediaType);
        Assert.Equal("nosniff", Header(json, "X-Content-Type-Options"));
        Assert.Null(Header(json, "Content-Security-Policy"));

        using var missing = await analyst.GetAsync("/api/v1/units/nowhere");
        await missing.AssertProblemAsync(404);
        Assert.Equal("nosniff", Header(missing, "X-Content-Type-Options"));

        using var anonymous = api.Client(null);
        using var unauthorized = await anonymous.GetAsync("/api/v1/catalog");
        await unauthorized.AssertProblemAsync(401);
        Assert.Equal("nosniff", Header(unauthorized, "X-Content-Type-Options"));

        using var wrong = api.Client(ApiKeyOptions.DevReporterKey);
        using var forbidden = await wrong.GetAsync("/api/v1/admin/keys");
        await forbidden.AssertProblemAsync(403);
        Assert.Equal("nosniff", Header(forbidden, "X-Content-Type-Options"));
    }
}
