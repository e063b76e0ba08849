using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using CoordinationEvents.Contracts.V1;

namespace CoordinationEvents.Demo;

/// <summary>A record first posted wrong: PUT <see cref="Corrected"/> over the activity posted as <see cref="ExternalId"/>.</summary>
public sealed record DemoCorrection(string ExternalId, ActivityRequest Corrected, string Note);

/// <summary>A record that should not count (posted twice): DELETE it with <see cref="Reason"/>.</summary>
public sealed record DemoRetraction(string ExternalId, string Reason);

/// <summary>
/// A realistic, deterministic data set for Lai Châu's four border districts, 2019-01-01 to 2024-12-31: all 13
/// kinds, single events and monthly aggregates, posted by one posting system. Once its corrections and
/// retractions are applied, Phong Thổ's subtree adds up exactly to the figures of its 5-year review report
/// (seeds/003). Every record has a stable externalId ("demo-phong-tho-patrol-2019-03-0007"), so posting the set
/// twice changes nothing.
/// </summary>
public sealed class DemoDataset
{
    public const int Seed = 20_190_303;
    public static readonly DateOnly From = new(2019, 1, 1);
    public static readonly DateOnly To = new(2024, 12, 31);

    /// <summary>Units to create before posting (the posts and communes outside Phong Thổ).</summary>
    public required IReadOnlyList<UnitRequest> Units { get; init; }

    /// <summary>The records as first posted, oldest first; some are wrong until <see cref="Corrections"/> and <see cref="Retractions"/>.</summary>
    public required IReadOnlyList<ActivityRequest> Activities { get; init; }

    public required IReadOnlyList<DemoCorrection> Corrections { get; init; }

    public required IReadOnlyList<DemoRetraction> Retractions { get; init; }

    public static DemoDataset Build()
    {
        var random = new Random(Seed);
        var writer = new DemoWriter();
        foreach (var district in DemoUnits.Districts)
        {
            var isPhongTho = district == DemoUnits.PhongTho;
            var targets = isPhongTho ? DemoTargets.PhongTho003 : DemoTargets.Random(random, district.Communes.Count);
            var withMistakes = isPhongTho || district == DemoUnits.MuongTe;
            new DistrictGenerator(writer, random, district, targets, withMistakes).Generate();
        }

        return new DemoDataset
        {
            Units = DemoUnits.ToCreate,
            Activities = writer.Activities
                .OrderBy(a => a.OccurredOn)
                .ThenBy(a => a.ExternalId, StringComparer.Ordinal)
                .ToArray(),
            Corrections = writer.Corrections.ToArray(),
            Retractions = writer.Retractions.ToArray(),
        };
    }
}

/// <summary>Collects the records, numbering each per district, kind and month.</summary>
sealed class DemoWriter
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    readonly Dictionary<string, int> sequences = new(StringComparer.Ordinal);

    public List<ActivityRequest> Activities { get; } = [];
    public List<DemoCorrection> Corrections { get; } = [];
    public List<DemoRetraction> Retractions { get; } = [];

    public string NextId(DemoDistrict district, string kind, DateOnly occurredOn)
    {
        var prefix = $"demo-{district.DistrictId}-{kind}-{occurredOn.ToString("yyyy-MM", CultureInfo.InvariantCulture)}";
        var sequence = sequences.GetValueOrDefault(prefix) + 1;
        sequences[prefix] = sequence;
        return $"{prefix}-{sequence.ToString("0000", CultureInfo.InvariantCulture)}";
    }

    public ActivityRequest Add(
        DemoDistrict district,
        string kind,
        string unitId,
        DateOnly occurredOn,
        string summary,
        Dictionary<string, object> details,
        DateOnly? endsOn = null,
        IReadOnlyList<string>? partners = null,
        string? communeId = null,
        IReadOnlyList<string>? markers = null)
    {
        var activity = new ActivityRequest
        {
            ExternalId = NextId(district, kind, occurredOn),
            Kind = kind,
            UnitId = unitId,
            PartnerUnitIds = partners ?? [],
            OccurredOn = occurredOn,
            EndsOn = endsOn,
            Location = communeId is null && markers is null ? null : new ActivityLocation { CommuneId = communeId, Markers = markers },
            Summary = summary,
            Details = JsonSerializer.SerializeToElement(details, Json),
        };
        Activities.Add(activity);
        return activity;
    }

    /// <summary>Posts <paramref name="correct"/> with one metric wrong, and corrects it afterwards.</summary>
    public void PostWrongThenCorrect(ActivityRequest correct, string metric, JsonNode wrongValue, string note)
    {
        var index = Activities.FindIndex(a => ReferenceEquals(a, correct));
        var details = JsonNode.Parse(correct.Details!.Value.GetRawText())!.AsObject();
        details[metric] = wrongValue;
        Activities[index] = correct with { Details = JsonSerializer.SerializeToElement(details, Json) };
        Corrections.Add(new DemoCorrection(correct.ExternalId!, correct, note));
    }

    /// <summary>Posts <paramref name="original"/> a second time under a new id, and retracts the copy.</summary>
    public void PostTwiceThenRetract(DemoDistrict district, ActivityRequest original)
    {
        var copy = original with { ExternalId = NextId(district, original.Kind!, original.OccurredOn!.Value) };
        Activities.Add(copy);
        Retractions.Add(new DemoRetraction(copy.ExternalId!, $"Nhập trùng bản ghi {original.ExternalId}"));
    }
}

