using System.Buffers;
using System.Text.Json;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Serialization;

namespace CoordinationEvents.Api.Core;

/// <summary>
/// Reads JSON bodies with a size limit and strict rules (unknown fields are errors), turning every failure
/// into a field-named 400/413/415 instead of the framework's bare 400.
/// </summary>
public static class JsonInput
{
    public const int SingleLimit = 256 * 1024;
    public const int BatchLimit = 32 * 1024 * 1024;

    public static readonly JsonSerializerOptions Options = Create();

    /// <summary>The request bodies of this API and their size limits: read by <see cref="StrictJsonBodyStrategy"/>.</summary>
    public static readonly IReadOnlyDictionary<Type, int> Limits = new Dictionary<Type, int>
    {
        [typeof(Contracts.V1.ActivityRequest)] = SingleLimit,
        [typeof(Contracts.V1.BatchRequest)] = BatchLimit,
        [typeof(Contracts.V1.RetractionRequest)] = SingleLimit,
        [typeof(Contracts.V1.UnitRequest)] = SingleLimit,
        [typeof(Contracts.V1.ReorganisationRequest)] = 4 * 1024 * 1024,   // a country's reform: thousands of changes
        [typeof(Contracts.V1.KeyRequest)] = SingleLimit,
        [typeof(Contracts.V1.IssueReportRequest)] = SingleLimit,
    };

    /// <summary>The body of <paramref name="http"/> as a <typeparamref name="T"/>, read strictly (the endpoint's size limit applies).</summary>
    public static Task<T> ReadBodyAsync<T>(HttpContext http) => ReadAsync<T>(http.Request, Limits[typeof(T)], http.RequestAborted);

