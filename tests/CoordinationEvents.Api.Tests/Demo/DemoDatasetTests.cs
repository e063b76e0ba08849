using System.Text.Json;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Reports;
using CoordinationEvents.Api.Units;
using CoordinationEvents.Contracts.V1;
using CoordinationEvents.Demo;

namespace CoordinationEvents.Api.Tests.Demo;

/// <summary>
/// The demo data set, checked without a server: once its corrections and retractions are applied, Phong Thổ's
/// subtree adds up to 003's figures the way domain.md defines the statistics (flows summed over the period,
/// stocks the latest declaration per unit).
/// </summary>
public class DemoDatasetTests
{
    static readonly DemoDataset Dataset = DemoDataset.Build();
    static readonly DateOnly From = new(2019, 1, 1);
    static readonly DateOnly To = new(2024, 12, 31);

    /// <summary>The records as they stand once every correction replaced its record and every retraction removed its own.</summary>
    static IReadOnlyList<ActivityRequest> Applied(DemoDataset dataset)
    {
        var corrected = dataset.Corrections.ToDictionary(c => c.ExternalId, c => c.Corrected, StringComparer.Ordinal);
        var retracted = dataset.Retractions.Select(r => r.ExternalId).ToHashSet(StringComparer.Ordinal);
        return dataset.Activities
            .Where(a => !retracted.Contains(a.ExternalId!))
            .Select(a => corrected.GetValueOrDefault(a.ExternalId!, a))
            .ToArray();
    }

    static IReadOnlyDictionary<string, string?> Parents(DemoDataset dataset) =>
        UnitSeed.Units.Select(u => (u.UnitId, u.ParentId))
            .Concat(dataset.Units.Select(u => (UnitId: u.UnitId!, u.ParentId)))
            .ToDictionary(u => u.UnitId, u => u.ParentId, StringComparer.Ordinal);