/// <summary>Writes one district's records so that they add up to its <see cref="DemoTargets"/>.</summary>
sealed class DistrictGenerator(DemoWriter writer, Random random, DemoDistrict district, DemoTargets targets, bool withMistakes)
{
    const int FirstYear = 2019;
    const int LastYear = 2024;
    static readonly int[] Years = [2019, 2020, 2021, 2022, 2023, 2024];

    public void Generate()
    {
        Patrols();
        CrimeBusts();
        WeaponsRecovery();
        Outreach();
        Meetings();
        Twinning();
        SelfManagement();
        PoliticalBase();
        Welfare();
        Rescue();
        BorderDay();
        Commendations();
        ForeignAffairs();
    }

    // ---- Kinds ------------------------------------------------------------------------------------------

    void Patrols()
    {
        // The border-gate post logs each patrol as it happens; the other posts send a monthly aggregate.
        var gatePost = district.Posts[0];
        var singlesPerMonth = district == DemoUnits.PhongTho ? 3 : 2;
        var singles = new List<ActivityRequest>();
        int singleParticipants = 0, singleIntrusions = 0;
        foreach (var (year, month) in Months())
        {
            var days = Enumerable.Range(0, singlesPerMonth).Select(_ => Between(1, DaysIn(year, month))).Order().ToArray();
            for (var i = 0; i < days.Length; i++)
            {
                var mode = i == 0 && month % 3 == 0 ? "bilateral" : random.NextDouble() < 0.4 ? "joint" : "independent";
                var commune = Pick(gatePost.Communes);
                var participants = Between(4, 9);
                var intrusions = singleIntrusions < targets.IntrusionsDetected / 5 && random.NextDouble() < 0.1 ? Between(1, 2) : 0;
                var markers = Enumerable.Range(0, Between(0, 3)).Select(_ => Between(40, 120).ToString(CultureInfo.InvariantCulture)).Distinct().ToArray();
                singleParticipants += participants;
                singleIntrusions += intrusions;
                singles.Add(writer.Add(district, "patrol", gatePost.PostId, new DateOnly(year, month, days[i]),
                    mode switch
                    {
                        "bilateral" => $"Tuần tra song phương với lực lượng bảo vệ biên giới {district.ForeignSide}",
                        "joint" => $"Tuần tra phối hợp với dân quân {commune.Name} bảo vệ đường biên, cột mốc",
                        _ => "Tuần tra bảo vệ đường biên, cột mốc",
                    },
                    new()
                    {
                        ["mode"] = mode,
                        ["patrols"] = 1,
                        ["patrolParticipants"] = participants,
                        ["markersInspected"] = markers.Length,
                        ["intrusionsDetected"] = intrusions,
                        ["distanceKm"] = OneDecimal(3, 18),
                    },
                    partners: mode == "joint" ? [commune.CommuneId] : [],
                    communeId: commune.CommuneId,
                    markers: markers.Length > 0 ? markers : null));
            }
        }

        var slots = Months().SelectMany(m => district.Posts.Skip(1).Select(post => (m.Year, m.Month, Post: post))).ToArray();
        var patrols = Split(targets.Patrols - singles.Count, slots.Length, 1);
        var participantsSplit = Split(targets.PatrolParticipants - singleParticipants,
            patrols.Select(p => 3 * p).ToArray(), patrols.Select(p => p * (0.5 + random.NextDouble())).ToArray());
        var intrusionsSplit = Split(targets.IntrusionsDetected - singleIntrusions, slots.Length, 0);
        for (var i = 0; i < slots.Length; i++)
        {
            var (year, month, post) = slots[i];
            var mode = random.NextDouble() < 0.5 ? "joint" : "independent";
            writer.Add(district, "patrol", post.PostId, new DateOnly(year, month, 1),
                $"Tổng hợp tuần tra tháng {month:00}/{year} của {post.Name}",
                new()
                {
                    ["mode"] = mode,
                    ["patrols"] = patrols[i],
                    ["patrolParticipants"] = participantsSplit[i],
                    ["markersInspected"] = patrols[i] * Between(0, 2),
                    ["intrusionsDetected"] = intrusionsSplit[i],
                    ["distanceKm"] = patrols[i] * OneDecimal(5, 15),
                },
                endsOn: EndOfMonth(year, month),
                partners: mode == "joint" ? post.Communes.Select(c => c.CommuneId).ToArray() : []);
        }

        if (withMistakes)
        {
            // A duty officer types 60 for 6 participants; the post corrects it the next day.
            var mistyped = singles.First(s => s.OccurredOn >= new DateOnly(2021, 6, 1));
            var right = Metric(mistyped, "patrolParticipants");
            writer.PostWrongThenCorrect(mistyped, "patrolParticipants", JsonValue.Create(right * 10),
                $"Số người tham gia nhập nhầm {right * 10}, đúng là {right}");
        }
    }

