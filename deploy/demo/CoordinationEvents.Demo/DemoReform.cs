using System.Globalization;
using System.Text.Json;
using CoordinationEvents.Contracts.V1;

namespace CoordinationEvents.Demo;

/// <summary>A commune formed on 1 July 2025 and the demo's communes it took in; <see cref="Cited"/> when a source names the merger.</summary>
public sealed record DemoNewCommune(string UnitId, string Name, IReadOnlyList<string> MergedFrom, bool Cited);

/// <summary>
/// Lai Châu's 2025 reform as the demo records it (POST /api/v1/reorganisations), effective 2025-07-01:
/// Phong Thổ district is dissolved, its communes are merged into new communes directly under the province, and
/// its five border posts move under the province's new Border Guard command. Then a year of activities
/// (July 2025 – June 2026) by the new units.
///
/// What a source names: Nghị quyết 1670/NQ-UBTVQH15 (16 June 2025, in force from 1 July 2025) leaves Lai Châu
/// 36 communes and 2 wards; the former Phong Thổ district's area becomes the communes Sin Suối Hồ, Phong Thổ,
/// Dào San, Sì Lở Lầu and Khổng Lào (Báo Lao Động, "Tỉnh Lai Châu có 36 xã và 2 phường sau sắp xếp",
/// news.laodong.vn, 2025; Tiền Phong, "Chi tiết 38 xã và trụ sở sau sáp nhập tại Lai Châu", 2025). The new
/// Khổng Lào took in Hoang Thèn and Bản Lang (with the old Khổng Lào, which the demo does not hold). Which of the
/// demo's other communes went into which new commune is not cited here: those mergers are illustrative, and the
/// demo says so when it runs.
/// </summary>
public static class DemoReform
{
    public const string ReorganisationId = "lai-chau-2025-07-01";
    public const string Title = "Nghị quyết 1670/NQ-UBTVQH15 (sắp xếp đơn vị hành chính cấp xã tỉnh Lai Châu)";
    public static readonly DateOnly EffectiveFrom = new(2025, 7, 1);
    public static readonly DateOnly ActivitiesFrom = new(2025, 7, 1);
    public static readonly DateOnly ActivitiesTo = new(2026, 6, 30);

    public const string Command = "bdbp-lai-chau";
    public const string CommandName = "Ban Chỉ huy Bộ đội Biên phòng tỉnh Lai Châu";

    public static readonly IReadOnlyList<DemoNewCommune> Communes =
    [
        new("xa-khong-lao", "Xã Khổng Lào", ["hoang-then", "ban-lang"], Cited: true),
        new("xa-sin-suoi-ho", "Xã Sin Suối Hồ", ["sin-suoi-ho", "nam-xe"], Cited: false),
        new("xa-dao-san", "Xã Dào San", ["dao-san", "tung-qua-lin", "pa-vay-su"], Cited: false),
        new("xa-si-lo-lau", "Xã Sì Lở Lầu", ["si-lo-lau", "mo-si-san", "vang-ma-chai", "ma-ly-pho"], Cited: false),
        new("xa-phong-tho", "Xã Phong Thổ", ["huoi-luong"], Cited: false),
    ];

    /// <summary>The new commune that took in the demo's commune <paramref name="oldCommuneId"/>.</summary>
    public static DemoNewCommune SuccessorOf(string oldCommuneId) => Communes.First(c => c.MergedFrom.Contains(oldCommuneId));