    static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            AllowDuplicateProperties = false,
            AllowTrailingCommas = false,
            ReadCommentHandling = JsonCommentHandling.Disallow,
        };
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    public static async Task<T> ReadAsync<T>(HttpRequest request, int maxBytes, CancellationToken ct)
    {
        if (request.ContentType is not { } type || !type.Contains("json", StringComparison.OrdinalIgnoreCase))
            throw new ProblemException(415, "Unsupported media type", "Send the body as application/json.");
        if (request.ContentLength > maxBytes) throw TooLarge(maxBytes);

        // A pooled buffer, sized by Content-Length when it is given: an activity is about 1 KiB, and a fresh 16 KiB
        // chunk per request was 3% of the service's CPU under load (zeroing it; make bench, perf).
        var buffer = ArrayPool<byte>.Shared.Rent(request.ContentLength is { } length ? (int)length + 1 : 4096);
        try
        {
            var filled = 0;
            int read;
            while ((read = await request.Body.ReadAsync(buffer.AsMemory(filled), ct)) > 0)
            {
                filled += read;
                if (filled > maxBytes) throw TooLarge(maxBytes);
                if (filled < buffer.Length) continue;
                var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, maxBytes + 1));
                buffer.AsSpan(0, filled).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = larger;
            }
            if (filled == 0) throw InputException.For(BodyKey, "The request body is empty; send a JSON object.");
            // Nothing read keeps a reference to the buffer: a JsonElement is parsed into a document of its own.
            return Deserialize<T>(buffer.AsSpan(0, filled));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public static T Deserialize<T>(ReadOnlySpan<byte> utf8)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(utf8, Options) ?? throw InputException.For(BodyKey, "The request body must be a JSON object, not null.");
        }
        catch (JsonException e)
        {
            throw new InputException(ErrorsOf(e), "The request body is not valid JSON for this endpoint.");
        }
    }

    /// <summary>
    /// Reads one value of <typeparamref name="T"/> from JSON already parsed (a batch item, an import line), with the
    /// same strict rules and the same error keys as a body.
    /// </summary>
    public static bool TryRead<T>(JsonElement element, [NotNullWhen(true)] out T? value, out IReadOnlyDictionary<string, string[]> errors)
    {
        value = default;
        errors = NoErrors;
        if (element.ValueKind != JsonValueKind.Object && typeof(T) != typeof(JsonElement))
        {
            errors = One(BodyKey, "Expected a JSON object.");
            return false;
        }
        try
        {
            value = element.Deserialize<T>(Options);
            if (value is not null) return true;
            errors = One(BodyKey, "Expected a JSON object, not null.");
            return false;
        }
        catch (JsonException e)
        {
            errors = ErrorsOf(e);
            return false;
        }
    }

    /// <summary>The key of errors about the body as a whole: not JSON, or not an object.</summary>
    public const string BodyKey = "$";

    static readonly IReadOnlyDictionary<string, string[]> NoErrors = new Dictionary<string, string[]>();

    /// <summary>The error key for a <see cref="JsonException"/>: its path without the leading <c>$.</c> (<c>occurredOn</c>, <c>partnerUnitIds[0]</c>).</summary>
    public static string ErrorKey(JsonException e) =>
        e.Path is null or "$" or "" ? BodyKey
        : e.Path.StartsWith("$.", StringComparison.Ordinal) ? e.Path[2..]
        : e.Path.StartsWith('$') ? e.Path[1..]
        : e.Path;

    /// <summary>
    /// The one mapping of a <see cref="JsonException"/> to field errors, for bodies, batch items and import lines:
    /// the field it is about (an unknown field by its own path), and why, in words a client can act on.
    /// </summary>
    public static IReadOnlyDictionary<string, string[]> ErrorsOf(JsonException e)
    {
        var key = ErrorKey(e);
        var message = e.Message;
        // "The JSON property 'foo' could not be mapped to any .NET member contained in type …"
        const string marker = "The JSON property '";
        var start = message.IndexOf(marker, StringComparison.Ordinal);
        if (start >= 0)
        {
            var end = message.IndexOf('\'', start + marker.Length);
            var name = message[(start + marker.Length)..end];
            // The path names the unknown field itself ($.location.village), or only its parent object.
            var field = key == BodyKey ? name : key == name || key.EndsWith("." + name, StringComparison.Ordinal) ? key : key + "." + name;
            return One(field, $"'{name}' is not a field here.");
        }
        if (key == BodyKey)
            return One(key, $"The body could not be read: {e.InnerException?.Message ?? WithoutPath(message)}");
        if (e.InnerException is InvalidOperationException { Message: var reading }
            && (reading.Contains("UTF-16", StringComparison.Ordinal) || reading.Contains("UTF-8", StringComparison.Ordinal)))
            return One(key, Text.NotStorable(key));   // an unpaired surrogate escape, or bytes that are not UTF-8
        if (message.StartsWith("Duplicate", StringComparison.Ordinal))
            return One(key, $"'{key}' holds a field given more than once.");
        var expected = ExpectedOf(message);
        return One(key, expected is null ? $"'{key}' could not be read: {WithoutPath(message)}" : $"'{key}' must be {expected}.");
    }

    /// <summary>What the value should have been, from the target type System.Text.Json names in its message.</summary>
    static string? ExpectedOf(string message)
    {
        if (message.Contains("System.DateOnly", StringComparison.Ordinal)) return "a real calendar date written YYYY-MM-DD";
        if (message.Contains("System.DateTimeOffset", StringComparison.Ordinal)) return "an instant written in ISO 8601";
        if (message.Contains("System.String[]", StringComparison.Ordinal) || message.Contains("List`1[System.String]", StringComparison.Ordinal)
            || message.Contains("IReadOnlyList`1[System.String]", StringComparison.Ordinal)) return "an array of strings";
        if (message.Contains("System.String", StringComparison.Ordinal)) return "a string";
        if (message.Contains("System.Int", StringComparison.Ordinal)) return "a whole number";
        if (message.Contains("System.Boolean", StringComparison.Ordinal)) return "true or false";
        if (message.Contains("System.Text.Json.JsonElement", StringComparison.Ordinal)) return "a JSON value";
        if (message.Contains("CoordinationEvents.Contracts", StringComparison.Ordinal)) return "an object";
        return null;
    }

    static IReadOnlyDictionary<string, string[]> One(string key, string message) =>
        new Dictionary<string, string[]>(StringComparer.Ordinal) { [key] = [message] };

    static string WithoutPath(string message)
    {
        var at = message.IndexOf(" Path: ", StringComparison.Ordinal);
        return at < 0 ? message : message[..at];
    }

    /// <summary>The string a JSON value holds, if it is a string of valid text; false for anything else (never throws).</summary>
    public static bool TryGetString(JsonElement value, [NotNullWhen(true)] out string? s)
    {
        s = null;
        if (value.ValueKind != JsonValueKind.String) return false;
        try
        {
            s = value.GetString()!;
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;   // an unpaired surrogate escape, or bytes that are not UTF-8
        }
    }

    static ProblemException TooLarge(int maxBytes) =>
        new(413, "Payload too large", $"The body is larger than {maxBytes / 1024} KiB, the limit of this endpoint.");
}