    void CrimeBusts()
    {
        var prosecuted = new List<ActivityRequest>();
        foreach (var subjects in Split(targets.ProsecutedSubjects, targets.ProsecutedCases, 1))
        {
            var post = Pick(district.Posts);
            var roll = random.NextDouble();
            var category = roll < 0.5 ? "drugs" : roll < 0.75 ? "illegal-border-crossing" : "smuggling";
            var details = new Dictionary<string, object>
            {
                ["category"] = category,
                ["outcome"] = "prosecuted",
                ["cases"] = 1,
                ["subjects"] = subjects,
            };
            if (category == "drugs")
            {
                details["drugsGrams"] = OneDecimal(5, 1500);
            }
            if (category == "smuggling")
            {
                details["goodsValueVnd"] = Millions(20, 800);
            }
            prosecuted.Add(writer.Add(district, "crime-bust", post.PostId, RandomDate(),
                category switch
                {
                    "drugs" => $"Bắt giữ {subjects} đối tượng mua bán, vận chuyển trái phép chất ma túy; khởi tố vụ án hình sự",
                    "illegal-border-crossing" => $"Bắt giữ {subjects} đối tượng tổ chức xuất nhập cảnh trái phép; khởi tố vụ án hình sự",
                    _ => $"Bắt giữ {subjects} đối tượng buôn lậu hàng hóa qua biên giới; khởi tố vụ án hình sự",
                },
                details, communeId: Pick(post.Communes).CommuneId));
        }

        foreach (var subjects in Split(targets.AdministrativeSubjects, targets.AdministrativeCases, 1))
        {
            var post = Pick(district.Posts);
            writer.Add(district, "crime-bust", post.PostId, RandomDate(),
                $"Phát hiện {subjects} người vi phạm quy chế khu vực biên giới; xử phạt vi phạm hành chính",
                new()
                {
                    ["category"] = "border-regulation",
                    ["outcome"] = "administrative",
                    ["cases"] = 1,
                    ["subjects"] = subjects,
                    ["finesVnd"] = subjects * Between(5, 25) * 100_000L,
                },
                communeId: Pick(post.Communes).CommuneId);
        }

        if (withMistakes)
        {
            // The same bust entered twice by two officers: the second is retracted.
            writer.PostTwiceThenRetract(district, prosecuted[prosecuted.Count / 2]);
        }
    }

    void WeaponsRecovery()
    {
        var slots = Years.SelectMany(y => district.Posts.Select(p => (Year: y, Post: p))).ToArray();
        var weapons = Split(targets.WeaponsRecovered, slots.Length, 0);
        for (var i = 0; i < slots.Length; i++)
        {
            var (year, post) = slots[i];
            writer.Add(district, "weapons-recovery", post.PostId, RandomDate(year, year),
                $"Vận động nhân dân giao nộp vũ khí, vật liệu nổ năm {year}",
                new()
                {
                    ["weaponsRecovered"] = weapons[i],
                    ["explosivesKg"] = random.NextDouble() < 0.4 ? OneDecimal(0.5, 5) : 0m,
                    ["ammunitionRounds"] = random.NextDouble() < 0.5 ? Between(10, 200) : 0,
                },
                communeId: Pick(post.Communes).CommuneId);
        }
    }

