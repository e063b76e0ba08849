using CoordinationEvents.Contracts.V1;

namespace CoordinationEvents.Demo;

/// <summary>A border post and the border communes it works with (patrols, briefings, political base).</summary>
public sealed record DemoPost(string PostId, string Name, IReadOnlyList<DemoCommune> Communes);

public sealed record DemoCommune(string CommuneId, string Name);

/// <summary>A border district of Lai Châu, its posts and communes, and the foreign side facing it.</summary>
public sealed record DemoDistrict(string DistrictId, string Name, string ForeignSide, IReadOnlyList<DemoPost> Posts)
{
    public IReadOnlyList<DemoCommune> Communes => Posts.SelectMany(p => p.Communes).ToArray();

    /// <summary>The district, its posts and its communes.</summary>
    public IReadOnlyList<string> SubtreeUnitIds =>
        [DistrictId, .. Posts.Select(p => p.PostId), .. Communes.Select(c => c.CommuneId)];

    public DemoPost PostOf(string communeId) => Posts.First(p => p.Communes.Any(c => c.CommuneId == communeId));
}

/// <summary>
/// The four border districts of Lai Châu that the demo records for. Phong Thổ's posts and communes are the
/// service's seed units (UnitSeed; the demo only references the contracts, so it repeats their ids); the posts
/// and communes of Sìn Hồ, Nậm Nhùn and Mường Tè are not in the seed documents, so the demo creates them,
/// marked "(ví dụ)" like the seed's own examples.
/// </summary>
public static class DemoUnits
{
    public const string Province = "lai-chau";

    static DemoCommune C(string id, string name) => new(id, name);

    public static readonly DemoDistrict PhongTho = new("phong-tho", "Phong Thổ", "huyện Kim Bình, tỉnh Vân Nam (Trung Quốc)",
    [
        new("don-ma-lu-thang", "Đồn Biên phòng Ma Lù Thàng", [C("huoi-luong", "Xã Huổi Luông"), C("ban-lang", "Xã Bản Lang")]),
        new("don-dao-san", "Đồn Biên phòng Dào San (ví dụ)", [C("dao-san", "Xã Dào San"), C("tung-qua-lin", "Xã Tung Qua Lìn"), C("pa-vay-su", "Xã Pa Vây Sử")]),
        new("don-si-lo-lau", "Đồn Biên phòng Sì Lở Lầu (ví dụ)", [C("si-lo-lau", "Xã Sì Lở Lầu"), C("mo-si-san", "Xã Mồ Sì San")]),
        new("don-vang-ma-chai", "Đồn Biên phòng Vàng Ma Chải (ví dụ)", [C("vang-ma-chai", "Xã Vàng Ma Chải"), C("ma-ly-pho", "Xã Ma Ly Pho")]),
        new("don-huoi-luong", "Đồn Biên phòng Huổi Luông (ví dụ)", [C("nam-xe", "Xã Nậm Xe"), C("sin-suoi-ho", "Xã Sin Suối Hồ"), C("hoang-then", "Xã Hoang Thèn")]),
    ]);

    public static readonly DemoDistrict SinHo = new("sin-ho", "Sìn Hồ", "tỉnh Vân Nam (Trung Quốc)",
    [
        new("don-phang-so-lin", "Đồn Biên phòng Phăng Sô Lin (ví dụ)", [C("phang-so-lin", "Xã Phăng Sô Lin (ví dụ)"), C("ta-ngao", "Xã Tả Ngảo (ví dụ)")]),
        new("don-lang-mo", "Đồn Biên phòng Làng Mô (ví dụ)", [C("lang-mo", "Xã Làng Mô (ví dụ)")]),
    ]);

    public static readonly DemoDistrict NamNhun = new("nam-nhun", "Nậm Nhùn", "tỉnh Vân Nam (Trung Quốc)",
    [
        new("don-pa-tan", "Đồn Biên phòng Pa Tần (ví dụ)", [C("pa-tan", "Xã Pa Tần (ví dụ)"), C("hua-bum", "Xã Hua Bum (ví dụ)")]),
        new("don-nam-ban", "Đồn Biên phòng Nậm Ban (ví dụ)", [C("nam-ban", "Xã Nậm Ban (ví dụ)")]),
    ]);

    public static readonly DemoDistrict MuongTe = new("muong-te", "Mường Tè", "tỉnh Vân Nam (Trung Quốc)",
    [
        new("don-mu-ca", "Đồn Biên phòng Mù Cả (ví dụ)", [C("mu-ca", "Xã Mù Cả (ví dụ)"), C("thu-lum", "Xã Thu Lũm (ví dụ)")]),
        new("don-ka-lang", "Đồn Biên phòng Ka Lăng (ví dụ)", [C("ka-lang", "Xã Ka Lăng (ví dụ)")]),
    ]);

    public static readonly IReadOnlyList<DemoDistrict> Districts = [PhongTho, SinHo, NamNhun, MuongTe];

    /// <summary>
    /// The units the demo creates (POST /api/v1/units): the posts and communes of the districts other than
    /// Phong Thổ, parents before children.
    /// </summary>
    public static IReadOnlyList<UnitRequest> ToCreate { get; } =
    [
        .. Districts.Where(d => d != PhongTho).SelectMany(d =>
            d.Posts.Select(p => new UnitRequest { UnitId = p.PostId, Name = p.Name, Type = "border-post", ParentId = d.DistrictId })
                .Concat(d.Communes.Select(c => new UnitRequest { UnitId = c.CommuneId, Name = c.Name, Type = "commune", ParentId = d.DistrictId }))),
    ];
}