    static HashSet<string> Subtree(DemoDataset dataset, string root)
    {
        var parents = Parents(dataset);
        bool Under(string? unit) => unit is not null && (unit == root || Under(parents[unit]));
        return parents.Keys.Where(Under).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Statistics over a set of records, as domain.md defines them, for one unit's subtree and a period.</summary>
    sealed class Figures(IReadOnlyList<ActivityRequest> activities, HashSet<string> units, DateOnly from, DateOnly to)
    {
        readonly ActivityRequest[] inScope = activities.Where(a => units.Contains(a.UnitId!)).ToArray();

        public decimal Sum(string metric, params (string Dimension, string Value)[] filter)
        {
            var kind = KindCatalog.All.Single(k => k.Metric(metric) is not null);
            var definition = kind.Metric(metric)!;
            if (definition.IsStock)
            {
                // Per unit, its latest declaration on or before the end; the same day: the one recorded later.
                return inScope
                    .Select((a, order) => (Activity: a, Order: order))
                    .Where(x => x.Activity.Kind == kind.Name && x.Activity.OccurredOn <= to)
                    .GroupBy(x => x.Activity.UnitId)
                    .Select(g => g.OrderBy(x => x.Activity.OccurredOn).ThenBy(x => x.Order).Last().Activity)
                    .Sum(a => Value(a, definition));
            }
            return inScope
                .Where(a => a.Kind == kind.Name && a.OccurredOn >= from && a.OccurredOn <= to)
                .Where(a => filter.All(f => a.Details!.Value.GetProperty(f.Dimension).GetString() == f.Value))
                .Sum(a => Value(a, definition));
        }

        static decimal Value(ActivityRequest activity, MetricDefinition metric) =>
            activity.Details!.Value.TryGetProperty(metric.Name, out var value) ? value.GetDecimal() : metric.IsKindCount ? 1m : 0m;
    }

    static Figures PhongTho(IReadOnlyList<ActivityRequest> activities) =>
        new(activities, Subtree(Dataset, "phong-tho"), From, To);

    [Fact]
    public void Phong_Tho_adds_up_to_the_figures_of_003_once_corrections_and_retractions_are_applied()
    {
        var f = PhongTho(Applied(Dataset));

        Assert.Equal(1_236m, f.Sum("patrols"));
        Assert.Equal(7_920m, f.Sum("patrolParticipants"));
        Assert.Equal(280m, f.Sum("intrusionsDetected"));

        Assert.Equal(156m, f.Sum("cases"));
        Assert.Equal(780m, f.Sum("subjects"));
        Assert.Equal(74m, f.Sum("cases", ("outcome", "prosecuted")));
        Assert.Equal(78m, f.Sum("subjects", ("outcome", "prosecuted")));
        Assert.Equal(82m, f.Sum("cases", ("outcome", "administrative")));
        Assert.Equal(702m, f.Sum("subjects", ("outcome", "administrative")));
        Assert.Equal(270m, f.Sum("weaponsRecovered"));

        Assert.Equal(1_244m, f.Sum("outreachSessions"));
        Assert.Equal(69_750m, f.Sum("outreachAttendees"));
        Assert.Equal(3_000m, f.Sum("householdsGifted"));

        Assert.Equal(26m, f.Sum("meetings", ("format", "talks"), ("level", "province")));
        Assert.Equal(109m, f.Sum("meetings", ("format", "talks"), ("level", "post")));
        Assert.Equal(0m, f.Sum("meetings", ("format", "talks"), ("level", "district")) + f.Sum("meetings", ("format", "talks"), ("level", "commune")));
        Assert.Equal(32m, f.Sum("delegations"));
        Assert.Equal(32m, f.Sum("delegations", ("format", "delegation"), ("level", "district")));

        Assert.Equal(4m, f.Sum("pairsSigned", ("pairType", "village-village")));
        Assert.Equal(3m, f.Sum("pairsSigned", ("pairType", "post-station")));

        Assert.Equal(63m, f.Sum("selfManagedCollectives"));
        Assert.Equal(460m, f.Sum("selfManagedIndividuals"));
        Assert.Equal(97.229m, f.Sum("selfManagedBorderKm"));
        Assert.Equal(27m, f.Sum("selfManagedMarkers"));

        Assert.Equal(12m, f.Sum("cadresSeconded"));
        Assert.Equal(484m, f.Sum("partyMembersAdmitted"));
        Assert.Equal(5_148m, f.Sum("militiaTrained"));

        Assert.Equal(74m, f.Sum("housesBuilt"));
        Assert.Equal(21m, f.Sum("civilWorks"));
        Assert.Equal(420m, f.Sum("classroomsBuilt"));

        Assert.Equal(110m, f.Sum("commendedCollectives"));
        Assert.Equal(360m, f.Sum("commendedIndividuals"));
        // Border Day: each year the district's own day and one in each of the 12 communes.
        Assert.Equal(6m * 13m, f.Sum("borderDayEvents"));
    }

    [Fact]
    public void Without_the_corrections_and_retractions_Phong_Tho_does_not_add_up()
    {
        var raw = PhongTho(Dataset.Activities);

        Assert.NotEqual(7_920m, raw.Sum("patrolParticipants"));
        Assert.NotEqual(156m, raw.Sum("cases"));
        Assert.NotEqual(97.229m, raw.Sum("selfManagedBorderKm"));

        var phongTho = Subtree(Dataset, "phong-tho");
        bool InPhongTho(string externalId) => phongTho.Contains(Dataset.Activities.Single(a => a.ExternalId == externalId).UnitId!);
        Assert.Contains(Dataset.Corrections, c => InPhongTho(c.ExternalId));
        Assert.Contains(Dataset.Retractions, r => InPhongTho(r.ExternalId));
    }

    [Fact]
    public void Self_management_is_declared_yearly_per_commune_and_only_the_latest_counts()
    {
        var applied = Applied(Dataset);
        var phongTho = Subtree(Dataset, "phong-tho");
        var declarations = applied.Where(a => a.Kind == "self-management" && phongTho.Contains(a.UnitId!)).ToArray();

        Assert.Equal(12, declarations.Select(a => a.UnitId).Distinct().Count());
        Assert.All(declarations.GroupBy(a => a.UnitId), g =>
        {
            Assert.Equal(6, g.Select(a => a.OccurredOn!.Value.Year).Distinct().Count());
            Assert.True(g.Select(a => a.Details!.Value.GetRawText()).Distinct().Count() > 1, $"{g.Key} declares the same stock every year");
        });
        // Summing every declaration would overstate the stock.
        Assert.True(declarations.Sum(a => a.Details!.Value.GetProperty("selfManagedCollectives").GetDecimal()) > 63m);
        // The stock at the end of 2021 is smaller than at the end of 2024.
        var at2021 = new Figures(applied, phongTho, From, new DateOnly(2021, 12, 31));
        Assert.True(at2021.Sum("selfManagedCollectives") < 63m);
    }

    [Fact]
    public void External_ids_are_unique_and_corrections_and_retractions_refer_to_posted_records()
    {
        var ids = Dataset.Activities.Select(a => a.ExternalId!).ToArray();
        Assert.Equal(ids.Length, ids.Distinct(StringComparer.Ordinal).Count());
        Assert.All(ids, id => Assert.StartsWith("demo-", id));
        Assert.Contains("demo-phong-tho-patrol-2019-03-0001", ids);

        var byId = Dataset.Activities.ToDictionary(a => a.ExternalId!, StringComparer.Ordinal);
        Assert.NotEmpty(Dataset.Corrections);
        Assert.All(Dataset.Corrections, c =>
        {
            var original = byId[c.ExternalId];
            Assert.Equal(c.ExternalId, c.Corrected.ExternalId);
            Assert.Equal(original.Kind, c.Corrected.Kind);
            Assert.Equal(original.UnitId, c.Corrected.UnitId);
            Assert.NotEqual(original.Details!.Value.GetRawText(), c.Corrected.Details!.Value.GetRawText());
        });
        Assert.NotEmpty(Dataset.Retractions);
        Assert.All(Dataset.Retractions, r =>
        {
            Assert.True(byId.ContainsKey(r.ExternalId));
            Assert.False(string.IsNullOrWhiteSpace(r.Reason));
        });
        Assert.Empty(Dataset.Retractions.Select(r => r.ExternalId).Intersect(Dataset.Corrections.Select(c => c.ExternalId)));
    }

    [Fact]
    public void Two_builds_are_identical()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        Assert.Equal(JsonSerializer.Serialize(Dataset, options), JsonSerializer.Serialize(DemoDataset.Build(), options));
    }