    void Outreach()
    {
        // The district's radio programme, once a quarter, and each post's monthly aggregate.
        var singles = 0;
        foreach (var (year, month) in Months().Where(m => m.Month % 3 == 0))
        {
            writer.Add(district, "outreach", district.DistrictId, Day(year, month),
                "Phát sóng chuyên mục “Vì chủ quyền an ninh biên giới” trên Đài Truyền thanh - Truyền hình huyện",
                new() { ["channel"] = "media", ["outreachSessions"] = 1, ["outreachAttendees"] = 0, ["householdsGifted"] = 0 });
            singles++;
        }

        string[] channels = ["meeting", "loudspeaker", "school", "door-to-door"];
        var slots = Months().SelectMany(m => district.Posts.Select(post => (m.Year, m.Month, Post: post, Channel: Pick(channels)))).ToArray();
        if (!slots.Any(s => s.Channel == "door-to-door"))
        {
            slots[0].Channel = "door-to-door";
        }
        var sessions = Split(targets.OutreachSessions - singles, slots.Length, 1);
        var attendees = Split(targets.OutreachAttendees,
            sessions.Select(s => 10 * s).ToArray(), sessions.Select(s => s * (0.5 + random.NextDouble())).ToArray());
        var doorToDoor = slots.Select((s, i) => (s, i)).Where(x => x.s.Channel == "door-to-door").Select(x => x.i).ToArray();
        var gifted = new int[slots.Length];
        var giftSplit = Split(targets.HouseholdsGifted, doorToDoor.Length, 0);
        for (var j = 0; j < doorToDoor.Length; j++)
        {
            gifted[doorToDoor[j]] = giftSplit[j];
        }
        for (var i = 0; i < slots.Length; i++)
        {
            var (year, month, post, channel) = slots[i];
            writer.Add(district, "outreach", post.PostId, new DateOnly(year, month, 1),
                channel switch
                {
                    "meeting" => $"Tuyên truyền Luật Biên phòng Việt Nam lồng ghép tại các buổi họp bản, tháng {month:00}/{year}",
                    "loudspeaker" => $"Tuyên truyền trên cụm loa truyền thanh các bản giáp biên, tháng {month:00}/{year}",
                    "school" => $"Tuyên truyền về chủ quyền biên giới tại các trường học, tháng {month:00}/{year}",
                    _ => $"Tuyên truyền đến từng hộ gia đình, tặng cờ Tổ quốc và ảnh Bác Hồ, tháng {month:00}/{year}",
                },
                new()
                {
                    ["channel"] = channel,
                    ["outreachSessions"] = sessions[i],
                    ["outreachAttendees"] = attendees[i],
                    ["householdsGifted"] = gifted[i],
                },
                endsOn: EndOfMonth(year, month),
                partners: post.Communes.Select(c => c.CommuneId).ToArray());
        }
    }

    void Meetings()
    {
        var counterpart = $"Lực lượng bảo vệ biên giới {district.ForeignSide}";
        for (var i = 0; i < targets.ProvinceTalks; i++)
        {
            writer.Add(district, "meeting", district.Posts[0].PostId, RandomDate(),
                "Hội đàm giữa Bộ đội Biên phòng tỉnh Lai Châu với lực lượng bảo vệ biên giới phía đối diện",
                new() { ["format"] = "talks", ["level"] = "province", ["meetings"] = 1, ["meetingAttendees"] = Between(12, 30), ["counterpart"] = counterpart });
        }
        for (var i = 0; i < targets.PostTalks; i++)
        {
            var post = Pick(district.Posts);
            writer.Add(district, "meeting", post.PostId, RandomDate(),
                $"Hội đàm cấp đồn giữa {post.Name} và trạm biên phòng phía đối diện",
                new() { ["format"] = "talks", ["level"] = "post", ["meetings"] = 1, ["meetingAttendees"] = Between(6, 16), ["counterpart"] = counterpart });
        }
        var delegations = Split(targets.Delegations, Math.Min(20, targets.Delegations), 1);
        foreach (var count in delegations)
        {
            writer.Add(district, "meeting", district.DistrictId, RandomDate(),
                $"Làm thủ tục cho {count} đoàn cấp huyện hai bên qua lại hội đàm, làm việc",
                new() { ["format"] = "delegation", ["level"] = "district", ["meetings"] = 1, ["meetingAttendees"] = Between(8, 25), ["delegations"] = count, ["counterpart"] = district.ForeignSide });
        }
        foreach (var year in Years)
        {
            writer.Add(district, "meeting", district.DistrictId, new DateOnly(year, 12, Between(10, 28)),
                $"Hội nghị sơ kết năm {year} thực hiện quy chế phối hợp giữa Đảng ủy Bộ đội Biên phòng tỉnh và Huyện ủy {district.Name}",
                new() { ["format"] = "review-conference", ["level"] = "district", ["meetings"] = 1, ["meetingAttendees"] = Between(60, 120) },
                partners: district.Posts.Select(p => p.PostId).ToArray());
            foreach (var commune in district.Communes)
            {
                writer.Add(district, "meeting", commune.CommuneId, new DateOnly(year, 12, Between(1, 20)),
                    $"Hội nghị sơ kết năm {year} quy chế phối hợp giữa Đảng ủy {commune.Name} và {district.PostOf(commune.CommuneId).Name}",
                    new() { ["format"] = "review-conference", ["level"] = "commune", ["meetings"] = 1, ["meetingAttendees"] = Between(25, 60) },
                    partners: [district.PostOf(commune.CommuneId).PostId]);
            }
        }
        writer.Add(district, "meeting", district.DistrictId, new DateOnly(2024, 5, Between(10, 25)),
            $"Hội nghị sơ kết 5 năm thực hiện “Ngày Biên phòng toàn dân” giai đoạn 2019 – 2024 huyện {district.Name}",
            new() { ["format"] = "review-conference", ["level"] = "district", ["meetings"] = 1, ["meetingAttendees"] = Between(150, 250) },
            partners: district.Posts.Select(p => p.PostId).ToArray());
        foreach (var (year, month) in Months().Where(m => m.Month % 3 == 0))
        {
            foreach (var post in district.Posts)
            {
                writer.Add(district, "meeting", post.PostId, Day(year, month),
                    $"Giao ban quý {month / 3}/{year} giữa {post.Name} và UBND các xã biên giới",
                    new() { ["format"] = "briefing", ["level"] = "post", ["meetings"] = 1, ["meetingAttendees"] = Between(8, 20) },
                    partners: post.Communes.Select(c => c.CommuneId).ToArray());
            }
        }
    }

