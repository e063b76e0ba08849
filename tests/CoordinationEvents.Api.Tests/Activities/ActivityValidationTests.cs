using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Contracts.V1;

namespace CoordinationEvents.Api.Tests.Activities;

public class ActivityValidationTests
{
    static readonly DateOnly Today = new(2026, 11, 22);
    static readonly UnitTree Units = SeedUnitLookup.Instance;
    static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    public static IEnumerable<object[]> RuleCases => BadActivityInputs.Cases.Where(c => !(bool)c[3]);

    public static IEnumerable<object[]> ShapeCases => BadActivityInputs.Cases.Where(c => (bool)c[3]);

    public static IEnumerable<object[]> Kinds => KindCatalog.All.Select(k => new object[] { k.Name });

    static ValidationOutcome Validate(string json) =>
        ActivityRules.Check(JsonSerializer.Deserialize<ActivityRequest>(json, Web)!, Units, Today);

    static ActivityContent Valid(string json)
    {
        var outcome = Validate(json);
        Assert.True(outcome.IsValid, string.Join("; ", outcome.Errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}")));
        return outcome.Content;
    }

    static string Edit(string kind, Action<JsonObject> change)
    {
        var activity = JsonNode.Parse(ActivityExamples.ByKind[kind])!.AsObject();
        change(activity);
        return activity.ToJsonString();
    }

    [Fact]
    public void There_are_at_least_45_bad_inputs_with_unique_names()
    {
        var names = BadActivityInputs.Cases.Select(c => (string)c[0]).ToList();
        Assert.True(names.Count >= 45, $"{names.Count} cases");
        Assert.Equal(names.Count, names.Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(RuleCases))]
    public void Bad_input_fails_validation_naming_only_the_expected_field(string name, string json, string expectedKey, bool isJsonShapeError)
    {
        Assert.False(isJsonShapeError);
        var outcome = Validate(json);
        Assert.False(outcome.IsValid, name);
        Assert.Null(outcome.Content);
        Assert.Equal([expectedKey], outcome.Errors.Keys);
        Assert.All(outcome.Errors[expectedKey], message => Assert.False(string.IsNullOrWhiteSpace(message)));
    }

    [Theory]
    [MemberData(nameof(ShapeCases))]
    public void Json_shape_error_is_keyed_by_the_field_path(string name, string json, string expectedKey, bool isJsonShapeError)
    {
        Assert.True(isJsonShapeError);
        // As a body is read: the bytes straight into the request type.
        var errors = Assert.Throws<InputException>(() => JsonInput.Deserialize<ActivityRequest>(System.Text.Encoding.UTF8.GetBytes(json))).Errors;
        Assert.True(errors.Keys.SequenceEqual([expectedKey]), $"{name}: {string.Join(", ", errors.Keys)}");
    }

    [Theory]
    [MemberData(nameof(ShapeCases))]
    public void Json_shape_error_path_maps_to_the_expected_key(string name, string json, string expectedKey, bool isJsonShapeError)
    {
        // What the HTTP layer does: deserialize the body and map JsonException.Path to the key.
        Assert.True(isJsonShapeError);
        var e = Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize<ActivityRequest>(json, JsonInput.Options));
        Assert.True(expectedKey == JsonInput.ErrorKey(e), $"{name}: path {e.Path}");
    }

    [Theory]
    [MemberData(nameof(RuleCases))]
    public void Bad_input_read_from_json_element_names_the_expected_field(string name, string json, string expectedKey, bool isJsonShapeError)
    {
        Assert.False(isJsonShapeError);
        using var document = JsonDocument.Parse(json);
        var outcome = ActivityRules.Check(document.RootElement, Units, Today);
        Assert.False(outcome.IsValid, name);
        Assert.Equal([expectedKey], outcome.Errors.Keys);
    }

