using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Activities;

namespace CoordinationEvents.Api.Tests.Activities;

/// <summary>
/// Bodies of <c>POST /api/v1/activities</c> that must be rejected with 400, each with the one field key the
/// problem document must name. Each body is a valid example (<see cref="ActivityExamples"/>) with one thing
/// broken, so the expected key is the only one. Rows: (string name, string json, string expectedKey,
/// bool isJsonShapeError). JSON-shape errors are found by System.Text.Json before validation: the HTTP layer
/// maps the exception's path (<c>$.occurredOn</c>) to the key (<c>occurredOn</c>), <c>$</c> for the body as a
/// whole; it must deserialize with <see cref="JsonInput.Options"/> (unknown fields refused). "Future" dates
/// are in 2099 so that the cases hold on a live server whatever its date.
/// </summary>
public static class BadActivityInputs
{
    public static IEnumerable<object[]> Cases { get; } = Build();

    static readonly JsonSerializerOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    static List<object[]> Build()
    {
        var cases = new List<object[]>();
        void Shape(string name, string json, string key) => cases.Add([name, json, key, true]);
        void Rule(string name, string json, string key) => cases.Add([name, json, key, false]);

        // The body is not JSON, or not an object.
        Shape("malformed: truncated", """{"externalId": "x-1", "kind": "patrol" """, "$");
        Shape("malformed: trailing comma", """{"externalId": "x-1", "kind": "patrol",}""", "$");
        Shape("malformed: not JSON", "externalId=x-1&kind=patrol", "$");
        Shape("malformed: single quotes", "{'externalId': 'x-1'}", "$");
        Shape("body is an array", $"[{Patrol(_ => { })}]", "$");
        Shape("body is a string", "\"patrol\"", "$");

        // Wrong JSON types and impossible values at the top level.
        Shape("occurredOn is a number", Patrol(a => a["occurredOn"] = 5), "occurredOn");
        Shape("occurredOn 2023-02-30 does not exist", Patrol(a => a["occurredOn"] = "2023-02-30"), "occurredOn");
        Shape("occurredOn month 13", Patrol(a => a["occurredOn"] = "2024-13-01"), "occurredOn");
        Shape("occurredOn in Vietnamese day/month/year", Patrol(a => a["occurredOn"] = "12/04/2024"), "occurredOn");
        Shape("occurredOn with a time", Patrol(a => a["occurredOn"] = "2024-04-12T08:00:00+07:00"), "occurredOn");
        Shape("endsOn 2024-02-30 does not exist", Patrol(a => a["endsOn"] = "2024-02-30"), "endsOn");
        Shape("unitId is a number", Patrol(a => a["unitId"] = 12), "unitId");
        Shape("externalId is a boolean", Patrol(a => a["externalId"] = true), "externalId");
        Shape("kind is an array", Patrol(a => a["kind"] = new JsonArray("patrol")), "kind");
        Shape("summary is an object", Patrol(a => a["summary"] = new JsonObject { ["vi"] = "Tuần tra" }), "summary");
        Shape("partnerUnitIds is a string", Patrol(a => a["partnerUnitIds"] = "x"), "partnerUnitIds");
        Shape("partnerUnitIds holds a number", Patrol(a => a["partnerUnitIds"] = new JsonArray(5)), "partnerUnitIds[0]");
        Shape("location is a string", Patrol(a => a["location"] = "Ma Lù Thàng"), "location");
        Shape("location.markers is a string", Patrol(a => a["location"]!["markers"] = "79"), "location.markers");
        Shape("unknown top-level field", Patrol(a => a["occuredOn"] = "2024-04-12"), "occuredOn");
        Shape("unknown location field", Patrol(a => a["location"]!["village"] = "Pa Nậm Cúm"), "location.village");

        // externalId, kind, units.
        Rule("externalId missing", Patrol(a => a.Remove("externalId")), "externalId");
        Rule("externalId empty", Patrol(a => a["externalId"] = ""), "externalId");
        Rule("externalId only spaces", Patrol(a => a["externalId"] = "   "), "externalId");
        Rule("externalId of 201 characters", Patrol(a => a["externalId"] = new string('x', 201)), "externalId");
        Rule("kind missing", Patrol(a => a.Remove("kind")), "kind");
        Rule("kind unknown", Patrol(a => a["kind"] = "patroll"), "kind");
        Rule("kind in Vietnamese", Patrol(a => a["kind"] = "tuần tra"), "kind");
        Rule("unitId missing", Patrol(a => a.Remove("unitId")), "unitId");
        Rule("unitId unknown", Patrol(a => a["unitId"] = "don-khong-ton-tai"), "unitId");
        Rule("unitId is a name, not an id", Patrol(a => a["unitId"] = "Đồn Biên phòng Ma Lù Thàng"), "unitId");
        Rule("partner unknown", Patrol(a => a["partnerUnitIds"] = new JsonArray("huoi-luong", "xa-khong-ton-tai")), "partnerUnitIds[1]");
        Rule("partner is the unit itself", Patrol(a => a["partnerUnitIds"] = new JsonArray("don-ma-lu-thang")), "partnerUnitIds[0]");
        Rule("partner null", Patrol(a => a["partnerUnitIds"] = new JsonArray("huoi-luong", "phong-tho", null)), "partnerUnitIds[2]");
        Rule("partner empty string", Patrol(a => a["partnerUnitIds"] = new JsonArray("")), "partnerUnitIds[0]");

        // Dates.
        Rule("occurredOn missing", Patrol(a => a.Remove("occurredOn")), "occurredOn");
        Rule("occurredOn in the future", Patrol(a => a["occurredOn"] = "2099-01-01"), "occurredOn");
        Rule("occurredOn year 1", Patrol(a => a["occurredOn"] = "0001-01-01"), "occurredOn");
        Rule("endsOn before occurredOn", Patrol(a => a["endsOn"] = "2024-04-11"), "endsOn");
        Rule("endsOn in the future", Patrol(a => a["endsOn"] = "2099-12-31"), "endsOn");

        // Location.
        Rule("commune unknown", Patrol(a => a["location"]!["communeId"] = "xa-khong-ton-tai"), "location.communeId");
        Rule("commune id is a district", Patrol(a => a["location"]!["communeId"] = "phong-tho"), "location.communeId");
        Rule("commune id is a border post", Patrol(a => a["location"]!["communeId"] = "don-si-lo-lau"), "location.communeId");
        Rule("placeName of 501 characters", Patrol(a => a["location"]!["placeName"] = new string('Đ', 501)), "location.placeName");
        Rule("51 markers", Patrol(a => a["location"]!["markers"] = new JsonArray(Enumerable.Range(1, 51).Select(i => (JsonNode?)JsonValue.Create(i.ToString())).ToArray())), "location.markers");
        Rule("marker of 51 characters", Patrol(a => a["location"]!["markers"] = new JsonArray(new string('7', 51))), "location.markers[0]");
        Rule("marker empty", Patrol(a => a["location"]!["markers"] = new JsonArray("79", " ")), "location.markers[1]");

        // Summary.
        Rule("summary of 4,001 characters", Patrol(a => a["summary"] = new string('ạ', 4001)), "summary");

        // details as a whole.
        Rule("details is an array", Patrol(a => a["details"] = new JsonArray(1)), "details");
        Rule("details is a string", Patrol(a => a["details"] = "patrols: 3"), "details");
        Rule("details is a number", Patrol(a => a["details"] = 3), "details");

        // Fields that do not belong.
        Rule("details field misspelt", Patrol(a => Rename(a, "patrols", "patrolz")), "details.patrolz");
        Rule("details field of another kind", Patrol(a => a["details"]!["meetings"] = 1), "details.meetings");
        Rule("details field in PascalCase", Patrol(a => Rename(a, "patrolParticipants", "PatrolParticipants")), "details.PatrolParticipants");
        Rule("details 'activities' is not a field", Patrol(a => a["details"]!["activities"] = 1), "details.activities");

        // Dimensions.
        Rule("dimension missing", Patrol(a => a["details"]!.AsObject().Remove("mode")), "details.mode");
        Rule("dimension value unknown", Patrol(a => a["details"]!["mode"] = "solo"), "details.mode");
        Rule("dimension value in another case", Patrol(a => a["details"]!["mode"] = "Joint"), "details.mode");
        Rule("dimension value a number", Patrol(a => a["details"]!["mode"] = 1), "details.mode");
        Rule("dimension value null", Patrol(a => a["details"]!["mode"] = null), "details.mode");
        Rule("dimension of another kind's value", Example("meeting", a => a["details"]!["level"] = "unit"), "details.level");
        Rule("crime-bust without category", Example("crime-bust", a => a["details"]!.AsObject().Remove("category")), "details.category");
        Rule("crime-bust outcome unknown", Example("crime-bust", a => a["details"]!["outcome"] = "convicted"), "details.outcome");
        Rule("commendation without level", Example("commendation", a => a["details"]!.AsObject().Remove("level")), "details.level");

        // Counts.
        Rule("kind count 0", Patrol(a => a["details"]!["patrols"] = 0), "details.patrols");
        Rule("kind count negative", Patrol(a => a["details"]!["patrols"] = -1), "details.patrols");
        Rule("kind count 1.5", Patrol(a => a["details"]!["patrols"] = 1.5), "details.patrols");
        Rule("kind count as a string", Patrol(a => a["details"]!["patrols"] = "3"), "details.patrols");
        Rule("kind count true", Patrol(a => a["details"]!["patrols"] = true), "details.patrols");
        Rule("kind count null", Patrol(a => a["details"]!["patrols"] = null), "details.patrols");
        Rule("kind count above 1,000,000", Patrol(a => a["details"]!["patrols"] = 1_000_001), "details.patrols");
        Rule("meetings 0", Example("meeting", a => a["details"]!["meetings"] = 0), "details.meetings");
        Rule("count negative", Patrol(a => a["details"]!["patrolParticipants"] = -5), "details.patrolParticipants");
        Rule("count above 1,000,000", Patrol(a => a["details"]!["patrolParticipants"] = 2_000_000), "details.patrolParticipants");
        Rule("count 1e30", Patrol(a => a["details"]!["markersInspected"] = JsonNode.Parse("1e30")), "details.markersInspected");
        Rule("count 0.5", Example("political-base", a => a["details"]!["militiaTrained"] = 0.5), "details.militiaTrained");

        // Decimals.
        Rule("decimal with 4 places", Patrol(a => a["details"]!["distanceKm"] = JsonNode.Parse("12.3456")), "details.distanceKm");
        Rule("decimal negative", Patrol(a => a["details"]!["distanceKm"] = -1), "details.distanceKm");
        Rule("decimal above 1,000,000", Patrol(a => a["details"]!["distanceKm"] = JsonNode.Parse("1000000.001")), "details.distanceKm");
        Rule("decimal as a string", Patrol(a => a["details"]!["distanceKm"] = "12.5"), "details.distanceKm");
        Rule("stock decimal with 4 places", Example("self-management", a => a["details"]!["selfManagedBorderKm"] = JsonNode.Parse("97.2291")), "details.selfManagedBorderKm");

        // VND.
        Rule("VND above 10^13", Example("crime-bust", a => a["details"]!["finesVnd"] = 10_000_000_000_001), "details.finesVnd");
        Rule("VND with đồng fractions", Example("crime-bust", a => a["details"]!["goodsValueVnd"] = 1500.5), "details.goodsValueVnd");
        Rule("VND negative", Example("welfare", a => a["details"]!["supportValueVnd"] = -120000000), "details.supportValueVnd");
        Rule("VND as a formatted string", Example("border-day", a => a["details"]!["giftsValueVnd"] = "25.000.000"), "details.giftsValueVnd");

        // Texts.
        Rule("text of 501 characters", Example("meeting", a => a["details"]!["counterpart"] = new string('T', 501)), "details.counterpart");
        Rule("text a number", Example("commendation", a => a["details"]!["award"] = 1), "details.award");

        // Text that cannot be stored as sent: U+0000 (PostgreSQL's text and jsonb refuse it), an unpaired
        // surrogate (UTF-8 cannot encode it), U+FFFE (.NET cannot normalize it). JsonNode cannot hold an
        // unpaired surrogate, so those are written as the escape in the JSON text.
        Rule("externalId with NUL", Patrol(a => a["externalId"] = "mlt-2024\u0000-0412"), "externalId");
        Rule("summary with NUL", Patrol(a => a["summary"] = "Tuần tra\u0000"), "summary");
        Rule("summary with U+FFFE", Patrol(a => a["summary"] = "Tuần \ufffe tra"), "summary");
        Rule("placeName with NUL", Patrol(a => a["location"]!["placeName"] = "\u0000"), "location.placeName");
        Rule("marker with NUL", Patrol(a => a["location"]!["markers"] = new JsonArray("79", "8\u00000")), "location.markers[1]");
        Rule("details text with NUL", Example("meeting", a => a["details"]!["counterpart"] = "Trạm\u0000"), "details.counterpart");
        Rule("details text with U+FFFE", Example("meeting", a => a["details"]!["counterpart"] = "\ufffe"), "details.counterpart");
        Rule("details text with an unpaired surrogate", Escaped(Example("meeting", a => a["details"]!["counterpart"] = "Trạm LONE"), "LONE", "\\ud800"), "details.counterpart");
        Shape("summary with an unpaired surrogate", Escaped(Patrol(a => a["summary"] = "Tuần tra LONE"), "LONE", "\\ud800"), "summary");
        Shape("externalId with reversed surrogates", Escaped(Patrol(a => a["externalId"] = "LONE"), "LONE", "\\udc00\\ud800"), "externalId");
        Shape("unitId with an unpaired surrogate", Escaped(Patrol(a => a["unitId"] = "don-LONE"), "LONE", "\\ud800"), "unitId");

        return cases;
    }

    /// <summary>The JSON text with <paramref name="marker"/> replaced by a raw escape such as <c>\ud800</c>.</summary>
    static string Escaped(string json, string marker, string escape) => json.Replace(marker, escape, StringComparison.Ordinal);

    static string Patrol(Action<JsonObject> change) => Example("patrol", change);

    static string Example(string kind, Action<JsonObject> change)
    {
        var activity = JsonNode.Parse(ActivityExamples.ByKind[kind])!.AsObject();
        change(activity);
        return activity.ToJsonString(Compact);
    }

    static void Rename(JsonObject activity, string from, string to)
    {
        var details = activity["details"]!.AsObject();
        var value = details[from]!.DeepClone();
        details.Remove(from);
        details[to] = value;
    }
}