    void Twinning()
    {
        var foreignVillages = $"các thôn phía {district.ForeignSide}";
        for (var remaining = targets.VillagePairsSigned; remaining > 0;)
        {
            var pairs = Math.Min(remaining, Between(1, 2));
            remaining -= pairs;
            var commune = Pick(district.Communes);
            writer.Add(district, "twinning", commune.CommuneId, RandomDate(2019, 2021),
                $"Ký kết kết nghĩa {pairs} cặp thôn - bản hai bên biên giới",
                new()
                {
                    ["pairType"] = "village-village",
                    ["ceremony"] = "signing",
                    ["twinningEvents"] = 1,
                    ["pairsSigned"] = pairs,
                    ["twinningParticipants"] = Between(40, 120),
                    ["domesticParty"] = $"Các bản thuộc {commune.Name}",
                    ["foreignParty"] = foreignVillages,
                },
                partners: [district.PostOf(commune.CommuneId).PostId]);
        }
        for (var i = 0; i < targets.PostStationPairsSigned; i++)
        {
            var post = district.Posts[i % district.Posts.Count];
            writer.Add(district, "twinning", post.PostId, RandomDate(2019, 2023),
                "Ký kết kết nghĩa “Đồn - Trạm hữu nghị” với trạm biên phòng phía đối diện",
                new()
                {
                    ["pairType"] = "post-station",
                    ["ceremony"] = "signing",
                    ["twinningEvents"] = 1,
                    ["pairsSigned"] = 1,
                    ["twinningParticipants"] = Between(20, 50),
                    ["domesticParty"] = post.Name,
                    ["foreignParty"] = $"Trạm biên phòng phía {district.ForeignSide}",
                });
        }
        writer.Add(district, "twinning", district.DistrictId, RandomDate(2022, 2022),
            "Sơ kết 3 năm kết nghĩa “Bản - Bản” biên giới",
            new() { ["pairType"] = "village-village", ["ceremony"] = "review", ["twinningEvents"] = 1, ["pairsSigned"] = 0, ["twinningParticipants"] = Between(80, 150) });
        foreach (var year in Years)
        {
            var post = district.Posts[0];
            writer.Add(district, "twinning", post.PostId, RandomDate(year, year),
                "Giao lưu giữa hai đơn vị kết nghĩa “Đồn - Trạm hữu nghị”",
                new() { ["pairType"] = "post-station", ["ceremony"] = "exchange", ["twinningEvents"] = 1, ["pairsSigned"] = 0, ["twinningParticipants"] = Between(20, 60) });
        }
    }

    void SelfManagement()
    {
        // Each commune declares its stock every December; the stock grows towards the 2024 figure.
        var communes = district.Communes;
        var collectives = Split(targets.SelfManagedCollectives, communes.Count, 1);
        var individuals = Split(targets.SelfManagedIndividuals, communes.Count, 5);
        var metres = Split((int)(targets.SelfManagedBorderKm * 1000m), communes.Count, 1000);
        var markers = Split(targets.SelfManagedMarkers, communes.Count, 0);
        decimal[] share = [0.6m, 0.7m, 0.78m, 0.86m, 0.94m, 1m];
        for (var c = 0; c < communes.Count; c++)
        {
            ActivityRequest? latest = null;
            for (var y = 0; y < Years.Length; y++)
            {
                var km = metres[c] / 1000m;
                latest = writer.Add(district, "self-management", communes[c].CommuneId, new DateOnly(Years[y], 12, Between(1, 20)),
                    $"Tổng hợp phong trào tự quản đường biên, cột mốc của {communes[c].Name} năm {Years[y]}",
                    new()
                    {
                        ["selfManagedCollectives"] = (int)decimal.Floor(collectives[c] * share[y]),
                        ["selfManagedIndividuals"] = (int)decimal.Floor(individuals[c] * share[y]),
                        ["selfManagedBorderKm"] = y == Years.Length - 1 ? km : decimal.Round(km * share[y], 3, MidpointRounding.ToZero),
                        ["selfManagedMarkers"] = (int)decimal.Floor(markers[c] * share[y]),
                    },
                    partners: [district.PostOf(communes[c].CommuneId).PostId]);
            }
            if (withMistakes && c == 0)
            {
                // The decimal point slips in the 2024 declaration: 10 times the kilometres, then corrected.
                var right = metres[c] / 1000m;
                writer.PostWrongThenCorrect(latest!, "selfManagedBorderKm", JsonValue.Create(right * 10),
                    $"Chiều dài đường biên tự quản nhập nhầm {Vietnamese(right * 10)} km, đúng là {Vietnamese(right)} km");
            }
        }
    }

