using System.Globalization;

namespace CoordinationEvents.Api.Core;

/// <summary>The headers of the contract that more than one use case reads or writes: correlation ids and versions.</summary>
public static class RequestHeaders
{
    public const string CorrelationIdHeader = "X-Correlation-Id";

    /// <summary>
    /// The request's correlation id, stored with each event it writes: the client's <c>X-Correlation-Id</c> when it is
    /// 1 to 200 characters of storable text, otherwise <paramref name="fallback"/> (by default the request's trace identifier).
    /// </summary>
    public static string CorrelationId(HttpContext http, string? fallback = null) =>
        http.Request.Headers[CorrelationIdHeader].ToString() is { Length: > 0 and <= 200 } given && Text.IsStorable(given)
            ? given
            : fallback ?? http.TraceIdentifier;

    /// <summary>The version in <c>If-Match</c> (<c>"3"</c>, <c>W/"3"</c> or <c>3</c>); null without the header; a 400 for anything else.</summary>
    public static int? IfMatchVersion(HttpContext http)
    {
        var header = http.Request.Headers.IfMatch.ToString();
        if (string.IsNullOrWhiteSpace(header)) return null;
        var value = header.Trim();
        if (value.StartsWith("W/", StringComparison.Ordinal)) value = value[2..];
        value = value.Trim('"');
        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var version) && version > 0
            ? version
            : throw InputException.For("If-Match", "If-Match must be the ETag of the version you read, such as \"3\".");
    }

    /// <summary>The ETag of a version.</summary>
    public static string ETag(int version) => $"\"{version}\"";
}
