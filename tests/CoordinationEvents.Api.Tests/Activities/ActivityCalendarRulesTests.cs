using System.Text.Json;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;
using static CoordinationEvents.Api.Tests.Activities.LateReorganisation;

namespace CoordinationEvents.Api.Tests.Activities;

/// <summary>
/// organisation.md, "Posting": the unit, the partners and the location's commune must exist on the activity's
/// <c>occurredOn</c>, judged in the units' history (here the seed and an illustrative reform of 2025-07-01, in memory).
/// </summary>
public class ActivityCalendarRulesTests
{
    static readonly DateOnly Today = new(2026, 11, 22);
    static readonly UnitHistory Units = History(Today);

    static ValidationOutcome Check(string json, ActivityContent? current = null) =>
        ActivityRules.Check(JsonSerializer.Deserialize<ActivityRequest>(json, ServiceInstanceJson)!, Units, Today, current);

    static readonly JsonSerializerOptions ServiceInstanceJson = new(JsonSerializerDefaults.Web);

    static string Error(ValidationOutcome outcome, string key)
    {
        Assert.False(outcome.IsValid);
        Assert.True(outcome.Errors.TryGetValue(key, out var messages), $"no error under {key}: " + string.Join("; ", outcome.Errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}")));
        Assert.Equal([key], outcome.Errors.Keys);
        return Assert.Single(messages);
    }

    [Fact]
    public void A_unit_that_had_merged_is_refused_with_its_successor_and_the_date()
    {
        Assert.True(Check(Patrol("a", "hoang-then", "2025-06-30")).IsValid); // its last day
        var message = Error(Check(Patrol("a", "hoang-then", "2025-07-01")), "unitId");
        Assert.Contains("'hoang-then' (Xã Hoang Thèn)", message);
        Assert.Contains($"merged into '{NewCommune}' ({NewCommuneName}) from 2025-07-01", message);
    }

    [Fact]
    public void A_unit_not_yet_established_is_refused_with_the_day_it_starts()
    {
        Assert.True(Check(Patrol("a", NewCommune, "2025-07-01")).IsValid);
        var message = Error(Check(Patrol("a", NewCommune, "2025-06-30")), "unitId");
        Assert.Contains($"'{NewCommune}' ({NewCommuneName}) did not exist yet on 2025-06-30", message);
        Assert.Contains("established on 2025-07-01", message);
    }

    [Fact]
    public void A_dissolved_or_split_unit_is_refused_saying_so()
    {
        var dissolved = Error(Check(Patrol("a", "phong-tho", "2026-01-05")), "unitId");
        Assert.Contains("dissolved from 2025-07-01", dissolved);
        Assert.Contains("2025-06-30", dissolved);
        var split = Error(Check(Patrol("a", "pa-vay-su", "2025-09-01")), "unitId");
        Assert.Contains($"split into '{NewCommune}' ({NewCommuneName}) and 'si-lo-lau' (Xã Sì Lở Lầu) from 2025-07-01", split);
        Assert.True(Check(Patrol("a", "phong-tho", "2024-12-31")).IsValid);
    }

    [Fact]
    public void Partners_and_the_location_s_commune_are_judged_on_the_day_too()
    {
        var partner = Error(Check(Patrol("a", "don-ma-lu-thang", "2025-08-01", ["si-lo-lau", "ban-lang"])), "partnerUnitIds[1]");
        Assert.Contains($"merged into '{NewCommune}'", partner);
        Assert.Contains("established on 2025-07-01",
            Error(Check(Patrol("a", "don-ma-lu-thang", "2024-08-01", [NewCommune])), "partnerUnitIds[0]"));
        Assert.Contains("dissolved from 2025-07-01",
            Error(Check(Patrol("a", "don-ma-lu-thang", "2025-08-01", communeId: "dao-san")), "location.communeId"));
        Assert.Contains("established on 2025-07-01",
            Error(Check(Patrol("a", "don-ma-lu-thang", "2025-06-01", communeId: NewCommune)), "location.communeId"));
        Assert.True(Check(Patrol("a", "don-ma-lu-thang", "2025-08-01", [NewCommune, "si-lo-lau"], NewCommune)).IsValid);
        Assert.True(Check(Patrol("a", "don-ma-lu-thang", "2024-08-01", ["ban-lang", "phong-tho"], "dao-san")).IsValid);
        // The commune's type is that day's: a district is not a commune.
        Assert.Contains("was a district on 2024-08-01, not a commune or a ward",
            Error(Check(Patrol("a", "don-ma-lu-thang", "2024-08-01", communeId: "phong-tho")), "location.communeId"));
    }

    [Fact]
    public void A_unit_the_history_never_had_is_still_no_unit_and_a_bad_date_is_reported_alone()
    {
        Assert.Equal("There is no unit 'nowhere'.", Error(Check(Patrol("a", "nowhere", "2025-08-01")), "unitId"));
        // A future day: occurredOn's error only (the units are not judged on a day the activity cannot have).
        Assert.Contains("future", Error(Check(Patrol("a", "hoang-then", "2027-01-01")), "occurredOn"));
    }

    [Fact]
    public void A_correction_that_keeps_the_date_is_not_judged_again_on_the_units_it_already_named()
    {
        // Accepted before the reform was recorded: Hoang Thèn on 2025-08-01, with Bản Lang as partner, in Dào San.
        var accepted = ActivityRules.Check(JsonSerializer.Deserialize<ActivityRequest>(Patrol("a", "hoang-then", "2025-08-01", ["ban-lang"], "dao-san"), ServiceInstanceJson)!,
            SeedUnitLookup.Instance, Today).Content!;
        var corrected = Check(Patrol("a", "hoang-then", "2025-08-01", ["ban-lang"], "dao-san").Replace("Phối hợp", "Đã phối hợp"), accepted);
        Assert.True(corrected.IsValid, string.Join("; ", corrected.Errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}")));
        // Units it did not name before are judged on the day: existing ones pass, an ended one (Pa Vây Sử as the commune) does not.
        Assert.True(Check(Patrol("a", "hoang-then", "2025-08-01", ["ban-lang", "tung-qua-lin"], "dao-san"), accepted).IsValid);
        Assert.Contains("split into", Error(Check(Patrol("a", "hoang-then", "2025-08-01", ["ban-lang"], "pa-vay-su"), accepted), "location.communeId"));
        // Once the date changes, every unit is judged on the new day.
        var moved = Check(Patrol("a", "hoang-then", "2025-08-02", ["ban-lang"], "dao-san"), accepted);
        Assert.Equal(["location.communeId", "partnerUnitIds[0]", "unitId"], moved.Errors.Keys.Order(StringComparer.Ordinal));
    }
}
