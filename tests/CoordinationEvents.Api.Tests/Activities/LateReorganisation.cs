using System.Text.Json.Nodes;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Units;
using CoordinationEvents.Api.Activities;
using Marten;
using Microsoft.Extensions.DependencyInjection;

namespace CoordinationEvents.Api.Tests.Activities;

/// <summary>
/// An illustrative reform of Phong Thổ on 2025-07-01, as unit events appended straight to the store (the
/// reorganisation endpoint is written elsewhere): Hoang Thèn and Bản Lang merge into a new commune, Khổng Lào, under
/// the province; Dào San is dissolved; Pa Vây Sử is split between Khổng Lào and Sì Lở Lầu; the district is dissolved
/// and its other units move under the province from that day.
/// </summary>
public static class LateReorganisation
{
    public static readonly DateOnly Reform = new(2025, 7, 1);
    public const string NewCommune = "khong-lao";
    public const string NewCommuneName = "Xã Khổng Lào";

    static readonly string[] Stays =
    [
        "si-lo-lau", "mo-si-san", "vang-ma-chai", "tung-qua-lin", "ma-ly-pho", "huoi-luong", "nam-xe", "sin-suoi-ho",
        "don-ma-lu-thang", "don-dao-san", "don-si-lo-lau", "don-vang-ma-chai", "don-huoi-luong",
    ];

    /// <summary>The reform's unit events, each with the unit's stream id.</summary>
    public static IReadOnlyList<(Guid Stream, UnitEvent Event, bool Starts)> Events(DateTimeOffset recordedAt)
    {
        var list = new List<(Guid, UnitEvent, bool)>();
        void Add(UnitEvent e, bool starts = false) => list.Add((UnitEventTypes.StreamIdOf(e.UnitId), e with { RecordedAt = recordedAt, By = "test", ReorganisationId = "nq-1670-test" }, starts));
        Add(new UnitEstablished { UnitId = NewCommune, Name = NewCommuneName, Type = UnitTypes.Commune, ParentId = "lai-chau", EffectiveFrom = Reform }, starts: true);
        Add(new UnitMerged { UnitId = "hoang-then", Into = NewCommune, EffectiveFrom = Reform });
        Add(new UnitMerged { UnitId = "ban-lang", Into = NewCommune, EffectiveFrom = Reform });
        Add(new UnitDissolved { UnitId = "dao-san", EffectiveFrom = Reform });
        Add(new UnitSplit { UnitId = "pa-vay-su", Into = [NewCommune, "si-lo-lau"], EffectiveFrom = Reform });
        foreach (var unit in Stays) Add(new UnitMoved { UnitId = unit, ParentId = "lai-chau", EffectiveFrom = Reform });
        Add(new UnitDissolved { UnitId = "phong-tho", ChildrenTo = "lai-chau", EffectiveFrom = Reform });
        return list;
    }

    /// <summary>The seed and the reform, in memory.</summary>
    public static UnitHistory History(DateOnly today)
    {
        var records = UnitSeed.Units.ToDictionary(u => u.UnitId, u => new UnitRecord { Id = UnitEventTypes.StreamIdOf(u.UnitId), UnitId = u.UnitId }
            .With(new UnitEstablished { UnitId = u.UnitId, Name = u.Name, Type = u.Type, ParentId = u.ParentId }));
        foreach (var (stream, e, _) in Events(DateTimeOffset.UnixEpoch))
            records[e.UnitId] = (records.GetValueOrDefault(e.UnitId) ?? new UnitRecord { Id = stream }).With(e);
        return new UnitHistory(records.Values, today);
    }

    /// <summary>Records the reform in the service's store (late: whatever was posted before stays), and makes the service see it at once.</summary>
    public static async Task ApplyAsync(IServiceProvider services, IEnumerable<(Guid Stream, UnitEvent Event, bool Starts)> events)
    {
        var store = services.GetRequiredService<IDocumentStore>();
        await using (var session = store.LightweightSession())
        {
            foreach (var (stream, e, starts) in events)
                if (starts) session.Events.StartStream(stream, e);
                else session.Events.Append(stream, e);
            await session.SaveChangesAsync();
        }
        await services.GetRequiredService<UnitDirectory>().ReloadAsync();
    }

    /// <summary>A patrol of <paramref name="unitId"/> on <paramref name="occurredOn"/>, with the partners and the commune given (none by default).</summary>
    public static string Patrol(string externalId, string unitId, string occurredOn, string[]? partners = null, string? communeId = null)
    {
        var node = JsonNode.Parse(ActivityExamples.ByKind["patrol"])!.AsObject();
        node["externalId"] = externalId;
        node["unitId"] = unitId;
        node["occurredOn"] = occurredOn;
        node["partnerUnitIds"] = new JsonArray((partners ?? []).Select(p => (JsonNode)JsonValue.Create(p)!).ToArray());
        if (communeId is null) node.Remove("location");
        else node["location"] = new JsonObject { ["communeId"] = communeId, ["placeName"] = "Mốc 79" };
        return node.ToJsonString();
    }
}
