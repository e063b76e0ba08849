using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Json.Schema;
using Microsoft.AspNetCore.Mvc.Testing;

namespace CoordinationEvents.Api.Tests.Infrastructure;

/// <summary>
/// Every response the API tests get is checked against the service's own OpenAPI document
/// (/swagger/v1/swagger.json), so that the document cannot drift from the service: the request is matched to its
/// operation (method and path template), and the response must have a declared status, a declared media type for
/// that status, every header declared for it, and, when JSON, a body that the declared schema accepts. A response
/// that does not conform fails the request (and so the test) with <see cref="OpenApiConformanceException"/>.
/// Requests to paths the document does not describe (pages, /swagger, /metrics) pass unchecked.
/// </summary>
public sealed class OpenApiConformance : DelegatingHandler
{
    readonly Func<HttpClient> documentClient;

    public OpenApiConformance(WebApplicationFactory<Program> factory) => documentClient = () => factory.Server.CreateClient();

    /// <summary>For a service in another process (Infrastructure/ServiceProcess), at <paramref name="service"/>.</summary>
    public OpenApiConformance(Uri service) : base(new SocketsHttpHandler()) => documentClient = () => new HttpClient { BaseAddress = service };

    // The document is the same for every host of the test run: read once, from the first.
    static Task<Contract>? contract;
    static readonly Lock Gate = new();

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        Task<Contract> document;
        lock (Gate) document = contract ??= Contract.LoadAsync(documentClient);
        var problems = await (await document).CheckAsync(request, response);
        if (problems.Count > 0)
            throw new OpenApiConformanceException(
                $"{request.Method} {request.RequestUri?.PathAndQuery} answered {(int)response.StatusCode}, which the OpenAPI document does not describe:\n  "
                + string.Join("\n  ", problems));
        return response;
    }

    sealed class Contract(IReadOnlyList<(string Method, Regex Path, string Template, JsonObject Operation)> operations, JsonObject definitions)
    {
        readonly ConcurrentDictionary<string, JsonSchema> schemas = new();

        public static async Task<Contract> LoadAsync(Func<HttpClient> documentClient)
        {
            using var client = documentClient();
            var document = JsonNode.Parse(await client.GetStringAsync("/swagger/v1/swagger.json"))!.AsObject();
            // A parsed JsonObject fills its members lazily, on first access, and that is not thread-safe: tests ask in
            // parallel, and a node read by two requests at once once lost its place in its parent (GetPath threw
            // "Nullable object must have a value"). Every node is read once here, before anyone shares the document.
            Touch(document);
            var operations = new List<(string, Regex, string, JsonObject)>();
            foreach (var (template, item) in document["paths"]!.AsObject())
                foreach (var (method, operation) in item!.AsObject())
                    if (operation is JsonObject o && o.ContainsKey("responses"))
                        operations.Add((method.ToUpperInvariant(),
                            new Regex("^" + Regex.Replace(Regex.Escape(template), @"\\\{[^}]+}", "[^/]+") + "/?$"), template, o));
            // Literal paths before templated ones (/activities/batch before /activities/{activityId}).
            operations = operations.OrderBy(o => o.Item3.Count(c => c == '{')).ToList();
            var definitions = (JsonObject)Translate(document["components"]?["schemas"] ?? new JsonObject())!;
            return new Contract(operations, definitions);
        }

        static void Touch(JsonNode? node)
        {
            switch (node)
            {
                case JsonObject o:
                    foreach (var (_, child) in o) Touch(child);
                    break;
                case JsonArray a:
                    foreach (var child in a) Touch(child);
                    break;
            }
        }

        public async Task<List<string>> CheckAsync(HttpRequestMessage request, HttpResponseMessage response)
        {
            var problems = new List<string>();
            var path = request.RequestUri!.IsAbsoluteUri ? request.RequestUri.AbsolutePath : request.RequestUri.OriginalString.Split('?')[0];
            var match = operations.FirstOrDefault(o => o.Method == request.Method.Method && o.Path.IsMatch(path));
            if (match.Operation is null) return problems;

            var status = ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
            var responses = match.Operation["responses"]!.AsObject();
            if ((responses[status] ?? responses[status[0] + "XX"] ?? responses["default"]) is not JsonObject declared)
            {
                problems.Add($"{match.Method} {match.Template}: status {status} is not declared (declared: {string.Join(", ", responses.Select(r => r.Key))}).");
                return problems;
            }

            if (declared["headers"] is JsonObject headers)
                foreach (var (name, header) in headers)
                    if (header?["required"]?.GetValue<bool>() == true && !response.Headers.TryGetValues(name, out _) && !response.Content.Headers.TryGetValues(name, out _))
                        problems.Add($"{match.Method} {match.Template} {status}: the declared header {name} is missing.");

            await response.Content.LoadIntoBufferAsync();
            var body = await response.Content.ReadAsByteArrayAsync();
            var mediaType = response.Content.Headers.ContentType?.MediaType;
            var content = declared["content"] as JsonObject;
            if (body.Length == 0)
            {
                if (content is { Count: > 0 } && request.Method != HttpMethod.Head)
                    problems.Add($"{match.Method} {match.Template} {status}: the body is empty, but {string.Join(", ", content.Select(c => c.Key))} is declared.");
                return problems;
            }
            if (mediaType is null || content?[mediaType] is not JsonObject media)
            {
                problems.Add($"{match.Method} {match.Template} {status}: the media type {mediaType ?? "(none)"} is not declared (declared: {string.Join(", ", content?.Select(c => c.Key) ?? [])}).");
                return problems;
            }
            if (!mediaType.EndsWith("json", StringComparison.OrdinalIgnoreCase) || media["schema"] is not JsonNode schemaNode) return problems;

            JsonElement instance;
            try { instance = JsonDocument.Parse(body).RootElement; }
            catch (JsonException e)
            {
                problems.Add($"{match.Method} {match.Template} {status}: the {mediaType} body is not JSON: {e.Message}");
                return problems;
            }
            var schema = schemas.GetOrAdd($"{match.Method} {match.Template} {status} {mediaType}", _ => Build(schemaNode));
            var result = schema.Evaluate(instance, new EvaluationOptions { OutputFormat = OutputFormat.List });
            if (!result.IsValid)
            {
                var errors = (result.Details ?? []).Where(d => d.Errors is not null)
                    .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation} ({d.EvaluationPath}): {e.Value}")).Take(10).ToList();
                var text = System.Text.Encoding.UTF8.GetString(body);
                problems.Add($"{match.Method} {match.Template} {status}: the body does not match the declared schema: {string.Join("; ", errors)}. Body: {(text.Length > 600 ? text[..600] + "…" : text)}");
            }
            return problems;
        }

        JsonSchema Build(JsonNode schema)
        {
            var root = new JsonObject
            {
                ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
                ["$defs"] = definitions.DeepClone(),
                ["allOf"] = new JsonArray(Translate(schema)),
            };
            return JsonSchema.FromText(root.ToJsonString(), baseUri: new Uri($"urn:openapi-conformance:{Guid.NewGuid()}"));
        }
    }

    /// <summary>
    /// An OpenAPI 3.0 schema as JSON Schema 2020-12: <c>nullable: true</c> becomes a type that admits null, and refs
    /// to components point at <c>$defs</c>.
    /// </summary>
    static JsonNode? Translate(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject source:
                var copy = new JsonObject();
                foreach (var (key, value) in source)
                {
                    if (key == "nullable" && value is JsonValue) continue;
                    copy[key] = key == "$ref" && value is JsonValue reference
                        ? reference.GetValue<string>().Replace("#/components/schemas/", "#/$defs/", StringComparison.Ordinal)
                        : Translate(value);
                }
                if (source["nullable"] is JsonValue nullable && nullable.GetValueKind() == JsonValueKind.True)
                {
                    // (allOf: [$ref] with nullable, as the document writes a component that may be null, admits null too.)
                    var composed = copy.ContainsKey("$ref") || copy.ContainsKey("allOf") || copy.ContainsKey("anyOf") || copy.ContainsKey("oneOf");
                    if (!composed && copy["type"] is JsonValue type)
                    {
                        copy["type"] = new JsonArray(type.GetValue<string>(), "null");
                        if (copy["enum"] is JsonArray values) values.Add(null);
                    }
                    else copy = new JsonObject { ["anyOf"] = new JsonArray(copy, new JsonObject { ["type"] = "null" }) };
                }
                return copy;
            case JsonArray array:
                return new JsonArray(array.Select(Translate).ToArray());
            default:
                return node?.DeepClone();
        }
    }
}

public sealed class OpenApiConformanceException(string message) : Exception(message);
