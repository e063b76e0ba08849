using System.Text;
using CoordinationEvents.Contracts.V1;

namespace CoordinationEvents.Api.Reports;

/// <summary>
/// Writes the review report (sơ kết) of a unit and period from its figures: a pure function, no database.
/// Sections and phrasing follow Phong Thổ's 5-year report (seeds/003): outreach; sovereignty and security;
/// political base and socio-economic support; the coordination regulation's meetings; Border Day;
/// commendations. A line whose figures are all zero is left out, and so is a section without lines.
/// </summary>
public static class ReviewReport
{
    public const string NoActivityText = "Không có hoạt động phối hợp nào được ghi nhận trong kỳ báo cáo";

    public static ReviewReportDocument Build(string? unitId, string unitName, DateOnly from, DateOnly to, ReviewFigures figures)
    {
        ArgumentNullException.ThrowIfNull(unitName);
        ArgumentNullException.ThrowIfNull(figures);
        if (to < from)
        {
            throw new ArgumentException($"The period ends ({to:yyyy-MM-dd}) before it starts ({from:yyyy-MM-dd}).", nameof(to));
        }

        var f = new Writer(figures);
        var sections = new List<ReviewReportSection>();
        AddSection(sections, "Công tác tuyên truyền, giáo dục", Outreach(f));
        AddSection(sections, "Quản lý, bảo vệ chủ quyền, giữ vững an ninh chính trị, trật tự an toàn xã hội khu vực biên giới", Sovereignty(f, to));
        AddSection(sections, "Xây dựng cơ sở chính trị, giúp dân phát triển kinh tế - xã hội khu vực biên giới", PoliticalBaseAndWelfare(f));
        AddSection(sections, "Duy trì quy chế phối hợp, hội nghị, giao ban", Coordination(f));
        AddSection(sections, "Tổ chức “Ngày Biên phòng toàn dân”", BorderDay(f));
        AddSection(sections, "Khen thưởng", Commendations(f));

        var title = $"Báo cáo sơ kết thực hiện quy chế phối hợp — {unitName}, {Period(from, to)}";
        if (sections.Count > 0)
        {
            return new ReviewReportDocument(unitId, unitName, from, to, title, sections, IsEmpty: false);
        }

        var activities = figures.Sum("activities");
        var text = activities == 0
            ? NoActivityText
            : $"Các hoạt động được ghi nhận trong kỳ báo cáo ({VietnameseFormat.Number(activities)} hoạt động) không có số liệu để tổng hợp";
        var empty = new ReviewReportSection("Kết quả thực hiện", [new ReviewReportLine(["activities"], [activities], text)]);
        return new ReviewReportDocument(unitId, unitName, from, to, title, [empty], IsEmpty: true);
    }

    /// <summary>The report as Markdown, ready to paste: a title, the period, numbered "## " sections, "- " lines.</summary>
    public static string ToMarkdown(ReviewReportDocument report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var md = new StringBuilder();
        md.Append("# ").Append(report.Title).Append('\n').Append('\n');
        md.Append("Kỳ báo cáo: từ ngày ").Append(VietnameseFormat.Date(report.From))
          .Append(" đến ngày ").Append(VietnameseFormat.Date(report.To)).Append('.').Append('\n');
        var number = 0;
        foreach (var section in report.Sections)
        {
            md.Append('\n').Append("## ");
            if (!report.IsEmpty)
            {
                md.Append(++number).Append(". ");
            }
            md.Append(section.Title).Append('\n').Append('\n');
            foreach (var line in section.Lines)
            {
                md.Append("- ").Append(line.Text).Append('\n');
            }
        }
        return md.ToString();
    }

    /// <summary>"năm 2023", "giai đoạn 2019 – 2024", or "từ ngày 01/01/2024 đến ngày 30/06/2024".</summary>
    public static string Period(DateOnly from, DateOnly to)
    {
        var wholeYears = from is { Month: 1, Day: 1 } && to is { Month: 12, Day: 31 };
        if (wholeYears)
        {
            return from.Year == to.Year ? $"năm {from.Year}" : $"giai đoạn {from.Year} – {to.Year}";
        }
        return $"từ ngày {VietnameseFormat.Date(from)} đến ngày {VietnameseFormat.Date(to)}";
    }

