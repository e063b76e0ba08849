using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Activities;

namespace CoordinationEvents.Api.Tests.Imports;

/// <summary>NDJSON bodies for the import tests, streamed line by line (never one big string), and the polling of a job.</summary>
public static class ImportTesting
{
    static readonly string[] Kinds = ActivityExamples.ByKind.Keys.Order(StringComparer.Ordinal).ToArray();

    /// <summary>A valid activity: the example of the <paramref name="i"/>-th kind (in turn) with the given externalId.</summary>
    public static string Activity(int i, string externalId, Action<JsonObject>? change = null)
    {
        var node = JsonNode.Parse(ActivityExamples.ByKind[Kinds[i % Kinds.Length]])!.AsObject();
        node["externalId"] = externalId;
        change?.Invoke(node);
        return node.ToJsonString();
    }

    /// <summary>A body that writes its lines as the request is sent (chunked, no length), each ended by \n.</summary>
    public sealed class LinesContent : HttpContent
    {
        readonly IEnumerable<string> lines;

        public LinesContent(IEnumerable<string> lines, string mediaType = "application/x-ndjson")
        {
            this.lines = lines;
            Headers.TryAddWithoutValidation("Content-Type", mediaType);
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await using var writer = new StreamWriter(stream, new UTF8Encoding(false), 64 * 1024, leaveOpen: true) { NewLine = "\n" };
            foreach (var line in lines) await writer.WriteLineAsync(line);
        }

        protected override bool TryComputeLength(out long length) { length = 0; return false; }
    }

    public static async Task<(Uri Location, JsonElement Body)> StartAsync(HttpClient client, IEnumerable<string> lines, string mediaType = "application/x-ndjson")
    {
        var response = await client.PostAsync("/api/v1/imports", new LinesContent(lines, mediaType));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"Expected 202, got {(int)response.StatusCode}: {text}");
        var body = JsonSerializer.Deserialize<JsonElement>(text);
        Assert.Equal($"/api/v1/imports/{body.GetProperty("importId").GetGuid()}", response.Headers.Location!.OriginalString);
        return (response.Headers.Location!, body);
    }

    /// <summary>Polls the job until it is completed or failed (asserting completed).</summary>
    public static async Task<JsonElement> WaitForAsync(HttpClient client, Uri location, int seconds = 180, string query = "")
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var state = await client.GetFromJsonAsync<JsonElement>(location + query);
            var status = state.GetProperty("status").GetString();
            if (status == "completed") return state;
            Assert.NotEqual("failed", status);
            if (watch.Elapsed.TotalSeconds > seconds) throw new TimeoutException($"The import did not complete: {state}");
            await Task.Delay(50);
        }
    }

    public static (int Created, int Duplicate, int Invalid, int Conflict) Counts(JsonElement state)
    {
        var c = state.GetProperty("counts");
        return (c.GetProperty("created").GetInt32(), c.GetProperty("duplicate").GetInt32(), c.GetProperty("invalid").GetInt32(), c.GetProperty("conflict").GetInt32());
    }
}