    [Fact]
    public void There_is_one_example_per_kind()
    {
        Assert.Equal(KindCatalog.All.Select(k => k.Name).Order(), ActivityExamples.ByKind.Keys.Order());
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Every_example_is_valid(string kind)
    {
        var content = Valid(ActivityExamples.ByKind[kind]);
        Assert.Equal(kind, content.Kind);
        Assert.InRange(content.OccurredOn, new DateOnly(2023, 1, 1), new DateOnly(2024, 12, 31));
        Assert.NotEmpty(content.Summary);
        Assert.All(content.Details.Keys, key => Assert.True(KindCatalog.Get(kind).Metric(key) is not null
            || KindCatalog.Get(kind).Dimension(key) is not null
            || KindCatalog.Get(kind).TextFields.Contains(key), key));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Every_example_reads_through_activity_json(string kind)
    {
        using var document = JsonDocument.Parse(ActivityExamples.ByKind[kind]);
        Assert.True(ActivityRules.Check(document.RootElement, Units, Today).IsValid);
    }

    [Fact]
    public void Nfd_text_is_stored_as_nfc()
    {
        var nfd = "Tuần tra biên giới".Normalize(NormalizationForm.FormD);
        Assert.NotEqual("Tuần tra biên giới".Normalize(NormalizationForm.FormC), nfd);
        var json = Edit("meeting", a =>
        {
            a["summary"] = nfd;
            a["details"]!["counterpart"] = "Trạm Kiểm soát biên phòng Kim Thủy Hà".Normalize(NormalizationForm.FormD);
            a["location"]!["placeName"] = "Nhà hội đàm".Normalize(NormalizationForm.FormD);
        });

        var content = Valid(json);

        Assert.Equal("Tuần tra biên giới".Normalize(NormalizationForm.FormC), content.Summary);
        Assert.True(content.Summary.IsNormalized(NormalizationForm.FormC));
        Assert.Equal("Trạm Kiểm soát biên phòng Kim Thủy Hà".Normalize(NormalizationForm.FormC), content.Details["counterpart"].GetString());
        Assert.Equal("Nhà hội đàm".Normalize(NormalizationForm.FormC), content.Location!.PlaceName);
        var nfc = Valid(Edit("meeting", a =>
        {
            a["summary"] = "Tuần tra biên giới".Normalize(NormalizationForm.FormC);
            a["details"]!["counterpart"] = "Trạm Kiểm soát biên phòng Kim Thủy Hà".Normalize(NormalizationForm.FormC);
            a["location"]!["placeName"] = "Nhà hội đàm".Normalize(NormalizationForm.FormC);
        }));
        Assert.Equal(nfc.ContentHash(), content.ContentHash());
    }

    [Fact]
    public void Nfc_helper_normalizes_and_survives_lone_surrogates()
    {
        Assert.Equal("Phong Thổ".Normalize(NormalizationForm.FormC), Text.Nfc("Phong Thổ".Normalize(NormalizationForm.FormD)));
        Assert.Equal("a\uFFFDb", Text.Nfc("a\uD800b"));
        Assert.Equal("Sì Lở Lầu", Text.Clean("  Sì Lở Lầu\t"));
        Assert.Null(Text.Clean(null));
    }

    [Fact]
    public void Kind_count_omitted_and_given_as_1_are_the_same_content()
    {
        var omitted = Valid(Edit("patrol", a => a["details"]!.AsObject().Remove("patrols")));
        var given = Valid(Edit("patrol", a => a["details"]!["patrols"] = 1));

        Assert.Equal(1, omitted.Details["patrols"].GetInt64());
        Assert.Equal(1m, omitted.Metric("patrols"));
        Assert.Equal(given.ContentHash(), omitted.ContentHash());
        Assert.Equal(given.CanonicalJson(), omitted.CanonicalJson());
    }

    [Fact]
    public void The_hash_is_the_sha256_of_the_canonical_form_in_utf8_however_long_the_content()
    {
        // The hash is written through a reused builder in chunks: a long summary (several chunks), Vietnamese
        // letters of two and three bytes, and a character outside the BMP (escaped, so never split) must hash as
        // the canonical string does. A new hash here would make every stored activity's repeat a 409.
        var summary = string.Concat(Enumerable.Repeat("Đồn Biên phòng Ma Lù Thàng phối hợp tuần tra 🚩 mốc 79; ", 69));
        var place = string.Concat(Enumerable.Repeat("Nhà hội đàm cửa khẩu Ma Lù Thàng, ", 14));
        var large = Edit("meeting", a => { a["summary"] = summary; a["location"]!["placeName"] = place; });
        Assert.True(Valid(large).CanonicalJson().Length > 4_096, "more than the builder's first chunk");
        foreach (var json in new[] { ActivityExamples.ByKind["patrol"], large, ActivityExamples.ByKind["meeting"] })
        {
            var content = Valid(json);
            var expected = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(content.CanonicalJson())));
            Assert.Equal(expected, content.ContentHash());
            Assert.Equal(expected, content.ContentHash()); // the reused builder starts clean
        }
        Assert.Contains("\\ud83d\\udea9", Valid(large).CanonicalJson());
    }