    static void AddSection(List<ReviewReportSection> sections, string title, IEnumerable<ReviewReportLine?> lines)
    {
        var kept = lines.OfType<ReviewReportLine>().ToArray();
        if (kept.Length > 0)
        {
            sections.Add(new ReviewReportSection(title, kept));
        }
    }

    // ---- 1. Outreach -------------------------------------------------------------------------------------

    static IEnumerable<ReviewReportLine?> Outreach(Writer f)
    {
        yield return f.Line(l => $"Tổ chức tuyên truyền được {l.Pair(f.Get("outreachSessions"), "buổi", f.Get("outreachAttendees"), "lượt người nghe")}",
            f.Get("outreachSessions"), f.Get("outreachAttendees"));
        yield return f.Breakdown("outreachSessions", "channel", "buổi",
            ("meeting", "lồng ghép tại hội nghị, buổi sinh hoạt"),
            ("loudspeaker", "trên hệ thống loa truyền thanh"),
            ("school", "tại trường học"),
            ("media", "trên phương tiện thông tin đại chúng"),
            ("door-to-door", "đến từng hộ gia đình"));
        yield return f.Line(l => $"Tặng ảnh Bác Hồ và cờ Tổ quốc cho {l.N(f.Get("householdsGifted"))} hộ dân ở các bản giáp biên giới",
            f.Get("householdsGifted"));
    }

    // ---- 2. Sovereignty and security --------------------------------------------------------------------

    static readonly (string Value, string Label)[] CrimeOutcomes =
    [
        ("prosecuted", "khởi tố"),
        ("administrative", "xử lý vi phạm hành chính"),
        ("transferred", "chuyển cơ quan chức năng xử lý"),
        ("pending", "đang xác minh, xử lý"),
    ];

    static readonly (string Value, string Label)[] CrimeCategories =
    [
        ("drugs", "ma túy"),
        ("smuggling", "buôn lậu"),
        ("trade-fraud", "gian lận thương mại"),
        ("illegal-border-crossing", "xuất nhập cảnh trái phép"),
        ("human-trafficking", "mua bán người"),
        ("counterfeit-money", "tiền giả"),
        ("weapons-explosives", "vũ khí và vật liệu nổ"),
        ("border-regulation", "vi phạm quy chế khu vực biên giới"),
        ("other", "loại khác"),
    ];

    static readonly (string Value, string Label)[] TalkLevels =
    [
        ("province", "cấp tỉnh"),
        ("district", "cấp huyện"),
        ("post", "cấp Đồn Biên phòng"),
        ("commune", "cấp xã"),
    ];

    static readonly (string Value, string Label)[] PairTypes =
    [
        ("village-village", "cặp thôn - bản"),
        ("post-station", "cặp đồn - trạm biên phòng hữu nghị"),
        ("commune-commune", "cặp xã - xã"),
        ("other", "cặp kết nghĩa khác"),
    ];

