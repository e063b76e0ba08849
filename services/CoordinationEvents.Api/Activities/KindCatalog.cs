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
/// <param name="Label">Its Vietnamese name as the officials write it (NFC), e.g. "Số lần tuần tra".</param>
/// <param name="Unit">Its unit of measure in Vietnamese (NFC), e.g. "lần", "lượt người", "km", "đồng".</param>
/// <param name="IsKindCount">The kind's own count (patrols, meetings …): defaults to 1 and is at least 1.</param>
/// <param name="IsStock">A stock (self-management): the latest declaration counts, not the sum.</param>
public sealed record MetricDefinition(string Name, MetricType Type, string Label, string Unit, bool IsKindCount = false, bool IsStock = false);

/// <summary>One value of a dimension, with its Vietnamese label (NFC).</summary>
public sealed record DimensionValue(string Name, string Label);

/// <summary>A dimension of a kind: its values in display order, each with its Vietnamese label.</summary>
public sealed record DimensionDefinition(string Name, string Label, IReadOnlyList<DimensionValue> ValueLabels)
{
    public IReadOnlyList<string> Values { get; } = ValueLabels.Select(v => v.Name).ToArray();
}

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

/// <summary>
/// The 13 kinds, their dimensions, metrics and text fields: domain.md's table as data, with the Vietnamese names,
/// units and value labels that the officials use (shared/seeds/003_…). It is the one source: the dashboard reads it
/// from <c>GET /api/v1/catalog</c>.
/// </summary>
public static class KindCatalog
{
    /// <summary>Every activity counts 1 here, whatever its kind.</summary>
    public const string ActivitiesMetric = "activities";

    public const int MaxCount = 1_000_000;
    public const decimal MaxDecimal = 1_000_000m;
    public const int DecimalPlaces = 3;
    public const long MaxVnd = 10_000_000_000_000;
    public const int MaxTextLength = 500;

    /// <summary>The metric that every activity counts 1 in, whatever its kind.</summary>
    public static readonly MetricDefinition Activities = new(ActivitiesMetric, MetricType.Count, "Số hoạt động", "hoạt động");

    static DimensionDefinition Dim(string name, string label, params (string Value, string Label)[] values) =>
        new(name, label, values.Select(v => new DimensionValue(v.Value, v.Label)).ToArray());
    static MetricDefinition Count(string name, string label, string unit) => new(name, MetricType.Count, label, unit);
    static MetricDefinition KindCount(string name, string label, string unit) => new(name, MetricType.Count, label, unit, IsKindCount: true);
    static MetricDefinition Dec(string name, string label, string unit) => new(name, MetricType.Decimal, label, unit);
    static MetricDefinition Vnd(string name, string label) => new(name, MetricType.Vnd, label, "đồng");
    static MetricDefinition Stock(string name, string label, string unit, MetricType type = MetricType.Count) => new(name, type, label, unit, IsStock: true);

