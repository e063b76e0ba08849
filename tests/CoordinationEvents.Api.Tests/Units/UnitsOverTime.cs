using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using CoordinationEvents.Api.Tests.Infrastructure;

namespace CoordinationEvents.Api.Tests.Units;

/// <summary>What the tests of units over time share: bodies, and the tree and a unit read back.</summary>
internal static class UnitsOverTime
{
    public static string Reorganisation(string id, string? title, string? effectiveFrom, params object[] changes) =>
        JsonSerializer.Serialize(new { reorganisationId = id, title, effectiveFrom, changes });

    public static object Establish(string unitId, string name, string type, string? parentId) => new { op = "establish", unitId, name, type, parentId };
    public static object Rename(string unitId, string name) => new { op = "rename", unitId, name };
    public static object Move(string unitId, string parentId) => new { op = "move", unitId, parentId };
    public static object Merge(string[] unitIds, string into) => new { op = "merge", unitIds, into };
    public static object Split(string unitId, string[] into) => new { op = "split", unitId, into };
    public static object Dissolve(string unitId, string? childrenTo) => new { op = "dissolve", unitId, childrenTo };

    public static string Unit(string id, string name, string type, string? parent, string? validFrom = null) =>
        JsonSerializer.Serialize(new { unitId = id, name, type, parentId = parent, validFrom });

    public static string Change(string name, string type, string? parent, string? effectiveFrom = null) =>
        JsonSerializer.Serialize(new { name, type, parentId = parent, effectiveFrom });

    /// <summary>The tree on a day, flattened: each unit's node by id.</summary>
    public static async Task<Dictionary<string, JsonElement>> TreeAsync(HttpClient client, string? asOf)
    {
        var tree = await client.GetFromJsonAsync<JsonElement>("/api/v1/units" + (asOf is null ? "" : "?asOf=" + asOf));
        var all = new Dictionary<string, JsonElement>();
        void Walk(JsonElement nodes)
        {
            foreach (var n in nodes.EnumerateArray())
            {
                all[n.GetProperty("unitId").GetString()!] = n;
                Walk(n.GetProperty("children"));
            }
        }
        Walk(tree);
        return all;
    }

    public static string? ParentOn(Dictionary<string, JsonElement> tree, string unitId) =>
        tree.TryGetValue(unitId, out var n) ? n.GetProperty("parentId").GetString() : null;

    public static IReadOnlyList<string> ChildrenOn(Dictionary<string, JsonElement> tree, string unitId) =>
        tree[unitId].GetProperty("children").EnumerateArray().Select(c => c.GetProperty("unitId").GetString()!).Order().ToArray();

    public static string? Str(this JsonElement e, string property) =>
        e.TryGetProperty(property, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public static async Task<HttpResponseMessage> PostReorganisationAsync(this HttpClient client, string body) =>
        await client.PostJsonAsync("/api/v1/reorganisations", body);
}
