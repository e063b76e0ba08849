using System.Text.Json;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Reports;
using CoordinationEvents.Contracts.V1;

namespace CoordinationEvents.Api.Tests.Reports;

public class ReviewReportTests
{
    static readonly DateOnly From2019 = new(2019, 1, 1);
    static readonly DateOnly To2024 = new(2024, 12, 31);

    /// <summary>A statistics row grouped by kind and every dimension: null for the dimensions not given.</summary>
    static StatisticsRow Row(string kind, (string Dimension, string Value)[] dimensions, params (string Metric, decimal Value)[] metrics)
    {
        var key = new Dictionary<string, string?> { ["kind"] = kind };
        foreach (var name in ReviewFigures.GroupBy.Skip(1))
        {
            key[name] = null;
        }
        foreach (var (dimension, value) in dimensions)
        {
            Assert.True(key.ContainsKey(dimension), $"unknown dimension {dimension}");
            key[dimension] = value;
        }
        var values = metrics.ToDictionary(m => m.Metric, m => m.Value);
        values["activities"] = values.GetValueOrDefault("activities", 1m);
        return new StatisticsRow(key, values);
    }

    static StatisticsRow Row(string kind, params (string Metric, decimal Value)[] metrics) => Row(kind, [], metrics);

    /// <summary>Phong Thổ 2019–2024 as domain.md's worked example gives 003's figures.</summary>
    static ReviewFigures PhongTho003() => new(
    [
        Row("patrol", [("mode", "independent")], ("patrols", 900), ("patrolParticipants", 5000), ("intrusionsDetected", 200)),
        Row("patrol", [("mode", "joint")], ("patrols", 300), ("patrolParticipants", 2500), ("intrusionsDetected", 70)),
        Row("patrol", [("mode", "bilateral")], ("patrols", 36), ("patrolParticipants", 420), ("intrusionsDetected", 10)),
        Row("crime-bust", [("category", "drugs"), ("outcome", "prosecuted")], ("cases", 40), ("subjects", 42)),
        Row("crime-bust", [("category", "illegal-border-crossing"), ("outcome", "prosecuted")], ("cases", 20), ("subjects", 22)),
        Row("crime-bust", [("category", "smuggling"), ("outcome", "prosecuted")], ("cases", 14), ("subjects", 14)),
        Row("crime-bust", [("category", "border-regulation"), ("outcome", "administrative")], ("cases", 82), ("subjects", 702)),
        Row("weapons-recovery", ("weaponsRecovered", 270)),
        Row("outreach", [("channel", "meeting")], ("outreachSessions", 600), ("outreachAttendees", 40_000), ("householdsGifted", 3_000)),
        Row("outreach", [("channel", "loudspeaker")], ("outreachSessions", 644), ("outreachAttendees", 29_750)),
        Row("meeting", [("format", "talks"), ("level", "province")], ("meetings", 26)),
        Row("meeting", [("format", "talks"), ("level", "post")], ("meetings", 109)),
        Row("meeting", [("format", "delegation"), ("level", "district")], ("meetings", 20), ("delegations", 32)),
        Row("twinning", [("pairType", "village-village"), ("ceremony", "signing")], ("twinningEvents", 4), ("pairsSigned", 4)),
        Row("twinning", [("pairType", "post-station"), ("ceremony", "signing")], ("twinningEvents", 3), ("pairsSigned", 3)),
        Row("self-management", ("selfManagedCollectives", 63), ("selfManagedIndividuals", 460), ("selfManagedBorderKm", 97.229m), ("selfManagedMarkers", 27)),
        Row("political-base", ("cadresSeconded", 12), ("partyMembersAdmitted", 484), ("militiaTrained", 5_148)),
        Row("welfare", ("housesBuilt", 74), ("civilWorks", 21), ("classroomsBuilt", 420)),
    ]);

    static string[][] Texts(ReviewReportDocument report) =>
        report.Sections.Select(s => new[] { s.Title }.Concat(s.Lines.Select(l => l.Text)).ToArray()).ToArray();

