using CoordinationEvents.Api.Core;

namespace CoordinationEvents.Api.Units;

/// <summary>
/// The units created on first start: the provinces and border districts that the seed documents name.
/// Phong Thổ's 12 border communes are named in 003 and on the map; its border posts other than Ma Lù Thàng
/// are not named in the seeds, so they carry "(ví dụ)" — examples — in their names until an administrator
/// renames them.
/// </summary>
public static class UnitSeed
{
    public sealed record SeedUnit(string UnitId, string Name, string Type, string? ParentId);

    public static readonly IReadOnlyList<SeedUnit> Units =
    [
        new("lai-chau", "Lai Châu", UnitTypes.Province, null),
        new("phong-tho", "Phong Thổ", UnitTypes.District, "lai-chau"),
        new("sin-ho", "Sìn Hồ", UnitTypes.District, "lai-chau"),
        new("nam-nhun", "Nậm Nhùn", UnitTypes.District, "lai-chau"),
        new("muong-te", "Mường Tè", UnitTypes.District, "lai-chau"),

        new("don-ma-lu-thang", "Đồn Biên phòng Ma Lù Thàng", UnitTypes.BorderPost, "phong-tho"),
        new("don-dao-san", "Đồn Biên phòng Dào San (ví dụ)", UnitTypes.BorderPost, "phong-tho"),
        new("don-si-lo-lau", "Đồn Biên phòng Sì Lở Lầu (ví dụ)", UnitTypes.BorderPost, "phong-tho"),
        new("don-vang-ma-chai", "Đồn Biên phòng Vàng Ma Chải (ví dụ)", UnitTypes.BorderPost, "phong-tho"),
        new("don-huoi-luong", "Đồn Biên phòng Huổi Luông (ví dụ)", UnitTypes.BorderPost, "phong-tho"),

        new("si-lo-lau", "Xã Sì Lở Lầu", UnitTypes.Commune, "phong-tho"),
        new("mo-si-san", "Xã Mồ Sì San", UnitTypes.Commune, "phong-tho"),
        new("pa-vay-su", "Xã Pa Vây Sử", UnitTypes.Commune, "phong-tho"),
        new("vang-ma-chai", "Xã Vàng Ma Chải", UnitTypes.Commune, "phong-tho"),
        new("tung-qua-lin", "Xã Tung Qua Lìn", UnitTypes.Commune, "phong-tho"),
        new("dao-san", "Xã Dào San", UnitTypes.Commune, "phong-tho"),
        new("ma-ly-pho", "Xã Ma Ly Pho", UnitTypes.Commune, "phong-tho"),
        new("hoang-then", "Xã Hoang Thèn", UnitTypes.Commune, "phong-tho"),
        new("ban-lang", "Xã Bản Lang", UnitTypes.Commune, "phong-tho"),
        new("huoi-luong", "Xã Huổi Luông", UnitTypes.Commune, "phong-tho"),
        new("nam-xe", "Xã Nậm Xe", UnitTypes.Commune, "phong-tho"),
        new("sin-suoi-ho", "Xã Sin Suối Hồ", UnitTypes.Commune, "phong-tho"),

        new("ha-giang", "Hà Giang", UnitTypes.Province, null),
        new("dong-van", "Đồng Văn", UnitTypes.District, "ha-giang"),
        new("meo-vac", "Mèo Vạc", UnitTypes.District, "ha-giang"),
        new("yen-minh", "Yên Minh", UnitTypes.District, "ha-giang"),
        new("quan-ba", "Quản Bạ", UnitTypes.District, "ha-giang"),
        new("vi-xuyen", "Vị Xuyên", UnitTypes.District, "ha-giang"),
        new("hoang-su-phi", "Hoàng Su Phì", UnitTypes.District, "ha-giang"),
        new("xin-man", "Xín Mần", UnitTypes.District, "ha-giang"),

        new("quang-ninh", "Quảng Ninh", UnitTypes.Province, null),
        new("mong-cai", "Móng Cái", UnitTypes.District, "quang-ninh"),
        new("hai-ha", "Hải Hà", UnitTypes.District, "quang-ninh"),
        new("binh-lieu", "Bình Liêu", UnitTypes.District, "quang-ninh"),

        new("quang-nam", "Quảng Nam", UnitTypes.Province, null),
        new("tay-giang", "Tây Giang", UnitTypes.District, "quang-nam"),
        new("nam-giang", "Nam Giang", UnitTypes.District, "quang-nam"),
        new("phuoc-son", "Phước Sơn", UnitTypes.District, "quang-nam"),
    ];
}