    void PoliticalBase()
    {
        var slots = Years.SelectMany(y => district.Communes.Select(c => (Year: y, Commune: c))).ToArray();
        var firstYear = slots.Select((s, i) => (s, i)).Where(x => x.s.Year == FirstYear).Select(x => x.i).ToArray();
        var cadres = new int[slots.Length];
        var cadreSplit = Split(targets.CadresSeconded, firstYear.Length, targets.CadresSeconded >= firstYear.Length ? 1 : 0);
        for (var j = 0; j < firstYear.Length; j++)
        {
            cadres[firstYear[j]] = cadreSplit[j];
        }
        var members = Split(targets.PartyMembersAdmitted, slots.Length, 0);
        var established = Split(targets.PartyCellsEstablished, slots.Length, 0);
        var consolidated = Split(targets.PartyCellsConsolidated, slots.Length, 0);
        var organizations = Split(targets.MassOrganizationsConsolidated, slots.Length, 0);
        var militia = Split(targets.MilitiaTrained, slots.Length, 0);
        var households = Split(targets.HouseholdsAssisted, slots.Length, 0);
        for (var i = 0; i < slots.Length; i++)
        {
            var (year, commune) = slots[i];
            var post = district.PostOf(commune.CommuneId);
            writer.Add(district, "political-base", post.PostId, new DateOnly(year, 12, Between(1, 28)),
                $"Tham gia xây dựng cơ sở chính trị tại {commune.Name} năm {year}",
                new()
                {
                    ["cadresSeconded"] = cadres[i],
                    ["partyMembersAdmitted"] = members[i],
                    ["partyCellsEstablished"] = established[i],
                    ["partyCellsConsolidated"] = consolidated[i],
                    ["massOrganizationsConsolidated"] = organizations[i],
                    ["militiaTrained"] = militia[i],
                    ["householdsAssisted"] = households[i],
                },
                partners: [commune.CommuneId],
                communeId: commune.CommuneId);
        }
    }

    void Welfare()
    {
        string[] programmes =
        [
            "Mái ấm cho người nghèo nơi biên giới",
            "Nâng bước em tới trường - Con nuôi đồn Biên phòng",
            "Bò giống giúp người nghèo biên giới",
            "Xuân Biên phòng ấm lòng dân bản",
            "Đồng hành cùng phụ nữ biên cương",
        ];
        var slots = Years.SelectMany(y => district.Posts.Select(p => (Year: y, Post: p))).ToArray();
        var houses = Split(targets.HousesBuilt, slots.Length, 0);
        var works = Split(targets.CivilWorks, slots.Length, 0);
        var classrooms = Split(targets.ClassroomsBuilt, slots.Length, 0);
        var children = Split(targets.ChildrenSponsored, slots.Length, 0);
        var livestock = Split(targets.LivestockGiven, slots.Length, 0);
        var workdays = Split(targets.Workdays, slots.Length, 0);
        for (var i = 0; i < slots.Length; i++)
        {
            var (year, post) = slots[i];
            var value = houses[i] * 60_000_000L + works[i] * 80_000_000L + classrooms[i] * 2_500_000L
                + children[i] * 6_000_000L + livestock[i] * 12_000_000L + Millions(5, 50);
            writer.Add(district, "welfare", post.PostId, new DateOnly(year, 11, Between(1, 30)),
                $"{post.Name} vận động, hỗ trợ nhân dân các xã biên giới năm {year}",
                new()
                {
                    ["programme"] = Pick(programmes),
                    ["housesBuilt"] = houses[i],
                    ["civilWorks"] = works[i],
                    ["classroomsBuilt"] = classrooms[i],
                    ["childrenSponsored"] = children[i],
                    ["livestockGiven"] = livestock[i],
                    ["supportValueVnd"] = value,
                    ["workdays"] = workdays[i],
                },
                partners: post.Communes.Select(c => c.CommuneId).ToArray());
        }
    }

    void Rescue()
    {
        foreach (var year in Years)
        {
            for (var i = Between(3, 6); i > 0; i--)
            {
                var month = Pick([1, 2, 3, 6, 7, 7, 8, 8, 9, 10]);
                var hazard = month switch
                {
                    >= 6 and <= 9 => random.NextDouble() < 0.5 ? "flood" : "landslide",
                    <= 3 => "forest-fire",
                    _ => Pick(["storm", "fire", "other"]),
                };
                var post = Pick(district.Posts);
                var commune = Pick(post.Communes);
                Rescue(year, month, hazard, post, commune);
            }
            if (year is 2020 or 2021)
            {
                Rescue(year, Between(3, 9), "epidemic", district.Posts[0], district.Posts[0].Communes[0]);
            }
        }
    }