    [Fact]
    public void A_different_metric_gives_a_different_hash()
    {
        var one = Valid(ActivityExamples.ByKind["patrol"]);
        var other = Valid(Edit("patrol", a => a["details"]!["patrolParticipants"] = 9));

        Assert.NotEqual(one.ContentHash(), other.ContentHash());
        Assert.Matches("^[0-9a-f]{64}$", one.ContentHash());
    }

    [Theory]
    [InlineData("summary")]
    [InlineData("endsOn")]
    [InlineData("partnerUnitIds")]
    [InlineData("location")]
    [InlineData("mode")]
    [InlineData("distanceKm")]
    [InlineData("externalId")]
    public void Any_change_of_meaning_changes_the_hash(string field)
    {
        var original = Valid(ActivityExamples.ByKind["patrol"]);
        var changed = Valid(Edit("patrol", a =>
        {
            switch (field)
            {
                case "summary": a["summary"] = "Tuần tra"; break;
                case "endsOn": a["endsOn"] = "2024-04-13"; break;
                case "partnerUnitIds": a["partnerUnitIds"] = new JsonArray("huoi-luong", "phong-tho"); break;
                case "location": a.Remove("location"); break;
                case "mode": a["details"]!["mode"] = "bilateral"; break;
                case "distanceKm": a["details"]!["distanceKm"] = 12.501; break;
                case "externalId": a["externalId"] = "mlt-2024-tt-0413"; break;
            }
        }));
        Assert.NotEqual(original.ContentHash(), changed.ContentHash());
    }

