using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace CoordinationEvents.Api.Tests.Statistics;

/// <summary>
/// The figures over reorganisations, against the test's own computation (<see cref="Organisation.Model"/>): a random
/// tree, a dated move and a rename recorded before the activities, then a merge, a split and a dissolution recorded
/// late (after activities dated after them), each restated through its durable message; random queries as it was and
/// carried forward, grouped by unit, kind, year and month, equal to the last unit.
/// </summary>
public sealed class ReorganisationTests(ApiFactory api, ITestOutputHelper output) : IClassFixture<ApiFactory>
{
    sealed record Posted(string Unit, DateOnly Day, int Participants);

    /// <summary>A patrol of <paramref name="unitId"/> on <paramref name="day"/> (no partners, no location): the body these tests post.</summary>
    internal static string Body(string externalId, string unitId, DateOnly day, int participants)
    {
        var node = JsonNode.Parse(ActivityExamples.ByKind["patrol"])!.AsObject();
        node["externalId"] = externalId;
        node["unitId"] = unitId;
        node["occurredOn"] = day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        node["partnerUnitIds"] = new JsonArray();
        node.Remove("location");
        node["details"]!["patrolParticipants"] = participants;
        return node.ToJsonString();
    }

    async Task PostAsync(List<Posted> posted, IEnumerable<Posted> items, string prefix)
    {
        var list = items.ToArray();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            using var reporter = api.Reporter;
            for (var i = w; i < list.Length; i += 8)
            {
                var response = await reporter.PostJsonAsync("/api/v1/activities", Body($"{prefix}-{i}", list[i].Unit, list[i].Day, list[i].Participants));
                Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
            }
        })));
        posted.AddRange(list);
    }

    static DateOnly Between(Random random, DateOnly a, DateOnly b) => a.AddDays(random.Next(b.DayNumber - a.DayNumber + 1));

    [Fact]
    public async Task Random_reorganisations_recorded_before_and_after_the_activities_give_the_figures_of_an_independent_computation()
    {
        var seed = Environment.TickCount;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var org = new Organisation(api);
        var p = $"r{(uint)seed % 100000}-";
        string U(string name) => p + name;
        var (start, end) = (new DateOnly(2019, 1, 1), new DateOnly(2024, 12, 31));

        // A random tree: a province, two to three districts each with communes and a border post, a border-guard command.
        var districts = Enumerable.Range(0, 2 + random.Next(2)).Select(i => U($"d{i}")).ToArray();
        var leaves = new List<string>();
        var events = new List<UnitEvent>
        {
            new UnitEstablished { UnitId = U("prov"), Name = "Tỉnh thử", Type = UnitTypes.Province },
            new UnitEstablished { UnitId = U("bgc"), Name = "Ban CHQS BĐBP", Type = UnitTypes.BorderGuardCommand, ParentId = U("prov") },
        };
        foreach (var d in districts)
        {
            events.Add(new UnitEstablished { UnitId = d, Name = "Huyện " + d, Type = UnitTypes.District, ParentId = U("prov") });
            for (var c = 0; c < 3 + random.Next(2); c++)
            {
                events.Add(new UnitEstablished { UnitId = $"{d}c{c}", Name = "Xã " + c, Type = UnitTypes.Commune, ParentId = d });
                leaves.Add($"{d}c{c}");
            }
            events.Add(new UnitEstablished { UnitId = d + "p", Name = "Đồn " + d, Type = UnitTypes.BorderPost, ParentId = d });
            leaves.Add(d + "p");
        }
        await org.AppendAsync([.. events]);

        // Recorded before the activities: a dated move of a border post under the command, and a rename.
        var d0 = districts[0];
        var d1 = districts[1];
        var moveDay = Between(random, new DateOnly(2019, 6, 1), new DateOnly(2020, 12, 31));
        await org.AppendAsync(
            new UnitMoved { UnitId = d0 + "p", ParentId = U("bgc"), EffectiveFrom = moveDay },
            new UnitRenamed { UnitId = d1 + "c1", Name = "Xã đổi tên", EffectiveFrom = moveDay.AddDays(17) });
        await org.PublishAsync(p + "early", moveDay, d0 + "p", d1 + "c1");

        var posted = new List<Posted>();
        var units = leaves.Concat(districts).Append(U("prov")).Append(U("bgc")).ToArray();
        await PostAsync(posted, Enumerable.Range(0, 260).Select(_ => new Posted(units[random.Next(units.Length)], Between(random, start, end), 1 + random.Next(20))), p + "a");
        await org.SettleAsync();

        // Recorded late, after activities dated after them: a merge (into a new commune), a split, a dissolution.
        var mergeDay = Between(random, new DateOnly(2021, 1, 1), new DateOnly(2022, 6, 30));
        var splitDay = Between(random, new DateOnly(2020, 1, 1), new DateOnly(2024, 6, 30));
        var dissolveDay = Between(random, new DateOnly(2023, 1, 1), new DateOnly(2024, 6, 30));
        var merged = U("merged");
        await org.AppendAsync(
            new UnitEstablished { UnitId = merged, Name = "Xã mới", Type = UnitTypes.Commune, ParentId = d0, EffectiveFrom = mergeDay },
            new UnitMerged { UnitId = d0 + "c0", Into = merged, EffectiveFrom = mergeDay },
            new UnitMerged { UnitId = d0 + "c1", Into = merged, EffectiveFrom = mergeDay });
        await org.PublishAsync(p + "merge", mergeDay, d0 + "c0", d0 + "c1", merged);
        await org.AppendAsync(
            new UnitEstablished { UnitId = U("s1"), Name = "Xã tách 1", Type = UnitTypes.Commune, ParentId = d1, EffectiveFrom = splitDay },
            new UnitEstablished { UnitId = U("s2"), Name = "Xã tách 2", Type = UnitTypes.Commune, ParentId = d1, EffectiveFrom = splitDay },
            new UnitSplit { UnitId = d1 + "c0", Into = [U("s1"), U("s2")], EffectiveFrom = splitDay });
        await org.PublishAsync(p + "split", splitDay, d1 + "c0", U("s1"), U("s2"));
        // Its children (the new commune and the communes left) move to the province on the same day.
        var left = leaves.Where(l => l.StartsWith(d0 + "c", StringComparison.Ordinal) && l != d0 + "c0" && l != d0 + "c1").Append(merged).ToArray();
        await org.AppendAsync([
            new UnitDissolved { UnitId = d0, ChildrenTo = U("prov"), EffectiveFrom = dissolveDay },
            .. left.Select(c => new UnitMoved { UnitId = c, ParentId = U("prov"), EffectiveFrom = dissolveDay })]);
        await org.PublishAsync(p + "dissolve", dissolveDay, [d0, .. left]);
        await org.PublishAsync(p + "merge", mergeDay, d0 + "c0", d0 + "c1", merged); // the same message again: restated once
        await org.SettleAsync();
        Assert.Equal(4, await api.ScalarAsync($"select count(*) from organisation_restates where change_id like '{p}%' and done_at is not null"));

        // Activities of the new units, after the changes.
        await PostAsync(posted, Enumerable.Range(0, 40).Select(i => i % 2 == 0
            ? new Posted(merged, Between(random, mergeDay, end), 1 + random.Next(20))
            : new Posted(U("s1"), Between(random, splitDay, end), 1 + random.Next(20))), p + "b");
        await org.SettleAsync();

        using var analyst = api.Analyst;
        var filters = new string?[] { U("prov"), d0, d1, merged, U("bgc"), d1 + "c0", null };
        string[][] groupings = [[], ["unit"], ["kind"], ["year"], ["month"], ["unit", "year"], ["kind", "unit", "month"]];
        var checkedRows = 0;
        for (var n = 0; n < 40; n++)
        {
            var unit = filters[random.Next(filters.Length)];
            var from = Between(random, new DateOnly(2018, 6, 1), new DateOnly(2024, 6, 30));
            var to = Between(random, from, new DateOnly(2025, 6, 30));
            var groupBy = groupings[random.Next(groupings.Length)];
            var lineage = unit is not null && random.Next(2) == 0;
            var url = $"/api/v1/statistics?from={from:yyyy-MM-dd}&to={to:yyyy-MM-dd}{(unit is null ? "" : "&unitId=" + unit)}"
                + (groupBy.Length > 0 ? "&groupBy=" + string.Join(',', groupBy) : "") + (lineage ? "&lineage=true" : "");
            var answer = await analyst.GetFromJsonAsync<JsonElement>(url);
            var (rows, totals) = Expect(org.Expected, posted, unit, from, to, groupBy, lineage);

            Assert.True(Same(totals, Metrics(answer.GetProperty("totals"))), $"{url}: totals {answer.GetProperty("totals")}, expected {Show(totals)}");
            if (groupBy.Length == 0) continue;
            var actual = answer.GetProperty("rows").EnumerateArray().ToDictionary(
                r => string.Join('|', groupBy.Select(g => r.GetProperty("key").GetProperty(g).GetString())), r => Metrics(r.GetProperty("metrics")));
            Assert.True(rows.Keys.Order().SequenceEqual(actual.Keys.Order()), $"{url}: rows {string.Join(", ", actual.Keys.Order())}, expected {string.Join(", ", rows.Keys.Order())}");
            foreach (var (key, expected) in rows)
                Assert.True(Same(expected, actual[key]), $"{url}: row {key} {Show(actual[key])}, expected {Show(expected)}");
            checkedRows += rows.Count;
            if (groupBy.Contains("unit"))
                foreach (var key in answer.GetProperty("rows").EnumerateArray().Select(r => r.GetProperty("key").GetProperty("unit").GetString()!))
                    Assert.True(answer.GetProperty("units").TryGetProperty(key, out _), $"{url}: units lacks {key}");
            if (lineage && unit == merged)
            {
                // The units whose figures the period carries: those that ended after it began.
                Assert.Equal(from < mergeDay ? [d0 + "c0", d0 + "c1"] : [],
                    answer.GetProperty("lineage").EnumerateArray().Select(l => l.GetProperty("unitId").GetString()).Order());
                if (from < mergeDay) Assert.Equal(mergeDay.AddDays(-1).ToString("yyyy-MM-dd"), answer.GetProperty("lineage")[0].GetProperty("until").GetString());
            }
            if (lineage && unit == U("s1"))
                Assert.Equal(d1 + "c0", answer.GetProperty("notCarried")[0].GetProperty("unitId").GetString());
        }
        output.WriteLine($"{checkedRows} rows checked");
        Assert.True(checkedRows > 20, "the queries checked too few rows to prove anything");

        // Restating again changes nothing (idempotent).
        const string again = "/api/v1/statistics?from=2019-01-01&to=2024-12-31&groupBy=unit,month&unitId=";
        var before = await analyst.GetStringAsync(again + U("prov"));
        await using (var cmd = api.Services.GetRequiredService<Npgsql.NpgsqlDataSource>().CreateCommand(
            "insert into organisation_restates (change_id, from_day, unit_ids) values ($1, '2019-01-01', $2)"))
        {
            cmd.Parameters.AddWithValue(p + "again");
            cmd.Parameters.AddWithValue(new[] { U("prov") });
            await cmd.ExecuteNonQueryAsync();
        }
        await org.SettleAsync();
        Assert.Equal(before, await analyst.GetStringAsync(again + U("prov")));
    }

    static Dictionary<string, decimal> Metrics(JsonElement metrics) => new()
    {
        ["activities"] = metrics.TryGetProperty("activities", out var a) ? a.GetDecimal() : 0,
        ["patrolParticipants"] = metrics.TryGetProperty("patrolParticipants", out var b) ? b.GetDecimal() : 0,
    };

    static bool Same(Dictionary<string, decimal> a, Dictionary<string, decimal> b) => a["activities"] == b["activities"] && a["patrolParticipants"] == b["patrolParticipants"];

    static string Show(Dictionary<string, decimal> m) => $"{m["activities"]}/{m["patrolParticipants"]}";

    /// <summary>The figures the query must give, computed from the posted activities and the test's own model of the tree.</summary>
    static (Dictionary<string, Dictionary<string, decimal>> Rows, Dictionary<string, decimal> Totals) Expect(Organisation.Model model, List<Posted> posted,
        string? unit, DateOnly from, DateOnly to, string[] groupBy, bool lineage)
    {
        var rows = new Dictionary<string, Dictionary<string, decimal>>();
        var totals = new Dictionary<string, decimal> { ["activities"] = 0, ["patrolParticipants"] = 0 };
        var carried = lineage && unit is not null ? model.Carried(unit) : [];
        foreach (var a in posted.Where(a => a.Day >= from && a.Day <= to))
        {
            var holders = model.Holders(a.Unit, a.Day);
            string row;
            if (unit is null) row = holders[^1];
            else if (holders.IndexOf(unit) is var at && at >= 0) row = at == 0 ? unit : holders[at - 1];
            else if (holders.LastOrDefault(h => carried.TryGetValue(h, out var until) && a.Day < until) is { } taken) row = taken;
            else continue;
            totals["activities"] += 1;
            totals["patrolParticipants"] += a.Participants;
            var key = string.Join('|', groupBy.Select(g => g switch
            {
                "unit" => row,
                "kind" => "patrol",
                "year" => a.Day.Year.ToString(CultureInfo.InvariantCulture),
                _ => a.Day.ToString("yyyy-MM", CultureInfo.InvariantCulture),
            }));
            if (groupBy.Length == 0) continue;
            if (!rows.TryGetValue(key, out var m)) rows[key] = m = new Dictionary<string, decimal> { ["activities"] = 0, ["patrolParticipants"] = 0 };
            m["activities"] += 1;
            m["patrolParticipants"] += a.Participants;
        }
        return (rows, totals);
    }
}