    [Fact]
    public void Phong_Tho_003_figures_give_the_lines_of_the_report()
    {
        var report = ReviewReport.Build("phong-tho", "Phong Thổ", From2019, To2024, PhongTho003());

        Assert.False(report.IsEmpty);
        Assert.Equal("phong-tho", report.UnitId);
        Assert.Equal("Báo cáo sơ kết thực hiện quy chế phối hợp — Phong Thổ, giai đoạn 2019 – 2024", report.Title);
        string[][] expected =
        [
            [
                "Công tác tuyên truyền, giáo dục",
                "Tổ chức tuyên truyền được 1.244 buổi/69.750 lượt người nghe",
                "Trong đó: lồng ghép tại hội nghị, buổi sinh hoạt 600 buổi, trên hệ thống loa truyền thanh 644 buổi",
                "Tặng ảnh Bác Hồ và cờ Tổ quốc cho 3.000 hộ dân ở các bản giáp biên giới",
            ],
            [
                "Quản lý, bảo vệ chủ quyền, giữ vững an ninh chính trị, trật tự an toàn xã hội khu vực biên giới",
                "Tổ chức tuần tra 1.236 lần/7.920 lượt người tham gia",
                "Trong đó: tuần tra độc lập 900 lần, tuần tra phối hợp 300 lần, tuần tra song phương 36 lần",
                "Qua tuần tra phát hiện, xử lý, ngăn chặn 280 lượt người nước ngoài sang đất ta săn bắn, khai thác trộm lâm sản, nông sản",
                "Phát hiện 156 vụ/780 đối tượng, trong đó khởi tố 74 vụ/78 đối tượng, xử lý vi phạm hành chính 82 vụ/702 đối tượng",
                "Theo lĩnh vực: ma túy 40 vụ/42 đối tượng, buôn lậu 14 vụ/14 đối tượng, xuất nhập cảnh trái phép 20 vụ/22 đối tượng, vi phạm quy chế khu vực biên giới 82 vụ/702 đối tượng",
                "Vận động thu hồi được 270 khẩu súng các loại",
                "Tổ chức hội đàm với các lực lượng phía đối diện: cấp tỉnh 26 lần, cấp Đồn Biên phòng 109 lần",
                "Làm thủ tục cho 32 đoàn hai bên qua lại hội đàm, làm việc",
                "Tổ chức 7 hoạt động giao lưu, kết nghĩa",
                "Ký kết kết nghĩa 4 cặp thôn - bản và 3 cặp đồn - trạm biên phòng hữu nghị",
                "Tính đến ngày 31/12/2024, có 63 tập thể, 460 hộ/cá nhân tham gia tự quản 97,229 km đường biên giới và 27 cột mốc",
            ],
            [
                "Xây dựng cơ sở chính trị, giúp dân phát triển kinh tế - xã hội khu vực biên giới",
                "Giới thiệu 12 đồng chí cán bộ Biên phòng tăng cường cho các xã biên giới",
                "Bồi dưỡng, tạo nguồn kết nạp được 484 đảng viên",
                "Huấn luyện quân sự và nghiệp vụ cho 5.148 lượt dân quân và công an viên",
                "Hỗ trợ xây dựng 74 căn nhà Đại đoàn kết, 21 công trình dân sinh",
                "Làm mới, tu sửa 420 phòng học",
            ],
        ];
        var actual = Texts(report);
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], actual[i]);
        }
    }

    [Fact]
    public void Each_line_lists_the_figures_it_shows_in_order()
    {
        var report = ReviewReport.Build(null, "Phong Thổ", From2019, To2024, PhongTho003());
        var lines = report.Sections.SelectMany(s => s.Lines).ToArray();

        var patrol = lines.Single(l => l.Text.StartsWith("Tổ chức tuần tra", StringComparison.Ordinal));
        Assert.Equal(["patrols", "patrolParticipants"], patrol.Metrics);
        Assert.Equal([1236m, 7920m], patrol.Values);

        var crime = lines.Single(l => l.Text.StartsWith("Phát hiện", StringComparison.Ordinal));
        Assert.Equal(
            ["cases", "subjects", "cases[outcome=prosecuted]", "subjects[outcome=prosecuted]", "cases[outcome=administrative]", "subjects[outcome=administrative]"],
            crime.Metrics);
        Assert.Equal([156m, 780m, 74m, 78m, 82m, 702m], crime.Values);

        var talks = lines.Single(l => l.Text.StartsWith("Tổ chức hội đàm", StringComparison.Ordinal));
        Assert.Equal(["meetings[format=talks,level=province]", "meetings[format=talks,level=post]"], talks.Metrics);
        Assert.Equal([26m, 109m], talks.Values);

        var selfManagement = lines.Single(l => l.Text.StartsWith("Tính đến", StringComparison.Ordinal));
        Assert.Equal(["selfManagedCollectives", "selfManagedIndividuals", "selfManagedBorderKm", "selfManagedMarkers"], selfManagement.Metrics);
        Assert.Equal([63m, 460m, 97.229m, 27m], selfManagement.Values);

        Assert.All(lines, l => Assert.Equal(l.Metrics.Count, l.Values.Count));
        Assert.Null(report.UnitId);
    }

    [Fact]
    public void A_small_set_of_rows_gives_the_hand_written_report()
    {
        var figures = new ReviewFigures(
        [
            Row("patrol", [("mode", "bilateral")], ("activities", 2), ("patrols", 2), ("markersInspected", 6), ("distanceKm", 12.5m)),
            Row("crime-bust", [("category", "drugs"), ("outcome", "pending")], ("cases", 1), ("subjects", 0), ("drugsGrams", 1234.5m)),
            Row("crime-bust", [("category", "smuggling"), ("outcome", "administrative")], ("cases", 2), ("subjects", 3), ("goodsValueVnd", 13_500_000_000m), ("finesVnd", 45_000_000m)),
            Row("weapons-recovery", ("weaponsRecovered", 0), ("explosivesKg", 2.5m), ("ammunitionRounds", 1_200)),
            Row("foreign-affairs", [("form", "hotline")], ("exchanges", 5), ("exchangeParticipants", 0)),
            Row("rescue", [("hazard", "flood")], ("rescueOperations", 1), ("rescuePersonnel", 45), ("peopleRescued", 3)),
            Row("welfare", ("housesBuilt", 0), ("civilWorks", 2), ("supportValueVnd", 1_473_000_000m), ("workdays", 1_500)),
            Row("meeting", [("format", "briefing"), ("level", "commune")], ("activities", 6), ("meetings", 6), ("meetingAttendees", 90)),
            Row("border-day", ("borderDayEvents", 1), ("borderDayAttendees", 1_200), ("giftsValueVnd", 50_000_000m)),
            Row("commendation", [("level", "province")], ("commendedCollectives", 3), ("commendedIndividuals", 5)),
            Row("commendation", [("level", "district")], ("commendedCollectives", 0), ("commendedIndividuals", 30)),
            Row("political-base", ("cadresSeconded", 0), ("partyMembersAdmitted", 0)),
        ]);

        var report = ReviewReport.Build("don-ma-lu-thang", "Đồn Biên phòng Ma Lù Thàng", new DateOnly(2024, 1, 1), new DateOnly(2024, 6, 30), figures);

        const string expected = """
            # Báo cáo sơ kết thực hiện quy chế phối hợp — Đồn Biên phòng Ma Lù Thàng, từ ngày 01/01/2024 đến ngày 30/06/2024

            Kỳ báo cáo: từ ngày 01/01/2024 đến ngày 30/06/2024.

            ## 1. Quản lý, bảo vệ chủ quyền, giữ vững an ninh chính trị, trật tự an toàn xã hội khu vực biên giới

            - Tổ chức tuần tra 2 lần
            - Trong đó: tuần tra song phương 2 lần
            - Kiểm tra 6 lượt cột mốc; tổng quãng đường tuần tra 12,5 km
            - Phát hiện 3 vụ/3 đối tượng, trong đó xử lý vi phạm hành chính 2 vụ/3 đối tượng, đang xác minh, xử lý 1 vụ
            - Theo lĩnh vực: ma túy 1 vụ, buôn lậu 2 vụ/3 đối tượng
            - Thu giữ 1.234,5 gam ma túy các loại, hàng hóa vi phạm trị giá 13,5 tỷ đồng
            - Xử phạt vi phạm hành chính, thu nộp ngân sách nhà nước 45 triệu đồng
            - Vận động thu hồi được 2,5 kg vật liệu nổ, 1.200 viên đạn
            - Tổ chức 5 hoạt động đối ngoại biên phòng, đối ngoại nhân dân
            - Trong đó: liên lạc qua đường dây nóng 5 lần

            ## 2. Xây dựng cơ sở chính trị, giúp dân phát triển kinh tế - xã hội khu vực biên giới

            - Hỗ trợ xây dựng 2 công trình dân sinh
            - Huy động 1.500 ngày công lao động giúp dân
            - Tổng giá trị hỗ trợ 1.473 triệu đồng
            - Tham gia phòng, chống thiên tai, tìm kiếm cứu nạn 1 lần/45 lượt người, cứu được 3 người

            ## 3. Duy trì quy chế phối hợp, hội nghị, giao ban

            - Duy trì 6 buổi giao ban phối hợp/90 lượt người tham dự

            ## 4. Tổ chức “Ngày Biên phòng toàn dân”

            - Tổ chức 1 hoạt động hưởng ứng “Ngày Biên phòng toàn dân”/1.200 lượt người tham gia, tặng quà trị giá 50 triệu đồng

            ## 5. Khen thưởng

            - Có 3 tập thể và 35 cá nhân được các cấp khen thưởng
            - 3 tập thể, 5 cá nhân được tặng Bằng khen UBND tỉnh
            - 30 cá nhân được tặng Giấy khen UBND huyện

            """;
        var expectedLines = expected.ReplaceLineEndings("\n").Split('\n');
        var actualLines = ReviewReport.ToMarkdown(report).Split('\n');
        Assert.Equal(expectedLines.Length, actualLines.Length);
        for (var i = 0; i < expectedLines.Length; i++)
        {
            Assert.Equal(expectedLines[i], actualLines[i]);
        }
    }

    [Fact]
    public void No_figures_give_the_no_activity_report()
    {
        var report = ReviewReport.Build("sin-ho", "Sìn Hồ", new DateOnly(2023, 1, 1), new DateOnly(2023, 12, 31), ReviewFigures.Empty);

        Assert.True(report.IsEmpty);
        Assert.Equal("Báo cáo sơ kết thực hiện quy chế phối hợp — Sìn Hồ, năm 2023", report.Title);
        var line = Assert.Single(Assert.Single(report.Sections).Lines);
        Assert.Equal(ReviewReport.NoActivityText, line.Text);
        Assert.Equal(["activities"], line.Metrics);
        Assert.Equal([0m], line.Values);
        Assert.Equal(
            """
            # Báo cáo sơ kết thực hiện quy chế phối hợp — Sìn Hồ, năm 2023

            Kỳ báo cáo: từ ngày 01/01/2023 đến ngày 31/12/2023.

            ## Kết quả thực hiện

            - Không có hoạt động phối hợp nào được ghi nhận trong kỳ báo cáo

            """.ReplaceLineEndings("\n"),
            ReviewReport.ToMarkdown(report));
    }

    [Fact]
    public void Activities_without_figures_say_so_instead_of_an_empty_report()
    {
        var figures = new ReviewFigures([Row("political-base", ("activities", 2), ("cadresSeconded", 0))]);

        var report = ReviewReport.Build(null, "Sìn Hồ", From2019, To2024, figures);

        Assert.True(report.IsEmpty);
        var line = Assert.Single(Assert.Single(report.Sections).Lines);
        Assert.Equal("Các hoạt động được ghi nhận trong kỳ báo cáo (2 hoạt động) không có số liệu để tổng hợp", line.Text);
    }

    [Fact]
    public void Figures_sum_over_rows_matching_every_filter()
    {
        var figures = PhongTho003();

        Assert.Equal(1236m, figures.Sum("patrols"));
        Assert.Equal(300m, figures.Sum("patrols", ("mode", "joint")));
        Assert.Equal(74m, figures.Sum("cases", ("outcome", "prosecuted")));
        Assert.Equal(40m, figures.Sum("cases", ("outcome", "prosecuted"), ("category", "drugs")));
        Assert.Equal(0m, figures.Sum("cases", ("outcome", "pending")));
        Assert.Equal(26m, figures.Sum("meetings", ("kind", "meeting"), ("format", "talks"), ("level", "province")));
        Assert.Equal(0m, figures.Sum("noSuchMetric"));
        Assert.Equal(0m, ReviewFigures.Empty.Sum("patrols"));
    }

    [Fact]
    public void Report_serialises_in_camel_case()
    {
        var report = ReviewReport.Build("phong-tho", "Phong Thổ", From2019, To2024, PhongTho003());

        using var json = JsonDocument.Parse(JsonSerializer.Serialize(report, new JsonSerializerOptions(JsonSerializerDefaults.Web)));
        var root = json.RootElement;
        Assert.Equal("phong-tho", root.GetProperty("unitId").GetString());
        Assert.Equal("Phong Thổ", root.GetProperty("unitName").GetString());
        Assert.Equal("2019-01-01", root.GetProperty("from").GetString());
        Assert.Equal("2024-12-31", root.GetProperty("to").GetString());
        Assert.False(root.GetProperty("isEmpty").GetBoolean());
        var line = root.GetProperty("sections")[0].GetProperty("lines")[0];
        Assert.Equal("outreachSessions", line.GetProperty("metrics")[0].GetString());
        Assert.Equal(1244m, line.GetProperty("values")[0].GetDecimal());
        Assert.StartsWith("Tổ chức tuyên truyền", line.GetProperty("text").GetString());
    }

    [Fact]
    public void Period_names_whole_years_and_otherwise_dates()
    {
        Assert.Equal("năm 2023", ReviewReport.Period(new DateOnly(2023, 1, 1), new DateOnly(2023, 12, 31)));
        Assert.Equal("giai đoạn 2019 – 2024", ReviewReport.Period(From2019, To2024));
        Assert.Equal("từ ngày 01/01/2019 đến ngày 30/06/2024", ReviewReport.Period(From2019, new DateOnly(2024, 6, 30)));
    }

    [Fact]
    public void The_statistics_query_groups_by_kind_and_every_dimension() =>
        Assert.Equal(
            ["kind", "mode", "format", "level", "pairType", "ceremony", "category", "outcome", "channel", "hazard", "form"],
            ReviewFigures.GroupBy);

    [Fact]
    public void A_period_that_ends_before_it_starts_is_refused() =>
        Assert.Throws<ArgumentException>(() => ReviewReport.Build(null, "Phong Thổ", To2024, From2019, ReviewFigures.Empty));
}