    [Fact]
    public void Equivalent_spellings_give_the_same_hash()
    {
        var original = Valid(ActivityExamples.ByKind["patrol"]);
        var respelt = Valid(Edit("patrol", a =>
        {
            a["externalId"] = "  mlt-2024-tt-0412 ";
            a["unitId"] = " don-ma-lu-thang";
            a["partnerUnitIds"] = new JsonArray("huoi-luong", "huoi-luong");
            a["details"]!["distanceKm"] = JsonNode.Parse("12.500");
            a["details"]!["patrolParticipants"] = JsonNode.Parse("8.0");
            a["details"]!["markersInspected"] = JsonNode.Parse("2e0");
            var details = a["details"]!.AsObject();
            var reordered = new JsonObject(details.Reverse().Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone())));
            a["details"] = reordered;
        }));
        Assert.Equal(original.CanonicalJson(), respelt.CanonicalJson());
        Assert.Equal(original.ContentHash(), respelt.ContentHash());
    }

    [Fact]
    public void Partners_are_a_set_for_the_hash_and_equality_but_kept_in_the_order_sent()
    {
        var original = Valid(Edit("twinning", a => a["partnerUnitIds"] = new JsonArray("huoi-luong", "phong-tho")));
        var reordered = Valid(Edit("twinning", a => a["partnerUnitIds"] = new JsonArray("phong-tho", "huoi-luong", "phong-tho")));

        Assert.Equal(original.ContentHash(), reordered.ContentHash());
        Assert.Equal(original, reordered);
        Assert.Equal(["phong-tho", "huoi-luong"], reordered.PartnerUnitIds);
        // Equal by content even when built by hand with a repeat (the events' content is read back like this).
        Assert.Equal(original.ContentHash(), (original with { PartnerUnitIds = ["phong-tho", "huoi-luong", "huoi-luong"] }).ContentHash());
    }

    [Fact]
    public void Absent_metrics_stay_absent_and_details_are_sorted_and_typed()
    {
        var content = Valid(Edit("crime-bust", a => a["details"] = new JsonObject
        {
            ["outcome"] = "administrative",
            ["category"] = "smuggling",
            ["subjects"] = 3,
            ["drugsGrams"] = JsonNode.Parse("97.2290"),
        }));

        Assert.Equal(["cases", "category", "drugsGrams", "outcome", "subjects"], content.Details.Keys);
        Assert.Equal(JsonValueKind.Number, content.Details["cases"].ValueKind);
        Assert.Equal("1", content.Details["cases"].GetRawText());
        Assert.Equal("97.229", content.Details["drugsGrams"].GetRawText());
        Assert.Equal("smuggling", content.Details["category"].GetString());
        Assert.False(content.Details.ContainsKey("finesVnd"));
        Assert.Equal(0m, content.Metric("finesVnd"));
        Assert.Equal(1m, content.Metric(KindCatalog.ActivitiesMetric));
        Assert.Equal(97.229m, content.Metric("drugsGrams"));
        Assert.Equal("smuggling", content.DimensionValue("category"));
        Assert.Null(content.DimensionValue("mode"));
    }

    [Fact]
    public void Large_vnd_amounts_are_whole_integers()
    {
        var content = Valid(Edit("crime-bust", a => a["details"]!["goodsValueVnd"] = 10_000_000_000_000));
        Assert.Equal("10000000000000", content.Details["goodsValueVnd"].GetRawText());
        Assert.Equal(10_000_000_000_000m, content.Metric("goodsValueVnd"));
    }

    [Fact]
    public void Unknown_detail_field_error_names_it_and_lists_the_kinds_fields()
    {
        var outcome = Validate(Edit("patrol", a => a["details"]!["patrolz"] = 3));

        var message = Assert.Single(outcome.Errors["details.patrolz"]);
        Assert.Contains("'patrolz'", message);
        Assert.Contains("patrolParticipants", message);
    }

    [Fact]
    public void Every_error_is_reported_not_only_the_first()
    {
        var outcome = Validate(Edit("patrol", a =>
        {
            a["externalId"] = "";
            a["unitId"] = "nowhere";
            a["occurredOn"] = "2099-01-01";
            a["details"]!["patrols"] = 0;
            a["details"]!["patrolz"] = 1;
        }));
        Assert.Equal(["details.patrols", "details.patrolz", "externalId", "occurredOn", "unitId"], outcome.Errors.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Error_messages_are_plain_english()
    {
        var outcome = Validate(Edit("patrol", a => a["details"]!["patrols"] = 1.5));
        Assert.Equal("'patrols' must be a whole number from 1 to 1,000,000.", Assert.Single(outcome.Errors["details.patrols"]));
        outcome = Validate(Edit("patrol", a => a["occurredOn"] = "2099-01-01"));
        Assert.Equal("'occurredOn' (2099-01-01) is in the future; today in Vietnam is 2026-11-22.", Assert.Single(outcome.Errors["occurredOn"]));
    }

    [Fact]
    public void Partners_are_deduplicated_in_order_and_strings_trimmed()
    {
        var content = Valid(Edit("patrol", a =>
        {
            a["partnerUnitIds"] = new JsonArray("phong-tho", " huoi-luong ", "phong-tho");
            a["location"]!["markers"] = new JsonArray(" 80 ", "79", "80");
        }));
        Assert.Equal(["phong-tho", "huoi-luong"], content.PartnerUnitIds);
        Assert.Equal(["80", "79"], content.Location!.Markers!);
    }

    [Fact]
    public void Optional_fields_normalize_to_their_empty_forms()
    {
        var content = Valid(Edit("border-day", a =>
        {
            a.Remove("partnerUnitIds");
            a.Remove("summary");
            a.Remove("details");
            a["location"] = new JsonObject { ["placeName"] = "  ", ["markers"] = new JsonArray() };
        }));
        Assert.Empty(content.PartnerUnitIds);
        Assert.Equal("", content.Summary);
        Assert.Null(content.Location);
        Assert.Equal("1", content.Details["borderDayEvents"].GetRawText());
        Assert.Single(content.Details);
    }

    [Fact]
    public void Empty_text_field_is_left_out()
    {
        var content = Valid(Edit("meeting", a => a["details"]!["counterpart"] = "   "));
        Assert.False(content.Details.ContainsKey("counterpart"));
    }

    [Fact]
    public void Dates_on_the_limits_are_valid()
    {
        var content = Valid(Edit("patrol", a => { a["occurredOn"] = "2026-11-22"; a["endsOn"] = "2026-11-22"; }));
        Assert.Equal(Today, content.EndsOn);
        Assert.Equal("2024-04-12", Valid(Edit("patrol", a => a["endsOn"] = "2024-04-12")).EndsOn!.Value.ToString("yyyy-MM-dd"));
        Assert.False(Validate(Edit("patrol", a => a["occurredOn"] = "2026-11-23")).IsValid);
    }

    [Fact]
    public void Limits_are_inclusive()
    {
        Valid(Edit("patrol", a =>
        {
            a["externalId"] = new string('x', 200);
            a["summary"] = new string('ạ', 4000);
            a["details"]!["patrols"] = 1_000_000;
            a["details"]!["patrolParticipants"] = 0;
            a["details"]!["distanceKm"] = 1_000_000;
            a["location"]!["placeName"] = new string('Đ', 500);
            a["location"]!["markers"] = new JsonArray(Enumerable.Range(1, 50).Select(i => (JsonNode?)JsonValue.Create(new string('7', i))).ToArray());
        }));
        Valid(Edit("meeting", a => a["details"]!["counterpart"] = new string('T', 500)));
        Valid(Edit("self-management", a => a["details"]!["selfManagedBorderKm"] = JsonNode.Parse("0.001")));
    }

    [Fact]
    public void Duplicate_detail_field_is_an_error()
    {
        var request = new ActivityRequest
        {
            ExternalId = "x-1",
            Kind = "patrol",
            UnitId = "don-ma-lu-thang",
            OccurredOn = new DateOnly(2024, 1, 1),
            Details = JsonDocument.Parse("""{"mode":"joint","patrols":1,"patrols":5}""").RootElement,
        };
        var outcome = ActivityRules.Check(request, Units, Today);
        Assert.Equal(["details.patrols"], outcome.Errors.Keys);
    }

    [Fact]
    public void Vietnam_date_is_utc_plus_7()
    {
        Assert.Equal(new DateOnly(2026, 11, 22), VietnamCalendar.DateAt(new DateTimeOffset(2026, 11, 21, 17, 0, 0, TimeSpan.Zero)));
        Assert.Equal(new DateOnly(2026, 11, 21), VietnamCalendar.DateAt(new DateTimeOffset(2026, 11, 21, 16, 59, 59, TimeSpan.Zero)));
    }

    [Fact]
    public void Content_survives_a_json_round_trip_with_the_same_hash()
    {
        var content = Valid(ActivityExamples.ByKind["crime-bust"]);
        var json = JsonSerializer.Serialize(content, Web);
        var back = JsonSerializer.Deserialize<ActivityContent>(json, Web)!;
        Assert.Equal(content.ContentHash(), back.ContentHash());
        Assert.Equal(350.5m, back.Metric("drugsGrams"));
        Assert.Equal("drugs", back.DimensionValue("category"));
    }
}