    static IEnumerable<ReviewReportLine?> Sovereignty(Writer f, DateOnly to)
    {
        // Patrols.
        var patrols = f.Get("patrols");
        var participants = f.Get("patrolParticipants");
        yield return f.Line(l => $"Tổ chức tuần tra {l.Pair(patrols, "lần", participants, "lượt người tham gia")}", patrols, participants);
        yield return f.Breakdown("patrols", "mode", "lần",
            ("independent", "tuần tra độc lập"),
            ("joint", "tuần tra phối hợp"),
            ("bilateral", "tuần tra song phương"));
        var intrusions = f.Get("intrusionsDetected");
        yield return f.Line(l => $"Qua tuần tra phát hiện, xử lý, ngăn chặn {l.N(intrusions)} lượt người nước ngoài sang đất ta săn bắn, khai thác trộm lâm sản, nông sản",
            intrusions);
        var markers = f.Get("markersInspected");
        var distance = f.Get("distanceKm");
        yield return f.Line(l => Sentence("; ",
                markers.IsZero ? null : $"kiểm tra {l.N(markers)} lượt cột mốc",
                distance.IsZero ? null : $"tổng quãng đường tuần tra {l.N(distance)} km"),
            markers, distance);

        // Crime.
        var cases = f.Get("cases");
        var subjects = f.Get("subjects");
        yield return f.Line(l =>
        {
            var text = new StringBuilder($"Phát hiện {l.Pair(cases, "vụ", subjects, "đối tượng")}");
            var first = true;
            foreach (var (value, label) in CrimeOutcomes)
            {
                var outcomeCases = f.Get("cases", ("outcome", value));
                var outcomeSubjects = f.Get("subjects", ("outcome", value));
                if (outcomeCases.IsZero && outcomeSubjects.IsZero)
                {
                    continue;
                }
                text.Append(first ? ", trong đó " : ", ").Append(label).Append(' ')
                    .Append(l.Pair(outcomeCases, "vụ", outcomeSubjects, "đối tượng"));
                first = false;
            }
            return text.ToString();
        }, cases, subjects);
        yield return f.Line(l => "Theo lĩnh vực: " + string.Join(", ", CrimeCategories
                .Select(c => (c.Label, Cases: f.Get("cases", ("category", c.Value)), Subjects: f.Get("subjects", ("category", c.Value))))
                .Where(c => !c.Cases.IsZero || !c.Subjects.IsZero)
                .Select(c => $"{c.Label} {l.Pair(c.Cases, "vụ", c.Subjects, "đối tượng")}")),
            CrimeCategories.Select(c => f.Get("cases", ("category", c.Value))).ToArray());
        var drugs = f.Get("drugsGrams");
        var goods = f.Get("goodsValueVnd");
        yield return f.Line(l => "Thu giữ " + Sentence(", ",
                drugs.IsZero ? null : $"{l.N(drugs)} gam ma túy các loại",
                goods.IsZero ? null : $"hàng hóa vi phạm trị giá {l.Vnd(goods)}"),
            drugs, goods);
        var fines = f.Get("finesVnd");
        yield return f.Line(l => $"Xử phạt vi phạm hành chính, thu nộp ngân sách nhà nước {l.Vnd(fines)}", fines);

        // Weapons.
        var weapons = f.Get("weaponsRecovered");
        var explosives = f.Get("explosivesKg");
        var rounds = f.Get("ammunitionRounds");
        yield return f.Line(l => "Vận động thu hồi được " + Sentence(", ",
                weapons.IsZero ? null : $"{l.N(weapons)} khẩu súng các loại",
                explosives.IsZero ? null : $"{l.N(explosives)} kg vật liệu nổ",
                rounds.IsZero ? null : $"{l.N(rounds)} viên đạn"),
            weapons, explosives, rounds);

        // Talks and delegations with the foreign side.
        var talks = TalkLevels.Select(t => (t.Label, Figure: f.Get("meetings", ("format", "talks"), ("level", t.Value)))).ToArray();
        yield return f.Line(l => "Tổ chức hội đàm với các lực lượng phía đối diện: " + string.Join(", ", talks
                .Where(t => !t.Figure.IsZero)
                .Select(t => $"{t.Label} {l.N(t.Figure)} lần")),
            talks.Select(t => t.Figure).ToArray());
        var delegations = f.Get("delegations");
        yield return f.Line(l => $"Làm thủ tục cho {l.N(delegations)} đoàn hai bên qua lại hội đàm, làm việc", delegations);

        // Border foreign affairs, people-to-people diplomacy.
        var exchanges = f.Get("exchanges");
        var exchangeParticipants = f.Get("exchangeParticipants");
        yield return f.Line(l => $"Tổ chức {l.Pair(exchanges, "hoạt động đối ngoại biên phòng, đối ngoại nhân dân", exchangeParticipants, "lượt người tham gia")}",
            exchanges, exchangeParticipants);
        yield return f.Breakdown("exchanges", "form", "lần",
            ("letter", "gửi thư"),
            ("visit", "thăm viếng"),
            ("cultural-exchange", "giao lưu văn hóa"),
            ("sports-exchange", "giao lưu thể thao"),
            ("hotline", "liên lạc qua đường dây nóng"),
            ("information-exchange", "trao đổi thông tin"));

        // Twinning.
        var twinningEvents = f.Get("twinningEvents");
        var twinningParticipants = f.Get("twinningParticipants");
        yield return f.Line(l => $"Tổ chức {l.Pair(twinningEvents, "hoạt động giao lưu, kết nghĩa", twinningParticipants, "lượt người tham gia")}",
            twinningEvents, twinningParticipants);
        var pairs = PairTypes.Select(p => (p.Label, Figure: f.Get("pairsSigned", ("pairType", p.Value)))).ToArray();
        yield return f.Line(l => "Ký kết kết nghĩa " + JoinAnd(pairs
                .Where(p => !p.Figure.IsZero)
                .Select(p => $"{l.N(p.Figure)} {p.Label}")),
            pairs.Select(p => p.Figure).ToArray());

        // Self-management of the border line and markers: stocks at the period's end.
        var collectives = f.Get("selfManagedCollectives");
        var individuals = f.Get("selfManagedIndividuals");
        var km = f.Get("selfManagedBorderKm");
        var managedMarkers = f.Get("selfManagedMarkers");
        yield return f.Line(l =>
        {
            var who = Sentence(", ",
                collectives.IsZero ? null : $"{l.N(collectives)} tập thể",
                individuals.IsZero ? null : $"{l.N(individuals)} hộ/cá nhân");
            var what = JoinAnd(new[]
            {
                km.IsZero ? null : $"{l.N(km)} km đường biên giới",
                managedMarkers.IsZero ? null : $"{l.N(managedMarkers)} cột mốc",
            }.OfType<string>());
            return $"Tính đến ngày {VietnameseFormat.Date(to)}, "
                + (who.Length > 0 ? $"có {who} tham gia tự quản " : "các tập thể, hộ/cá nhân tham gia tự quản ")
                + (what.Length > 0 ? what : "đường biên giới, cột mốc");
        }, collectives, individuals, km, managedMarkers);
    }