    [Fact]
    public void Every_record_is_valid_for_its_kind()
    {
        var units = Parents(Dataset);
        var communes = UnitSeed.Units.Where(u => u.Type == UnitTypes.Commune).Select(u => u.UnitId)
            .Concat(Dataset.Units.Where(u => u.Type == UnitTypes.Commune).Select(u => u.UnitId!))
            .ToHashSet(StringComparer.Ordinal);

        foreach (var activity in Dataset.Activities.Concat(Dataset.Corrections.Select(c => c.Corrected)))
        {
            var id = activity.ExternalId!;
            Assert.InRange(id.Length, 1, 200);
            Assert.True(KindCatalog.TryGet(activity.Kind, out var kind), $"{id}: unknown kind {activity.Kind}");
            Assert.True(units.ContainsKey(activity.UnitId!), $"{id}: unknown unit {activity.UnitId}");
            Assert.All(activity.PartnerUnitIds ?? [], p => Assert.True(units.ContainsKey(p), $"{id}: unknown partner {p}"));
            if (activity.Location?.CommuneId is { } commune)
            {
                Assert.Contains(commune, communes);
            }
            var occurredOn = activity.OccurredOn!.Value;
            Assert.InRange(occurredOn, From, To);
            if (activity.EndsOn is { } endsOn)
            {
                Assert.InRange(endsOn, occurredOn, To);
            }
            Assert.False(string.IsNullOrWhiteSpace(activity.Summary));
            Assert.True(activity.Summary!.Length <= 4_000);

            var details = activity.Details!.Value;
            Assert.Equal(JsonValueKind.Object, details.ValueKind);
            foreach (var dimension in kind.Dimensions)
            {
                Assert.True(details.TryGetProperty(dimension.Name, out var value), $"{id}: no {dimension.Name}");
                Assert.Contains(value.GetString(), dimension.Values);
            }
            foreach (var property in details.EnumerateObject())
            {
                if (kind.Dimension(property.Name) is not null)
                {
                    continue;
                }
                if (kind.TextFields.Contains(property.Name))
                {
                    Assert.True(property.Value.GetString()!.Length <= KindCatalog.MaxTextLength);
                    continue;
                }
                var metric = kind.Metric(property.Name);
                Assert.True(metric is not null, $"{id}: {property.Name} is not a field of {kind.Name}");
                var number = property.Value.GetDecimal();
                switch (metric!.Type)
                {
                    case MetricType.Count:
                        Assert.Equal(decimal.Truncate(number), number);
                        Assert.InRange(number, metric.IsKindCount ? 1m : 0m, KindCatalog.MaxCount);
                        break;
                    case MetricType.Vnd:
                        Assert.Equal(decimal.Truncate(number), number);
                        Assert.InRange(number, 0m, KindCatalog.MaxVnd);
                        break;
                    case MetricType.Decimal:
                        Assert.InRange(number, 0m, KindCatalog.MaxDecimal);
                        Assert.Equal(decimal.Round(number, KindCatalog.DecimalPlaces), number);
                        break;
                }
            }
        }
    }

