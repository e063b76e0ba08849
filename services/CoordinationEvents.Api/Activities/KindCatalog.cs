namespace CoordinationEvents.Api.Activities;

public enum MetricType
{
    /// <summary>A whole count, 0..1,000,000 in one record.</summary>
    Count,
    /// <summary>A decimal, 0..1,000,000, at most 3 decimal places.</summary>
    Decimal,
    /// <summary>A whole amount of Vietnamese đồng, 0..10^13.</summary>
    Vnd,
}

/// <param name="Name">Unique across kinds, so totals over several kinds never mix two meanings.</param>
/// <param name="IsKindCount">The kind's own count (patrols, meetings …): defaults to 1 and is at least 1.</param>
/// <param name="IsStock">A stock (self-management): the latest declaration counts, not the sum.</param>
public sealed record MetricDefinition(string Name, MetricType Type, bool IsKindCount = false, bool IsStock = false);

public sealed record DimensionDefinition(string Name, IReadOnlyList<string> Values);

/// <summary>One of the 13 activity kinds of domain.md: what its details may hold.</summary>
public sealed record KindDefinition(
    string Name,
    string VietnameseName,
    IReadOnlyList<DimensionDefinition> Dimensions,
    IReadOnlyList<MetricDefinition> Metrics,
    IReadOnlyList<string> TextFields)
{
    public bool IsStock => Metrics.Any(m => m.IsStock);

    public DimensionDefinition? Dimension(string name) => Dimensions.FirstOrDefault(d => d.Name == name);

    public MetricDefinition? Metric(string name) => Metrics.FirstOrDefault(m => m.Name == name);
}

/// <summary>The 13 kinds, their dimensions, metrics and text fields: domain.md's table as data.</summary>
public static class KindCatalog
{
    /// <summary>Every activity counts 1 here, whatever its kind.</summary>
    public const string ActivitiesMetric = "activities";

    public const int MaxCount = 1_000_000;
    public const decimal MaxDecimal = 1_000_000m;
    public const int DecimalPlaces = 3;
    public const long MaxVnd = 10_000_000_000_000;
    public const int MaxTextLength = 500;

    static DimensionDefinition Dim(string name, params string[] values) => new(name, values);
    static MetricDefinition Count(string name) => new(name, MetricType.Count);
    static MetricDefinition KindCount(string name) => new(name, MetricType.Count, IsKindCount: true);
    static MetricDefinition Dec(string name) => new(name, MetricType.Decimal);
    static MetricDefinition Vnd(string name) => new(name, MetricType.Vnd);
    static MetricDefinition Stock(string name, MetricType type = MetricType.Count) => new(name, type, IsStock: true);

    public static readonly IReadOnlyList<KindDefinition> All =
    [
        new("patrol", "Tuần tra",
            [Dim("mode", "independent", "joint", "bilateral")],
            [KindCount("patrols"), Count("patrolParticipants"), Count("markersInspected"), Count("intrusionsDetected"), Dec("distanceKm")],
            []),
        new("meeting", "Hội nghị, giao ban, hội đàm",
            [Dim("format", "review-conference", "briefing", "talks", "delegation"), Dim("level", "province", "district", "post", "commune")],
            [KindCount("meetings"), Count("meetingAttendees"), Count("delegations")],
            ["counterpart"]),
        new("twinning", "Kết nghĩa",
            [Dim("pairType", "village-village", "post-station", "commune-commune", "other"), Dim("ceremony", "signing", "review", "exchange")],
            [KindCount("twinningEvents"), Count("pairsSigned"), Count("twinningParticipants")],
            ["domesticParty", "foreignParty"]),
        new("crime-bust", "Đấu tranh phòng chống tội phạm",
            [Dim("category", "drugs", "smuggling", "trade-fraud", "illegal-border-crossing", "human-trafficking", "counterfeit-money", "weapons-explosives", "border-regulation", "other"),
             Dim("outcome", "prosecuted", "administrative", "transferred", "pending")],
            [KindCount("cases"), Count("subjects"), Dec("drugsGrams"), Vnd("goodsValueVnd"), Vnd("finesVnd")],
            []),
        new("weapons-recovery", "Vận động thu hồi vũ khí, vật liệu nổ",
            [],
            [Count("weaponsRecovered"), Dec("explosivesKg"), Count("ammunitionRounds")],
            []),
        new("outreach", "Tuyên truyền, phổ biến giáo dục pháp luật",
            [Dim("channel", "meeting", "loudspeaker", "school", "media", "door-to-door")],
            [KindCount("outreachSessions"), Count("outreachAttendees"), Count("householdsGifted")],
            []),
        new("political-base", "Xây dựng cơ sở chính trị",
            [],
            [Count("cadresSeconded"), Count("partyMembersAdmitted"), Count("partyCellsEstablished"), Count("partyCellsConsolidated"),
             Count("massOrganizationsConsolidated"), Count("militiaTrained"), Count("householdsAssisted")],
            []),
        new("welfare", "Giúp dân phát triển kinh tế - xã hội, an sinh",
            [],
            [Count("housesBuilt"), Count("civilWorks"), Count("classroomsBuilt"), Count("childrenSponsored"), Count("livestockGiven"),
             Vnd("supportValueVnd"), Count("workdays")],
            ["programme"]),
        new("self-management", "Tự quản đường biên, cột mốc",
            [],
            [Stock("selfManagedCollectives"), Stock("selfManagedIndividuals"), Stock("selfManagedBorderKm", MetricType.Decimal), Stock("selfManagedMarkers")],
            []),
        new("rescue", "Phòng chống thiên tai, tìm kiếm cứu nạn",
            [Dim("hazard", "flood", "landslide", "fire", "forest-fire", "storm", "epidemic", "other")],
            [KindCount("rescueOperations"), Count("rescuePersonnel"), Count("peopleRescued"), Count("householdsHelped")],
            []),
        new("border-day", "Ngày Biên phòng toàn dân",
            [],
            [KindCount("borderDayEvents"), Count("borderDayAttendees"), Vnd("giftsValueVnd")],
            []),
        new("commendation", "Khen thưởng",
            [Dim("level", "government", "ministry", "province", "district", "unit")],
            [Count("commendedCollectives"), Count("commendedIndividuals")],
            ["award"]),
        new("foreign-affairs", "Đối ngoại biên phòng, ngoại giao nhân dân",
            [Dim("form", "letter", "visit", "cultural-exchange", "sports-exchange", "hotline", "information-exchange")],
            [KindCount("exchanges"), Count("exchangeParticipants")],
            ["counterpart"]),
    ];

    static readonly Dictionary<string, KindDefinition> ByName = All.ToDictionary(k => k.Name, StringComparer.Ordinal);

    /// <summary>Every dimension name, in a stable order (a name such as <c>level</c> is shared by two kinds).</summary>
    public static readonly IReadOnlyList<string> DimensionNames =
        All.SelectMany(k => k.Dimensions).Select(d => d.Name).Distinct().ToArray();

    /// <summary>Every metric name, <c>activities</c> first, in catalog order.</summary>
    public static readonly IReadOnlyList<string> MetricNames =
        new[] { ActivitiesMetric }.Concat(All.SelectMany(k => k.Metrics).Select(m => m.Name)).ToArray();

    public static bool TryGet(string? name, out KindDefinition kind)
    {
        kind = null!;
        return name is not null && ByName.TryGetValue(name, out kind!);
    }

    public static KindDefinition Get(string name) =>
        ByName.TryGetValue(name, out var kind) ? kind : throw new KeyNotFoundException($"Unknown activity kind '{name}'.");
}