    // ---- 3. Political base and socio-economic support ---------------------------------------------------

    static IEnumerable<ReviewReportLine?> PoliticalBaseAndWelfare(Writer f)
    {
        yield return f.Line(l => $"Giới thiệu {l.N(f.Get("cadresSeconded"))} đồng chí cán bộ Biên phòng tăng cường cho các xã biên giới", f.Get("cadresSeconded"));
        yield return f.Line(l => $"Bồi dưỡng, tạo nguồn kết nạp được {l.N(f.Get("partyMembersAdmitted"))} đảng viên", f.Get("partyMembersAdmitted"));
        var established = f.Get("partyCellsEstablished");
        var consolidated = f.Get("partyCellsConsolidated");
        yield return f.Line(l => Sentence(", ",
                established.IsZero ? null : $"thành lập mới {l.N(established)} chi bộ",
                consolidated.IsZero ? null : $"củng cố {l.N(consolidated)} chi bộ thôn, bản"),
            established, consolidated);
        yield return f.Line(l => $"Củng cố {l.N(f.Get("massOrganizationsConsolidated"))} tổ chức đoàn thể ở cơ sở", f.Get("massOrganizationsConsolidated"));
        yield return f.Line(l => $"Huấn luyện quân sự và nghiệp vụ cho {l.N(f.Get("militiaTrained"))} lượt dân quân và công an viên", f.Get("militiaTrained"));
        yield return f.Line(l => $"Giúp đỡ {l.N(f.Get("householdsAssisted"))} hộ nghèo phát triển kinh tế, xóa đói giảm nghèo", f.Get("householdsAssisted"));

        var houses = f.Get("housesBuilt");
        var works = f.Get("civilWorks");
        yield return f.Line(l => "Hỗ trợ xây dựng " + Sentence(", ",
                houses.IsZero ? null : $"{l.N(houses)} căn nhà Đại đoàn kết",
                works.IsZero ? null : $"{l.N(works)} công trình dân sinh"),
            houses, works);
        yield return f.Line(l => $"Làm mới, tu sửa {l.N(f.Get("classroomsBuilt"))} phòng học", f.Get("classroomsBuilt"));
        yield return f.Line(l => $"Huy động {l.N(f.Get("workdays"))} ngày công lao động giúp dân", f.Get("workdays"));
        yield return f.Line(l => $"Nhận đỡ đầu {l.N(f.Get("childrenSponsored"))} em học sinh có hoàn cảnh khó khăn", f.Get("childrenSponsored"));
        yield return f.Line(l => $"Hỗ trợ {l.N(f.Get("livestockGiven"))} con giống giúp hộ nghèo phát triển kinh tế", f.Get("livestockGiven"));
        yield return f.Line(l => $"Tổng giá trị hỗ trợ {l.Vnd(f.Get("supportValueVnd"))}", f.Get("supportValueVnd"));

        var operations = f.Get("rescueOperations");
        var personnel = f.Get("rescuePersonnel");
        var rescued = f.Get("peopleRescued");
        var helped = f.Get("householdsHelped");
        yield return f.Line(l => Sentence(", ",
                $"tham gia phòng, chống thiên tai, tìm kiếm cứu nạn {l.Pair(operations, "lần", personnel, "lượt người")}",
                rescued.IsZero ? null : $"cứu được {l.N(rescued)} người",
                helped.IsZero ? null : $"giúp {l.N(helped)} hộ dân khắc phục hậu quả"),
            operations, personnel, rescued, helped);
    }