    [Fact]
    public void The_data_set_holds_every_kind_in_every_district_with_single_events_and_monthly_aggregates()
    {
        foreach (var district in DemoUnits.Districts)
        {
            var units = Subtree(Dataset, district.DistrictId);
            var kinds = Dataset.Activities.Where(a => units.Contains(a.UnitId!)).Select(a => a.Kind).ToHashSet();
            Assert.Equal(KindCatalog.All.Select(k => k.Name).Order(), kinds.Order());
        }
        var patrols = Dataset.Activities.Where(a => a.Kind == "patrol").Select(a => a.Details!.Value.GetProperty("patrols").GetInt32()).ToArray();
        Assert.Contains(1, patrols);
        Assert.Contains(patrols, p => p > 1);
        Assert.Contains(Dataset.Activities, a => a.EndsOn is not null);
        Assert.All(Dataset.Activities, a => Assert.True(a.OccurredOn!.Value.Year > 2018));
    }

    [Fact]
    public void Phong_Tho_units_are_the_seed_units_and_the_other_districts_get_two_posts_and_three_communes()
    {
        var seed = UnitSeed.Units.ToDictionary(u => u.UnitId);
        var phongTho = DemoUnits.PhongTho;
        Assert.Equal(
            seed.Values.Where(u => u.ParentId == "phong-tho").Select(u => u.UnitId).Order(),
            phongTho.Posts.Select(p => p.PostId).Concat(phongTho.Communes.Select(c => c.CommuneId)).Order());
        Assert.All(phongTho.Posts, p => Assert.Equal(seed[p.PostId].Name, p.Name));
        Assert.All(phongTho.Communes, c => Assert.Equal(seed[c.CommuneId].Name, c.Name));

        foreach (var district in DemoUnits.Districts.Where(d => d != phongTho))
        {
            Assert.Equal("district", seed[district.DistrictId].Type);
            var created = Dataset.Units.Where(u => u.ParentId == district.DistrictId).ToArray();
            Assert.Equal(2, created.Count(u => u.Type == UnitTypes.BorderPost));
            Assert.Equal(3, created.Count(u => u.Type == UnitTypes.Commune));
        }
        Assert.All(Dataset.Units, u =>
        {
            Assert.DoesNotContain(u.UnitId!, seed.Keys);
            Assert.Matches("^[a-z0-9]+(-[a-z0-9]+)*$", u.UnitId!);
            Assert.Equal(u.Name, u.Name!.Normalize(System.Text.NormalizationForm.FormC));
        });
    }

