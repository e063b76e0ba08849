using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace CoordinationEvents.Api.Core;

/// <summary>
/// A header that a response of the endpoint always carries (for OpenAPI, read by <see cref="OpenApiConventions"/>):
/// <c>[ResponseHeader(200, "ETag")]</c>. The well-known ones (<see cref="OpenApiConventions.HeaderDescriptions"/>)
/// need no description.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
public sealed class ResponseHeaderAttribute(int status, string name, string? description = null) : Attribute
{
    public int Status { get; } = status;
    public string Name { get; } = name;
    public string? Description { get; } = description;
}

/// <summary>A request header that the endpoint reads (for OpenAPI): <c>[RequestHeader("If-Match", Required = true)]</c>.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
public sealed class RequestHeaderAttribute(string name, string? description = null) : Attribute
{
    public string Name { get; } = name;
    public string? Description { get; } = description;
    public bool Required { get; init; }
}

/// <summary>The body of a health endpoint's answer.</summary>
public sealed record HealthStatus(string Status);

/// <summary>
/// What every operation of the document declares beyond what its return type says, so that the document tells a
/// client the truth (style.md, "HTTP"). Conventions, where a fact is general:
/// <list type="bullet">
/// <item>an endpoint with an authorization policy: 401 and 403 problems; one without is marked as needing no key;</item>
/// <item>a route with a parameter (an id that can be unknown): 404;</item>
/// <item>query parameters or a body: 400, the validation problem with <c>errors</c>;</item>
/// <item>a body: 413 and 415 (<see cref="JsonBody"/>, the import's own checks);</item>
/// <item>a 201: <c>Location</c>;</item>
/// <item>rate-limited (<c>[EnableRateLimiting]</c>): 429 with <c>Retry-After</c>;</item>
/// <item>a <c>text/*</c> answer is text (a string), not the JSON schema of the same data;</item>
/// <item>every problem status is <c>application/problem+json</c>; a 404 that the framework guessed for a route with
/// no parameter is dropped.</item>
/// </list>
/// Facts of one endpoint are attributes on its method: <c>[ProducesResponseType]</c> for 409/412/422/428/503,
/// <see cref="ResponseHeaderAttribute"/>, <see cref="RequestHeaderAttribute"/>.
/// </summary>
public sealed class OpenApiConventions(Microsoft.Extensions.Options.IOptions<OpenApiTags> tags) : IOperationFilter, IDocumentFilter
{
    public const string ProblemMediaType = "application/problem+json";

    public static readonly IReadOnlyDictionary<string, string> HeaderDescriptions = new Dictionary<string, string>
    {
        ["Location"] = "The URL of what was created or accepted.",
        ["ETag"] = "The activity's version, quoted (\"3\"): send it back in If-Match to correct or retract that version.",
        ["Retry-After"] = "Seconds to wait before sending again.",
        ["If-Match"] = "The ETag of the version this request changes (\"3\"). A stale one is answered 412.",
    };

    static readonly Dictionary<int, string> ProblemDescriptions = new()
    {
        [400] = "The input is invalid: a validation problem, with `errors` by field (the JSON path or query parameter sent). Nothing is stored.",
        [401] = "No X-Api-Key, or one this service does not know.",
        [403] = "The API key's role may not make this call (or a reporter's unit scope does not cover the unit).",
        [404] = "Not found: the id in the path is unknown.",
        [409] = "Conflict with what is stored.",
        [412] = "Precondition failed: If-Match names a version that is no longer current.",
        [413] = "The body is larger than this endpoint accepts.",
        [415] = "The body's Content-Type is not one this endpoint reads.",
        [422] = "The request breaks a rule of the activity.",
        [428] = "If-Match is required.",
        [429] = "Too many requests for this API key: wait as Retry-After says.",
        [503] = "Not ready.",
    };

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var metadata = context.ApiDescription.ActionDescriptor.EndpointMetadata;
        var method = context.MethodInfo;
        var path = context.ApiDescription.RelativePath ?? "";
        operation.Responses ??= [];

        if (operation.Description == context.ApiDescription.RelativePath || operation.Description?.Contains('_') == true && !operation.Description.Contains(' '))
            operation.Description = null;