    /// <summary>The body of POST /api/v1/reorganisations (api.md, "Units over time").</summary>
    public static object Reorganisation()
    {
        var changes = new List<object>
        {
            new { op = "establish", unitId = Command, name = CommandName, type = "border-guard-command", parentId = DemoUnits.Province },
        };
        foreach (var commune in Communes)
            changes.Add(new { op = "establish", unitId = commune.UnitId, name = commune.Name, type = "commune", parentId = DemoUnits.Province });
        foreach (var post in DemoUnits.PhongTho.Posts)
            changes.Add(new { op = "move", unitId = post.PostId, parentId = Command });
        foreach (var commune in Communes)
            changes.Add(new { op = "merge", unitIds = commune.MergedFrom, into = commune.UnitId });
        changes.Add(new { op = "dissolve", unitId = DemoUnits.PhongTho.DistrictId, childrenTo = DemoUnits.Province });
        return new
        {
            reorganisationId = ReorganisationId,
            title = Title,
            effectiveFrom = EffectiveFrom.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            changes,
        };
    }

    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// July 2025 – June 2026, recorded by the units as they are after the reform: each post's monthly patrols in
    /// the new commune it works with, each new commune's quarterly coordination meeting with its post, and its
    /// Border Day in March 2026. Deterministic; external ids "demo-reform-…".
    /// </summary>
    public static IReadOnlyList<ActivityRequest> Activities()
    {
        var random = new Random(20_250_701);
        int Between(int min, int max) => random.Next(min, max + 1);
        var list = new List<ActivityRequest>();
        ActivityRequest Add(string id, string kind, string unitId, DateOnly on, string summary, Dictionary<string, object> details,
            DateOnly? endsOn = null, IReadOnlyList<string>? partners = null, string? communeId = null) => new()
            {
                ExternalId = id,
                Kind = kind,
                UnitId = unitId,
                PartnerUnitIds = partners ?? [],
                OccurredOn = on,
                EndsOn = endsOn,
                Location = communeId is null ? null : new ActivityLocation { CommuneId = communeId },
                Summary = summary,
                Details = JsonSerializer.SerializeToElement(details, Json),
            };

        for (var month = ActivitiesFrom; month <= ActivitiesTo; month = month.AddMonths(1))
        {
            var end = month.AddMonths(1).AddDays(-1);
            var tag = month.ToString("yyyy-MM", CultureInfo.InvariantCulture);
            foreach (var post in DemoUnits.PhongTho.Posts)
            {
                var commune = SuccessorOf(post.Communes[0].CommuneId);
                var patrols = Between(6, 12);
                list.Add(Add($"demo-reform-patrol-{post.PostId}-{tag}", "patrol", post.PostId, month,
                    $"Tổng hợp tuần tra tháng {month.Month:00}/{month.Year} của {post.Name} trên địa bàn {commune.Name}",
                    new()
                    {
                        ["mode"] = "joint",
                        ["patrols"] = patrols,
                        ["patrolParticipants"] = patrols * Between(4, 7),
                        ["markersInspected"] = patrols * Between(0, 2),
                        ["intrusionsDetected"] = 0,
                        ["distanceKm"] = patrols * Between(5, 15),
                    },
                    endsOn: end, partners: [commune.UnitId], communeId: commune.UnitId));
            }
            if (month.Month % 3 == 0)
            {
                foreach (var commune in Communes)
                {
                    var post = DemoUnits.PhongTho.PostOf(commune.MergedFrom[0]);
                    list.Add(Add($"demo-reform-meeting-{commune.UnitId}-{tag}", "meeting", commune.UnitId, new DateOnly(month.Year, month.Month, Between(10, 25)),
                        $"Giao ban quý giữa Đảng ủy {commune.Name} và {post.Name}",
                        new() { ["format"] = "briefing", ["level"] = "commune", ["meetings"] = 1, ["meetingAttendees"] = Between(12, 30) },
                        partners: [post.PostId]));
                }
            }
        }
        foreach (var commune in Communes)
        {
            var post = DemoUnits.PhongTho.PostOf(commune.MergedFrom[0]);
            list.Add(Add($"demo-reform-border-day-{commune.UnitId}-2026", "border-day", commune.UnitId, new DateOnly(2026, 3, Between(1, 3)),
                $"Ngày hội Biên phòng toàn dân năm 2026 tại {commune.Name}",
                new() { ["borderDayEvents"] = 1, ["borderDayAttendees"] = Between(150, 400), ["giftsValueVnd"] = Between(5, 20) * 1_000_000 },
                partners: [post.PostId]));
        }
        return list.OrderBy(a => a.OccurredOn).ThenBy(a => a.ExternalId, StringComparer.Ordinal).ToArray();
    }
}