    // ---- 4. The coordination regulation's own meetings --------------------------------------------------

    static IEnumerable<ReviewReportLine?> Coordination(Writer f)
    {
        var reviews = f.Get("meetings", ("format", "review-conference"));
        var reviewAttendees = f.Get("meetingAttendees", ("format", "review-conference"));
        yield return f.Line(l => $"Tổ chức {l.Pair(reviews, "hội nghị sơ kết, tổng kết", reviewAttendees, "lượt người tham dự")}",
            reviews, reviewAttendees);
        var briefings = f.Get("meetings", ("format", "briefing"));
        var briefingAttendees = f.Get("meetingAttendees", ("format", "briefing"));
        yield return f.Line(l => $"Duy trì {l.Pair(briefings, "buổi giao ban phối hợp", briefingAttendees, "lượt người tham dự")}",
            briefings, briefingAttendees);
    }

    // ---- 5. Border Day ----------------------------------------------------------------------------------

    static IEnumerable<ReviewReportLine?> BorderDay(Writer f)
    {
        var events = f.Get("borderDayEvents");
        var attendees = f.Get("borderDayAttendees");
        var gifts = f.Get("giftsValueVnd");
        yield return f.Line(l => Sentence(", ",
                $"tổ chức {l.Pair(events, "hoạt động hưởng ứng “Ngày Biên phòng toàn dân”", attendees, "lượt người tham gia")}",
                gifts.IsZero ? null : $"tặng quà trị giá {l.Vnd(gifts)}"),
            events, attendees, gifts);
    }

    // ---- 6. Commendations -------------------------------------------------------------------------------

    static readonly (string Value, string Text)[] CommendationLevels =
    [
        ("government", "được tặng Bằng khen của Thủ tướng Chính phủ"),
        ("ministry", "được tặng Bằng khen cấp Bộ"),
        ("province", "được tặng Bằng khen UBND tỉnh"),
        ("district", "được tặng Giấy khen UBND huyện"),
        ("unit", "được khen thưởng cấp đơn vị"),
    ];