    /// <summary>The rows a statistics query grouped by kind and every dimension would give for these records.</summary>
    static IReadOnlyList<StatisticsRow> Rows(IReadOnlyList<ActivityRequest> activities, HashSet<string> units, DateOnly from, DateOnly to)
    {
        var figures = new Figures(activities, units, from, to);
        var scoped = activities.Where(a => units.Contains(a.UnitId!) && a.OccurredOn >= from && a.OccurredOn <= to).ToArray();
        var rows = new List<StatisticsRow>();
        foreach (var group in scoped.GroupBy(a => (a.Kind, Key: string.Join("|", ReviewFigures.GroupBy.Skip(1)
                     .Select(d => a.Details!.Value.TryGetProperty(d, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : "")))))
        {
            var kind = KindCatalog.Get(group.Key.Kind!);
            var first = group.First();
            var key = new Dictionary<string, string?> { ["kind"] = kind.Name };
            foreach (var dimension in ReviewFigures.GroupBy.Skip(1))
            {
                key[dimension] = kind.Dimension(dimension) is not null ? first.Details!.Value.GetProperty(dimension).GetString() : null;
            }
            var metrics = new Dictionary<string, decimal> { ["activities"] = group.Count() };
            foreach (var metric in kind.Metrics)
            {
                metrics[metric.Name] = metric.IsStock
                    ? figures.Sum(metric.Name)
                    : group.Sum(a => a.Details!.Value.TryGetProperty(metric.Name, out var v) ? v.GetDecimal() : metric.IsKindCount ? 1m : 0m);
            }
            rows.Add(new StatisticsRow(key, metrics));
        }
        return rows;
    }

    [Fact]
    public void The_review_report_of_the_data_set_gives_the_lines_of_003()
    {
        var rows = Rows(Applied(Dataset), Subtree(Dataset, "phong-tho"), From, To);

        var report = ReviewReport.Build("phong-tho", "Phong Thổ", From, To, new ReviewFigures(rows));

        var lines = report.Sections.SelectMany(s => s.Lines).Select(l => l.Text).ToArray();
        Assert.Contains("Tổ chức tuyên truyền được 1.244 buổi/69.750 lượt người nghe", lines);
        Assert.Contains("Tặng ảnh Bác Hồ và cờ Tổ quốc cho 3.000 hộ dân ở các bản giáp biên giới", lines);
        Assert.Contains("Tổ chức tuần tra 1.236 lần/7.920 lượt người tham gia", lines);
        Assert.Contains("Qua tuần tra phát hiện, xử lý, ngăn chặn 280 lượt người nước ngoài sang đất ta săn bắn, khai thác trộm lâm sản, nông sản", lines);
        Assert.Contains("Phát hiện 156 vụ/780 đối tượng, trong đó khởi tố 74 vụ/78 đối tượng, xử lý vi phạm hành chính 82 vụ/702 đối tượng", lines);
        Assert.Contains(lines, l => l.StartsWith("Vận động thu hồi được 270 khẩu súng các loại", StringComparison.Ordinal));
        Assert.Contains("Tổ chức hội đàm với các lực lượng phía đối diện: cấp tỉnh 26 lần, cấp Đồn Biên phòng 109 lần", lines);
        Assert.Contains("Làm thủ tục cho 32 đoàn hai bên qua lại hội đàm, làm việc", lines);
        Assert.Contains("Ký kết kết nghĩa 4 cặp thôn - bản và 3 cặp đồn - trạm biên phòng hữu nghị", lines);
        Assert.Contains("Tính đến ngày 31/12/2024, có 63 tập thể, 460 hộ/cá nhân tham gia tự quản 97,229 km đường biên giới và 27 cột mốc", lines);
        Assert.Contains("Giới thiệu 12 đồng chí cán bộ Biên phòng tăng cường cho các xã biên giới", lines);
        Assert.Contains("Bồi dưỡng, tạo nguồn kết nạp được 484 đảng viên", lines);
        Assert.Contains("Huấn luyện quân sự và nghiệp vụ cho 5.148 lượt dân quân và công an viên", lines);
        Assert.Contains("Hỗ trợ xây dựng 74 căn nhà Đại đoàn kết, 21 công trình dân sinh", lines);
        Assert.Contains("Làm mới, tu sửa 420 phòng học", lines);
        Assert.Contains("Có 110 tập thể và 360 cá nhân được các cấp khen thưởng", lines);
        Assert.Contains("3 tập thể, 5 cá nhân được tặng Bằng khen UBND tỉnh", lines);
        Assert.Contains("15 tập thể, 30 cá nhân được tặng Giấy khen UBND huyện", lines);
    }
}