    public static readonly IReadOnlyList<KindDefinition> All =
    [
        new("patrol", "Tuần tra",
            [Dim("mode", "Hình thức tuần tra", ("independent", "Độc lập"), ("joint", "Phối hợp"), ("bilateral", "Song phương"))],
            [KindCount("patrols", "Số lần tuần tra", "lần"), Count("patrolParticipants", "Lượt người tham gia tuần tra", "lượt người"),
             Count("markersInspected", "Lượt cột mốc được kiểm tra", "lượt"),
             Count("intrusionsDetected", "Lượt người nước ngoài sang đất ta bị phát hiện", "lượt người"),
             Dec("distanceKm", "Quãng đường tuần tra", "km")],
            []),
        new("meeting", "Hội nghị, giao ban, hội đàm",
            [Dim("format", "Hình thức hội nghị", ("review-conference", "Hội nghị sơ kết, tổng kết"), ("briefing", "Giao ban"),
                 ("talks", "Hội đàm với phía nước bạn"), ("delegation", "Đoàn qua lại làm việc")),
             Dim("level", "Cấp", ("province", "Cấp tỉnh"), ("district", "Cấp huyện"), ("post", "Cấp Đồn Biên phòng"), ("commune", "Cấp xã"))],
            [KindCount("meetings", "Số cuộc hội nghị, giao ban, hội đàm", "cuộc"), Count("meetingAttendees", "Lượt người dự", "lượt người"),
             Count("delegations", "Số đoàn qua lại hội đàm, làm việc", "đoàn")],
            ["counterpart"]),
        new("twinning", "Kết nghĩa",
            [Dim("pairType", "Loại cặp kết nghĩa", ("village-village", "Thôn - bản"), ("post-station", "Đồn - trạm biên phòng"),
                 ("commune-commune", "Xã - xã"), ("other", "Khác")),
             Dim("ceremony", "Hoạt động kết nghĩa", ("signing", "Ký kết"), ("review", "Sơ kết, tổng kết"), ("exchange", "Giao lưu"))],
            [KindCount("twinningEvents", "Số hoạt động kết nghĩa", "hoạt động"), Count("pairsSigned", "Số cặp ký kết kết nghĩa", "cặp"),
             Count("twinningParticipants", "Lượt người tham gia kết nghĩa", "lượt người")],
            ["domesticParty", "foreignParty"]),
        new("crime-bust", "Đấu tranh phòng, chống tội phạm",
            [Dim("category", "Loại vụ việc", ("drugs", "Ma túy"), ("smuggling", "Buôn lậu"), ("trade-fraud", "Gian lận thương mại"),
                 ("illegal-border-crossing", "Xuất, nhập cảnh trái phép"), ("human-trafficking", "Mua bán người"), ("counterfeit-money", "Tiền giả"),
                 ("weapons-explosives", "Vũ khí, vật liệu nổ"), ("border-regulation", "Vi phạm quy chế biên giới"), ("other", "Khác")),
             Dim("outcome", "Kết quả xử lý", ("prosecuted", "Khởi tố"), ("administrative", "Xử lý vi phạm hành chính"),
                 ("transferred", "Chuyển cơ quan chức năng"), ("pending", "Đang xác minh"))],
            [KindCount("cases", "Số vụ phát hiện", "vụ"), Count("subjects", "Số đối tượng", "đối tượng"), Dec("drugsGrams", "Ma túy thu giữ", "gam"),
             Vnd("goodsValueVnd", "Trị giá hàng hóa vi phạm"), Vnd("finesVnd", "Tiền phạt")],
            []),
        new("weapons-recovery", "Vận động thu hồi vũ khí, vật liệu nổ",
            [],
            [Count("weaponsRecovered", "Súng các loại thu hồi", "khẩu"), Dec("explosivesKg", "Vật liệu nổ thu hồi", "kg"),
             Count("ammunitionRounds", "Đạn các loại thu hồi", "viên")],
            []),
        new("outreach", "Tuyên truyền, phổ biến giáo dục pháp luật",
            [Dim("channel", "Hình thức tuyên truyền", ("meeting", "Họp dân"), ("loudspeaker", "Loa truyền thanh"), ("school", "Tại trường học"),
                 ("media", "Phương tiện thông tin đại chúng"), ("door-to-door", "Đến từng hộ gia đình"))],
            [KindCount("outreachSessions", "Số buổi tuyên truyền", "buổi"), Count("outreachAttendees", "Lượt người nghe", "lượt người"),
             Count("householdsGifted", "Hộ được tặng ảnh Bác Hồ, cờ Tổ quốc", "hộ")],
            []),
        new("political-base", "Xây dựng cơ sở chính trị",
            [],
            [Count("cadresSeconded", "Cán bộ Biên phòng tăng cường cho xã", "đồng chí"), Count("partyMembersAdmitted", "Đảng viên được kết nạp", "đảng viên"),
             Count("partyCellsEstablished", "Chi bộ được thành lập", "chi bộ"), Count("partyCellsConsolidated", "Chi bộ được củng cố", "chi bộ"),
             Count("massOrganizationsConsolidated", "Tổ chức đoàn thể được củng cố", "tổ chức"),
             Count("militiaTrained", "Lượt dân quân, công an viên được huấn luyện", "lượt"), Count("householdsAssisted", "Hộ được giúp đỡ", "hộ")],
            []),
        new("welfare", "Giúp dân phát triển kinh tế - xã hội, an sinh",
            [],
            [Count("housesBuilt", "Nhà Đại đoàn kết được xây dựng", "căn"), Count("civilWorks", "Công trình dân sinh", "công trình"),
             Count("classroomsBuilt", "Phòng học làm mới, tu sửa", "phòng"), Count("childrenSponsored", "Học sinh được nhận đỡ đầu", "em"),
             Count("livestockGiven", "Con giống hỗ trợ", "con"), Vnd("supportValueVnd", "Trị giá hỗ trợ"), Count("workdays", "Ngày công giúp dân", "ngày công")],
            ["programme"]),
        new("self-management", "Tự quản đường biên, cột mốc",
            [],
            [Stock("selfManagedCollectives", "Tập thể tự quản", "tập thể"), Stock("selfManagedIndividuals", "Hộ, cá nhân tự quản", "hộ/cá nhân"),
             Stock("selfManagedBorderKm", "Đường biên giới tự quản", "km", MetricType.Decimal), Stock("selfManagedMarkers", "Cột mốc tự quản", "cột mốc")],
            []),
        new("rescue", "Phòng, chống thiên tai, tìm kiếm cứu nạn",
            [Dim("hazard", "Loại thiên tai, sự cố", ("flood", "Lũ, lụt"), ("landslide", "Sạt lở đất"), ("fire", "Hỏa hoạn"), ("forest-fire", "Cháy rừng"),
                 ("storm", "Bão, lốc"), ("epidemic", "Dịch bệnh"), ("other", "Khác"))],
            [KindCount("rescueOperations", "Số lần cứu hộ, cứu nạn", "lần"), Count("rescuePersonnel", "Lượt cán bộ, chiến sĩ tham gia", "lượt người"),
             Count("peopleRescued", "Người được cứu", "người"), Count("householdsHelped", "Hộ được giúp khắc phục hậu quả", "hộ")],
            []),
        new("border-day", "Ngày Biên phòng toàn dân",
            [],
            [KindCount("borderDayEvents", "Số buổi Ngày hội Biên phòng toàn dân", "buổi"), Count("borderDayAttendees", "Lượt người tham gia Ngày hội", "lượt người"),
             Vnd("giftsValueVnd", "Trị giá quà tặng")],
            []),
        new("commendation", "Khen thưởng",
            [Dim("level", "Cấp", ("government", "Chính phủ"), ("ministry", "Cấp Bộ"), ("province", "Cấp tỉnh"), ("district", "Cấp huyện"), ("unit", "Cấp đơn vị"))],
            [Count("commendedCollectives", "Tập thể được khen thưởng", "tập thể"), Count("commendedIndividuals", "Cá nhân được khen thưởng", "cá nhân")],
            ["award"]),
        new("foreign-affairs", "Đối ngoại biên phòng, ngoại giao nhân dân",
            [Dim("form", "Hình thức đối ngoại", ("letter", "Thư, điện"), ("visit", "Thăm hỏi"), ("cultural-exchange", "Giao lưu văn hóa"),
                 ("sports-exchange", "Giao lưu thể thao"), ("hotline", "Đường dây nóng"), ("information-exchange", "Trao đổi thông tin"))],
            [KindCount("exchanges", "Số hoạt động đối ngoại", "hoạt động"), Count("exchangeParticipants", "Lượt người tham gia đối ngoại", "lượt người")],
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
