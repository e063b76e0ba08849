using System.Text.Json;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Demo;

namespace CoordinationEvents.Api.Tests.Demo;

/// <summary>The demo's record of Lai Châu's 2025 reform and the new units' year of activities, checked without a server.</summary>
public class DemoReformTests
{
    static JsonElement Reorganisation() => JsonSerializer.SerializeToElement(DemoReform.Reorganisation(), new JsonSerializerOptions(JsonSerializerDefaults.Web));

    [Fact]
    public void Every_commune_of_Phong_Tho_goes_into_one_new_commune_and_every_post_under_the_command()
    {
        var merged = DemoReform.Communes.SelectMany(c => c.MergedFrom).ToArray();
        Assert.Equal(merged.Length, merged.Distinct().Count());
        Assert.Equal(DemoUnits.PhongTho.Communes.Select(c => c.CommuneId).Order(), merged.Order());
        // The one merger a source names (organisation.md): the new Khổng Lào took in Hoang Thèn and Bản Lang.
        var khongLao = Assert.Single(DemoReform.Communes, c => c.Cited);
        Assert.Equal(["hoang-then", "ban-lang"], khongLao.MergedFrom);

        var body = Reorganisation();
        Assert.Equal("2025-07-01", body.GetProperty("effectiveFrom").GetString());
        Assert.Contains("1670/NQ-UBTVQH15", body.GetProperty("title").GetString());
        var changes = body.GetProperty("changes").EnumerateArray().ToArray();
        var ops = changes.Select(c => c.GetProperty("op").GetString()).ToArray();
        // Parents first, then moves and merges, the district last (it has no children left to hand on but the province's).
        Assert.Equal(ops.OrderBy(o => Array.IndexOf(["establish", "move", "merge", "dissolve"], o)), ops);
        Assert.Equal(DemoUnits.PhongTho.Posts.Select(p => p.PostId),
            changes.Where(c => c.GetProperty("op").GetString() == "move" && c.GetProperty("parentId").GetString() == DemoReform.Command)
                .Select(c => c.GetProperty("unitId").GetString()));
        var command = changes.Single(c => c.GetProperty("op").GetString() == "establish" && c.GetProperty("unitId").GetString() == DemoReform.Command);
        Assert.Equal("border-guard-command", command.GetProperty("type").GetString());
        Assert.Equal("lai-chau", command.GetProperty("parentId").GetString());
        var dissolve = changes.Last();
        Assert.Equal(("dissolve", "phong-tho"), (dissolve.GetProperty("op").GetString(), dissolve.GetProperty("unitId").GetString()));
    }

    [Fact]
    public void The_new_units_activities_are_valid_dated_after_the_reform_and_for_units_that_exist_then()
    {
        var activities = DemoReform.Activities();
        var after = DemoReform.Communes.Select(c => c.UnitId).Concat(DemoUnits.PhongTho.Posts.Select(p => p.PostId)).ToHashSet(StringComparer.Ordinal);
        var communes = DemoReform.Communes.Select(c => c.UnitId).ToHashSet(StringComparer.Ordinal);
        var ids = activities.Select(a => a.ExternalId!).ToArray();
        Assert.Equal(ids.Length, ids.Distinct(StringComparer.Ordinal).Count());
        Assert.Empty(ids.Intersect(DemoDataset.Build().Activities.Select(a => a.ExternalId!), StringComparer.Ordinal));
        Assert.Equal(ids, DemoReform.Activities().Select(a => a.ExternalId!)); // deterministic

        foreach (var activity in activities)
        {
            var id = activity.ExternalId!;
            Assert.True(KindCatalog.TryGet(activity.Kind, out var kind), $"{id}: unknown kind {activity.Kind}");
            Assert.Contains(activity.UnitId!, after);
            Assert.All(activity.PartnerUnitIds ?? [], p => Assert.Contains(p, after));
            if (activity.Location?.CommuneId is { } commune) Assert.Contains(commune, communes);
            Assert.InRange(activity.OccurredOn!.Value, DemoReform.ActivitiesFrom, DemoReform.ActivitiesTo);
            if (activity.EndsOn is { } endsOn) Assert.InRange(endsOn, activity.OccurredOn!.Value, DemoReform.ActivitiesTo);
            var details = activity.Details!.Value;
            foreach (var dimension in kind.Dimensions)
            {
                Assert.True(details.TryGetProperty(dimension.Name, out var value), $"{id}: no {dimension.Name}");
                Assert.Contains(value.GetString(), dimension.Values);
            }
            foreach (var property in details.EnumerateObject().Where(p => kind.Dimension(p.Name) is null))
            {
                var metric = kind.Metric(property.Name);
                Assert.True(metric is not null, $"{id}: {property.Name} is not a field of {kind.Name}");
                Assert.True(property.Value.GetDecimal() >= 0);
            }
        }
        // Every new commune records, so that each has a report for July 2025 – June 2026.
        Assert.Equal(communes.Order(), activities.Select(a => a.UnitId!).Where(communes.Contains).Distinct().Order());
    }
}