        var secured = metadata.OfType<IAuthorizeData>().Any() && !metadata.OfType<IAllowAnonymous>().Any();
        if (secured)
        {
            Problem(operation, context, 401);
            Problem(operation, context, 403);
        }
        else operation.Security = []; // no key needed

        var hasRouteParameter = path.Contains('{');
        if (hasRouteParameter) Problem(operation, context, 404);
        else if (operation.Responses.TryGetValue("404", out var guessed) && guessed.Content is not { Count: > 0 }) operation.Responses.Remove("404");

        var hasBody = operation.RequestBody is not null;
        if (hasBody || operation.Parameters?.Any(p => p.In == ParameterLocation.Query) == true) Problem(operation, context, 400);
        if (hasBody)
        {
            Problem(operation, context, 413);
            Problem(operation, context, 415);
        }

        if (metadata.OfType<Microsoft.AspNetCore.RateLimiting.EnableRateLimitingAttribute>().Any())
        {
            Problem(operation, context, 429);
            Header(operation, 429, "Retry-After", null);
        }

        if (operation.Responses.ContainsKey("201")) Header(operation, 201, "Location", null);
        foreach (var header in method?.GetCustomAttributes(typeof(ResponseHeaderAttribute), false).Cast<ResponseHeaderAttribute>() ?? [])
            Header(operation, header.Status, header.Name, header.Description);
        foreach (var header in method?.GetCustomAttributes(typeof(RequestHeaderAttribute), false).Cast<RequestHeaderAttribute>() ?? [])
        {
            operation.Parameters ??= [];
            if (operation.Parameters.Any(p => p.In == ParameterLocation.Header && p.Name == header.Name)) continue;
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = header.Name,
                In = ParameterLocation.Header,
                Required = header.Required,
                Description = header.Description ?? HeaderDescriptions.GetValueOrDefault(header.Name),
                Schema = new OpenApiSchema { Type = JsonSchemaType.String },
                Example = header.Name == "If-Match" ? JsonValue.Create("\"1\"") : null,
            });
        }

        foreach (var (status, response) in operation.Responses)
        {
            if (response is not OpenApiResponse concrete) continue;
            // A server's state declared as JSON of its own (readiness: 503 with the health body) is left as declared.
            if (int.TryParse(status, out var code) && code >= 400 && !(code >= 500 && concrete.Content?.ContainsKey("application/json") == true))
            {
                // Every client error is a problem document (Problems.cs), whatever the declaration said.
                var schema = Problem(context, code);
                concrete.Content = new Dictionary<string, OpenApiMediaType> { [ProblemMediaType] = new() { Schema = schema } };
                if (ProblemDescriptions.TryGetValue(code, out var text) && concrete.Description is null or "" or "Bad Request" or "Not Found" or "Conflict" or "Client Error")
                    concrete.Description = text;
                continue;
            }
            foreach (var (mediaType, media) in concrete.Content ?? new Dictionary<string, OpenApiMediaType>())
                if (mediaType.StartsWith("text/", StringComparison.Ordinal))
                    media.Schema = new OpenApiSchema { Type = JsonSchemaType.String, Description = TextDescription(mediaType) };
        }
    }

    static string TextDescription(string mediaType) => mediaType switch
    {
        "text/csv" => "CSV (UTF-8, RFC 4180): a header line with the groupBy keys and then the metrics, and one line per row.",
        "text/markdown" => "The report as a Markdown document.",
        _ => "Text.",
    };

    static IOpenApiSchema Problem(OperationFilterContext context, int status) => context.SchemaGenerator.GenerateSchema(
        status == 400 ? typeof(HttpValidationProblemDetails) : typeof(ProblemDetails), context.SchemaRepository);

    static void Problem(OpenApiOperation operation, OperationFilterContext context, int status)
    {
        var key = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (operation.Responses!.ContainsKey(key)) return;
        operation.Responses[key] = new OpenApiResponse
        {
            Description = ProblemDescriptions[status],
            Content = new Dictionary<string, OpenApiMediaType> { [ProblemMediaType] = new() { Schema = Problem(context, status) } },
        };
    }

    static void Header(OpenApiOperation operation, int status, string name, string? description)
    {
        if (!operation.Responses!.TryGetValue(status.ToString(System.Globalization.CultureInfo.InvariantCulture), out var response) || response is not OpenApiResponse concrete)
            throw new InvalidOperationException($"{operation.OperationId}: a header of a {status} response, but no {status} response is declared.");
        concrete.Headers ??= new Dictionary<string, IOpenApiHeader>();
        concrete.Headers[name] = new OpenApiHeader
        {
            Description = description ?? HeaderDescriptions.GetValueOrDefault(name),
            Required = true,
            Schema = new OpenApiSchema { Type = name == "Retry-After" ? JsonSchemaType.Integer : JsonSchemaType.String },
        };
    }

    /// <summary>
    /// A component that may be null is written <c>allOf: [$ref]</c> with <c>nullable: true</c> (UseAllOfToExtendReferenceSchemas);
    /// OpenAPI 3.0.3 wants a <c>type</c> beside <c>nullable</c>: the component's own.
    /// </summary>
    static void TypeNullableWrappers(IOpenApiSchema schema, IDictionary<string, IOpenApiSchema> components, HashSet<IOpenApiSchema> seen)
    {
        if (schema is not OpenApiSchema concrete || !seen.Add(schema)) return;
        if (concrete.AllOf is [OpenApiSchemaReference reference] && (concrete.Type is null || (concrete.Type & ~JsonSchemaType.Null) == 0)
            && reference.Reference.Id is { } id && components.TryGetValue(id, out var target) && target.Type is { } targetType)
        {
            concrete.Type = (targetType & ~JsonSchemaType.Null) | JsonSchemaType.Null;
            concrete.Extensions?.Remove(OpenApiConstants.Nullable);
            concrete.Extensions?.Remove(OpenApiConstants.NullableExtension);
        }
        foreach (var child in (concrete.Properties?.Values ?? []).Concat(concrete.AllOf ?? []).Concat(concrete.AnyOf ?? []).Concat(concrete.OneOf ?? [])
                     .Append(concrete.Items).Append(concrete.AdditionalProperties))
            if (child is not null) TypeNullableWrappers(child, components, seen);
    }

    /// <summary>Tag descriptions, and no component schema that nothing refers to (IResult, once the health endpoints say what they answer).</summary>
    public void Apply(OpenApiDocument document, DocumentFilterContext context)
    {
        var used = document.Paths.SelectMany(p => p.Value.Operations ?? []).Select(o => o.Value.Tags ?? new HashSet<OpenApiTagReference>())
            .SelectMany(t => t).Select(t => t.Name).Where(n => n is not null).Distinct().ToArray();
        document.Tags = new HashSet<OpenApiTag>(used.Select(n => new OpenApiTag { Name = n, Description = tags.Value.Descriptions.GetValueOrDefault(n!, n!) }));

        if (document.Components?.Schemas is not { } schemas) return;
        var seen = new HashSet<IOpenApiSchema>(ReferenceEqualityComparer.Instance);
        foreach (var schema in schemas.Values) TypeNullableWrappers(schema, schemas, seen);

        while (true)
        {
            using var writer = new StringWriter();
            document.SerializeAsV3(new OpenApiJsonWriter(writer));
            var json = writer.ToString();
            var unused = schemas.Keys.Where(id => !json.Contains($"\"#/components/schemas/{id}\"", StringComparison.Ordinal)).ToArray();
            if (unused.Length == 0) return;
            foreach (var id in unused) schemas.Remove(id);
        }
    }
}

/// <summary>What each tag of the document means: every feature describes its own (<c>services.Configure&lt;OpenApiTags&gt;</c>).</summary>
public sealed class OpenApiTags
{
    public Dictionary<string, string> Descriptions { get; } = new(StringComparer.Ordinal) { ["Health"] = "Liveness and readiness, for orchestrators; no API key." };

    public static void Describe(IServiceCollection services, string tag, string description) =>
        services.Configure<OpenApiTags>(o => o.Descriptions[tag] = description);
}