    void Rescue(int year, int month, string hazard, DemoPost post, DemoCommune commune)
    {
        var text = hazard switch
        {
            "flood" => "Giúp nhân dân khắc phục hậu quả lũ quét",
            "landslide" => "Tìm kiếm cứu nạn, khắc phục hậu quả sạt lở đất",
            "forest-fire" => "Tham gia chữa cháy rừng",
            "epidemic" => "Phòng, chống dịch Covid-19 trên tuyến biên giới",
            "storm" => "Giúp nhân dân khắc phục hậu quả mưa đá, gió lốc",
            "fire" => "Tham gia chữa cháy nhà dân",
            _ => "Tham gia tìm kiếm người mất tích",
        };
        writer.Add(district, "rescue", post.PostId, Day(year, month), $"{text} tại {commune.Name}",
            new()
            {
                ["hazard"] = hazard,
                ["rescueOperations"] = 1,
                ["rescuePersonnel"] = Between(10, 80),
                ["peopleRescued"] = random.NextDouble() < 0.4 ? Between(1, 5) : 0,
                ["householdsHelped"] = Between(0, 30),
            },
            partners: [commune.CommuneId],
            communeId: commune.CommuneId);
    }

    void BorderDay()
    {
        foreach (var year in Years)
        {
            writer.Add(district, "border-day", district.DistrictId, new DateOnly(year, 3, 3),
                $"Ngày hội Biên phòng toàn dân năm {year} huyện {district.Name}",
                new() { ["borderDayEvents"] = 1, ["borderDayAttendees"] = Between(300, 800), ["giftsValueVnd"] = Millions(20, 80) },
                partners: district.Posts.Select(p => p.PostId).ToArray());
            foreach (var commune in district.Communes)
            {
                writer.Add(district, "border-day", commune.CommuneId, new DateOnly(year, 3, Between(1, 3)),
                    $"Ngày hội Biên phòng toàn dân năm {year} tại {commune.Name}",
                    new() { ["borderDayEvents"] = 1, ["borderDayAttendees"] = Between(80, 250), ["giftsValueVnd"] = Millions(3, 15) },
                    partners: [district.PostOf(commune.CommuneId).PostId]);
            }
        }
    }

    void Commendations()
    {
        writer.Add(district, "commendation", district.DistrictId, new DateOnly(2024, 5, Between(10, 25)),
            "Khen thưởng tại Hội nghị sơ kết 5 năm thực hiện “Ngày Biên phòng toàn dân” giai đoạn 2019 – 2024",
            new() { ["level"] = "province", ["commendedCollectives"] = targets.ProvinceCommendedCollectives, ["commendedIndividuals"] = targets.ProvinceCommendedIndividuals, ["award"] = "Bằng khen của UBND tỉnh Lai Châu" });
        writer.Add(district, "commendation", district.DistrictId, new DateOnly(2024, 5, Between(10, 25)),
            "Khen thưởng tại Hội nghị sơ kết 5 năm thực hiện “Ngày Biên phòng toàn dân” giai đoạn 2019 – 2024",
            new() { ["level"] = "district", ["commendedCollectives"] = targets.DistrictCommendedCollectives, ["commendedIndividuals"] = targets.DistrictCommendedIndividuals, ["award"] = $"Giấy khen của UBND huyện {district.Name}" });
        var collectives = Split(targets.UnitCommendedCollectives, Years.Length, 0);
        var individuals = Split(targets.UnitCommendedIndividuals, Years.Length, 0);
        for (var y = 0; y < Years.Length; y++)
        {
            var post = district.Posts[y % district.Posts.Count];
            writer.Add(district, "commendation", post.PostId, new DateOnly(Years[y], 12, Between(20, 30)),
                $"Khen thưởng tập thể, cá nhân có thành tích trong phong trào toàn dân bảo vệ chủ quyền, an ninh biên giới năm {Years[y]}",
                new() { ["level"] = "unit", ["commendedCollectives"] = collectives[y], ["commendedIndividuals"] = individuals[y], ["award"] = $"Giấy khen của Chỉ huy trưởng {post.Name}" });
        }
    }