    static IEnumerable<ReviewReportLine?> Commendations(Writer f)
    {
        var collectives = f.Get("commendedCollectives");
        var individuals = f.Get("commendedIndividuals");
        yield return f.Line(l => "Có " + JoinAnd(new[]
            {
                collectives.IsZero ? null : $"{l.N(collectives)} tập thể",
                individuals.IsZero ? null : $"{l.N(individuals)} cá nhân",
            }.OfType<string>()) + " được các cấp khen thưởng",
            collectives, individuals);
        foreach (var (value, text) in CommendationLevels)
        {
            var levelCollectives = f.Get("commendedCollectives", ("level", value));
            var levelIndividuals = f.Get("commendedIndividuals", ("level", value));
            yield return f.Line(l => Sentence(", ",
                    levelCollectives.IsZero ? null : $"{l.N(levelCollectives)} tập thể",
                    levelIndividuals.IsZero ? null : $"{l.N(levelIndividuals)} cá nhân") + " " + text,
                levelCollectives, levelIndividuals);
        }
    }

    // ---- Writing helpers --------------------------------------------------------------------------------

    /// <summary>Non-empty parts joined by <paramref name="separator"/>, the first letter capitalised.</summary>
    static string Sentence(string separator, params string?[] parts) =>
        Capitalize(string.Join(separator, parts.Where(p => !string.IsNullOrEmpty(p))));

    /// <summary>"a", "a và b", "a, b và c".</summary>
    static string JoinAnd(IEnumerable<string> parts)
    {
        var list = parts.ToList();
        return list.Count <= 1
            ? string.Concat(list)
            : string.Join(", ", list.Take(list.Count - 1)) + " và " + list[^1];
    }

    static string Capitalize(string text) =>
        text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];

    /// <summary>One figure as a line shows it: the metric (with its filter) and its value.</summary>
    sealed record Figure(string Metric, decimal Value)
    {
        public bool IsZero => Value == 0m;
    }

    /// <summary>Collects the figures a line's text shows, in the order it shows them.</summary>
    sealed class LineText
    {
        readonly List<Figure> shown = [];

        public IReadOnlyList<Figure> Shown => shown;

        public string N(Figure figure)
        {
            shown.Add(figure);
            return VietnameseFormat.Number(figure.Value);
        }

        public string Vnd(Figure figure)
        {
            shown.Add(figure);
            return VietnameseFormat.Vnd(figure.Value);
        }

        /// <summary>"156 vụ/780 đối tượng"; just "156 vụ" when the second figure is zero.</summary>
        public string Pair(Figure first, string firstUnit, Figure second, string secondUnit) =>
            second.IsZero ? $"{N(first)} {firstUnit}" : $"{N(first)} {firstUnit}/{N(second)} {secondUnit}";
    }

    sealed class Writer(ReviewFigures figures)
    {
        public Figure Get(string metric, params (string Dimension, string Value)[] filter)
        {
            var name = filter.Length == 0
                ? metric
                : $"{metric}[{string.Join(",", filter.Select(d => $"{d.Dimension}={d.Value}"))}]";
            return new Figure(name, figures.Sum(metric, filter));
        }

        /// <summary>The line, or null when every figure it is about is zero.</summary>
        public ReviewReportLine? Line(Func<LineText, string> write, params Figure[] about)
        {
            if (about.All(a => a.IsZero))
            {
                return null;
            }
            var text = new LineText();
            var written = write(text);
            return new ReviewReportLine(
                text.Shown.Select(s => s.Metric).ToArray(),
                text.Shown.Select(s => s.Value).ToArray(),
                written);
        }

        /// <summary>"Trong đó: tuần tra độc lập 400 lần, tuần tra song phương 36 lần": a metric by one dimension.</summary>
        public ReviewReportLine? Breakdown(string metric, string dimension, string unit, params (string Value, string Label)[] values)
        {
            var parts = values.Select(v => (v.Label, Figure: Get(metric, (dimension, v.Value)))).ToArray();
            return Line(l => "Trong đó: " + string.Join(", ", parts
                    .Where(p => !p.Figure.IsZero)
                    .Select(p => $"{p.Label} {l.N(p.Figure)} {unit}")),
                parts.Select(p => p.Figure).ToArray());
        }
    }
}