    void ForeignAffairs()
    {
        var gatePost = district.Posts[0];
        var counterpart = $"Lực lượng bảo vệ biên giới {district.ForeignSide}";
        foreach (var year in Years)
        {
            foreach (var (month, day, occasion) in new[] { (1, Between(15, 28), "Tết Nguyên đán"), (9, Between(25, 29), "Quốc khánh nước bạn"), (12, Between(26, 30), "năm mới") })
            {
                writer.Add(district, "foreign-affairs", gatePost.PostId, new DateOnly(year, month, day),
                    $"Gửi thư chúc mừng {occasion} tới lực lượng bảo vệ biên giới phía đối diện",
                    new() { ["form"] = "letter", ["exchanges"] = 1, ["exchangeParticipants"] = 0, ["counterpart"] = counterpart });
            }
            foreach (var post in district.Posts)
            {
                writer.Add(district, "foreign-affairs", post.PostId, new DateOnly(year, 2, Between(1, 10)),
                    "Thăm hỏi, chúc Tết trạm biên phòng phía đối diện",
                    new() { ["form"] = "visit", ["exchanges"] = 1, ["exchangeParticipants"] = Between(5, 15), ["counterpart"] = counterpart });
            }
            writer.Add(district, "foreign-affairs", district.DistrictId, RandomDate(year, year),
                "Giao lưu văn nghệ giữa nhân dân hai bên biên giới",
                new() { ["form"] = "cultural-exchange", ["exchanges"] = 1, ["exchangeParticipants"] = Between(60, 200), ["counterpart"] = district.ForeignSide });
            writer.Add(district, "foreign-affairs", district.DistrictId, RandomDate(year, year),
                "Giao lưu bóng đá, bóng chuyền hữu nghị hai bên biên giới",
                new() { ["form"] = "sports-exchange", ["exchanges"] = 1, ["exchangeParticipants"] = Between(40, 120), ["counterpart"] = district.ForeignSide });
        }
        foreach (var (year, month) in Months().Where(m => m.Month % 3 == 1))
        {
            var quarterEnd = EndOfMonth(year, month + 2);
            foreach (var post in district.Posts)
            {
                writer.Add(district, "foreign-affairs", post.PostId, new DateOnly(year, month, 1),
                    $"Liên lạc qua đường dây nóng với trạm biên phòng phía đối diện, quý {(month + 2) / 3}/{year}",
                    new() { ["form"] = "hotline", ["exchanges"] = Between(3, 12), ["exchangeParticipants"] = 0, ["counterpart"] = counterpart },
                    endsOn: quarterEnd);
            }
            writer.Add(district, "foreign-affairs", gatePost.PostId, new DateOnly(year, month, 1),
                $"Trao đổi thông tin về tình hình biên giới, phòng chống tội phạm, quý {(month + 2) / 3}/{year}",
                new() { ["form"] = "information-exchange", ["exchanges"] = Between(2, 8), ["exchangeParticipants"] = 0, ["counterpart"] = counterpart },
                endsOn: quarterEnd);
        }
    }

    // ---- Helpers ----------------------------------------------------------------------------------------

    static IEnumerable<(int Year, int Month)> Months() =>
        Years.SelectMany(y => Enumerable.Range(1, 12).Select(m => (y, m)));

    static int DaysIn(int year, int month) => DateTime.DaysInMonth(year, month);

    static DateOnly EndOfMonth(int year, int month) => new(year, month, DaysIn(year, month));

    int Between(int min, int max) => random.Next(min, max + 1);

    T Pick<T>(IReadOnlyList<T> items) => items[random.Next(items.Count)];

    DateOnly Day(int year, int month) => new(year, month, Between(1, DaysIn(year, month)));

    DateOnly RandomDate(int fromYear = FirstYear, int toYear = LastYear) => Day(Between(fromYear, toYear), Between(1, 12));

    decimal OneDecimal(double min, double max) => Math.Round((decimal)(min + random.NextDouble() * (max - min)), 1);

    long Millions(int min, int max) => Between(min, max) * 1_000_000L;

    /// <summary>97.229 → "97,229", as the notes are Vietnamese text.</summary>
    static string Vietnamese(decimal value) =>
        string.Concat(value.ToString("#,##0.###", CultureInfo.InvariantCulture).Select(c => c switch { ',' => '.', '.' => ',', _ => c }));

    static int Metric(ActivityRequest activity, string metric) => activity.Details!.Value.GetProperty(metric).GetInt32();

    /// <summary><paramref name="total"/> in <paramref name="parts"/> random parts of at least <paramref name="min"/>.</summary>
    int[] Split(int total, int parts, int min) =>
        Split(total, Enumerable.Repeat(min, parts).ToArray(), Enumerable.Range(0, parts).Select(_ => 0.25 + random.NextDouble()).ToArray());

    /// <summary><paramref name="total"/> in parts of at least <paramref name="mins"/>, the rest shared by <paramref name="weights"/>.</summary>
    int[] Split(int total, int[] mins, double[] weights)
    {
        var parts = mins.Length;
        if (parts == 0 || total < mins.Sum())
        {
            throw new InvalidOperationException($"Cannot split {total} into {parts} parts of at least {string.Join("/", mins.Distinct())}.");
        }
        var result = (int[])mins.Clone();
        var rest = total - mins.Sum();
        var weightSum = weights.Sum();
        var given = 0;
        for (var i = 0; i < parts; i++)
        {
            var share = (int)Math.Floor(rest * weights[i] / weightSum);
            result[i] += share;
            given += share;
        }
        for (; given < rest; given++)
        {
            result[random.Next(parts)]++;
        }
        return result;
    }
}
