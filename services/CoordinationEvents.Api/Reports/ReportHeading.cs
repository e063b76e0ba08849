using System.Globalization;
using CoordinationEvents.Api.Core;

namespace CoordinationEvents.Api.Reports;

/// <summary>
/// Who issues a report and how it is headed and signed: the parts of the document that are not figures
/// (reports.md). <see cref="IssuerKind"/> chooses the form: <c>state</c>, a state body (Decree 30/2020/NĐ-CP,
/// Appendix I), or <c>party</c>, a Party committee (Hướng dẫn 36-HD/VPTW).
/// </summary>
/// <param name="IssuerKind"><c>state</c> or <c>party</c>.</param>
/// <param name="IssuerParent">The body above the issuer, top left over its name ("UBND TỈNH LAI CHÂU", "ĐẢNG BỘ TỈNH LAI CHÂU"); may be empty.</param>
/// <param name="Issuer">The issuing body, in capitals ("ỦY BAN NHÂN DÂN HUYỆN PHONG THỔ").</param>
/// <param name="Symbol">The symbol after the number ("BC-UBND"; for the Party "BC/HU").</param>
/// <param name="Number">The number, or empty: left blank for the office to fill in, as 003 does.</param>
/// <param name="Place">The place written before the date ("Phong Thổ").</param>
/// <param name="Date">The date of issue.</param>
/// <param name="Signer">The signature block's lines over the name ("TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH").</param>
/// <param name="SignerName">The signer's name, or empty.</param>
/// <param name="Recipients">"Nơi nhận:" lines.</param>
/// <param name="Area">The area the report covers, as the subject names it ("huyện Phong Thổ").</param>
public sealed record ReportHeading(
    string IssuerKind,
    string IssuerParent,
    string Issuer,
    string Symbol,
    string Number,
    string Place,
    DateOnly Date,
    IReadOnlyList<string> Signer,
    string SignerName,
    IReadOnlyList<string> Recipients,
    string Area)
{
    public const string State = "state";
    public const string Party = "party";

    public bool IsParty => IssuerKind == Party;

    /// <summary>"Số: 12/BC-UBND" (state) or "Số 12-BC/HU" (Party); a blank number keeps the space to write it in.</summary>
    public string NumberLine => IsParty
        ? $"Số {(Number.Length == 0 ? "      " : Number)}-{Symbol}"
        : $"Số: {(Number.Length == 0 ? "      " : Number)}/{Symbol}";

    /// <summary>"Phong Thổ, ngày 05 tháng 02 năm 2025": days below 10 and months 1 and 2 with a leading zero (Decree 30/2020, Appendix I).</summary>
    public string PlaceAndDate => $"{Place}, {DateText(Date)}";

    public static string DateText(DateOnly date) =>
        string.Create(CultureInfo.InvariantCulture, $"ngày {date.Day:00} tháng {(date.Month < 3 ? date.Month.ToString("00", CultureInfo.InvariantCulture) : date.Month.ToString(CultureInfo.InvariantCulture))} năm {date.Year}");

    /// <summary>
    /// The heading with whatever the request leaves out taken from the unit: its People's Committee (or Party
    /// committee) by the unit's type, its name as the place, the date of issue.
    /// </summary>
    public static ReportHeading Resolve(ReportHeadingInput input, UnitTree tree, string? unitId, DateOnly date)
    {
        var unit = unitId is null ? null : tree.Find(unitId);
        var parent = unit?.ParentId is { } p ? tree.Find(p) : null;
        var party = input.IssuerKind == Party;
        var issuer = Blank(input.Issuer) ?? DefaultIssuer(unit, party);
        var issuerParent = input.IssuerParent?.Trim() ?? (parent is null ? "" : DefaultParent(parent, party));
        var symbol = Blank(input.Symbol) ?? (party ? DefaultPartySymbol(unit) : DefaultStateSymbol(unit));
        var place = Blank(input.Place) ?? PlaceOf(unit);
        var signer = input.Signer is { Count: > 0 } s ? s.ToArray() : DefaultSigner(unit, party);
        var recipients = input.Recipients is { Count: > 0 } r ? r.ToArray() : ["Như trên;", "Lưu: VT."];
        return new ReportHeading(party ? Party : State, issuerParent.ToUpperInvariant(), issuer.ToUpperInvariant(), symbol, input.Number?.Trim() ?? "",
            place, date, signer, input.SignerName?.Trim() ?? "", recipients, AreaOf(unit));
    }

    static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    /// <summary>The name without an "Đồn Biên phòng" prefix or an "(ví dụ)" note: "Phong Thổ".</summary>
    static string PlaceOf(Unit? unit) => unit is null ? "Lai Châu" : unit.Name.Replace(" (ví dụ)", "", StringComparison.Ordinal);

    /// <summary>"huyện Phong Thổ", "Đồn Biên phòng Ma Lù Thàng", "toàn tỉnh" without a unit.</summary>
    public static string AreaOf(Unit? unit) => unit is null ? "các đơn vị"
        : unit.Type == UnitTypes.BorderPost ? PlaceOf(unit) : $"{Level(unit)} {PlaceOf(unit)}";

    static string Level(Unit unit) => unit.Type switch
    {
        UnitTypes.Province => "tỉnh",
        UnitTypes.District => "huyện",
        UnitTypes.Commune => "xã",
        _ => "",
    };

    static string DefaultIssuer(Unit? unit, bool party)
    {
        if (unit is null) return party ? "ĐẢNG ỦY" : "ỦY BAN NHÂN DÂN";
        var name = PlaceOf(unit);
        if (unit.Type == UnitTypes.BorderPost) return party ? $"Đảng ủy {name}" : name;
        if (party) return unit.Type == UnitTypes.District ? $"Huyện ủy {name}" : unit.Type == UnitTypes.Province ? $"Tỉnh ủy {name}" : $"Đảng ủy {Level(unit)} {name}";
        return $"Ủy ban nhân dân {Level(unit)} {name}";
    }

    static string DefaultParent(Unit parent, bool party)
    {
        var name = PlaceOf(parent);
        if (party) return $"Đảng bộ {Level(parent)} {name}".Replace("  ", " ");
        return parent.Type == UnitTypes.District || parent.Type == UnitTypes.Province ? $"UBND {Level(parent)} {name}" : name;
    }

    static string DefaultStateSymbol(Unit? unit) => unit?.Type == UnitTypes.BorderPost ? "BC-ĐBP" : "BC-UBND";

    static string DefaultPartySymbol(Unit? unit) => unit?.Type switch
    {
        UnitTypes.District => "BC/HU",
        UnitTypes.Province => "BC/TU",
        _ => "BC/ĐU",
    };

    static string[] DefaultSigner(Unit? unit, bool party)
    {
        if (party) return ["T/M BAN THƯỜNG VỤ", "BÍ THƯ"];
        if (unit?.Type == UnitTypes.BorderPost) return ["ĐỒN TRƯỞNG"];
        return ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"];
    }
}

/// <summary>What a request may say of the heading; everything optional.</summary>
public sealed record ReportHeadingInput(
    string? IssuerKind = null,
    string? IssuerParent = null,
    string? Issuer = null,
    string? Symbol = null,
    string? Number = null,
    string? Place = null,
    IReadOnlyList<string>? Signer = null,
    string? SignerName = null,
    IReadOnlyList<string>? Recipients = null)
{
    public const int MaxLength = 200;

    /// <summary>Adds an error per field that is not acceptable.</summary>
    public void Validate(Dictionary<string, string[]> errors, string prefix = "")
    {
        if (IssuerKind is not (null or ReportHeading.State or ReportHeading.Party))
            errors[prefix + "issuerKind"] = ["'issuerKind' is state (a state body, Decree 30/2020/NĐ-CP) or party (a Party committee, Hướng dẫn 36-HD/VPTW)."];
        void Text(string name, string? value)
        {
            if (value is not null && (value.Length > MaxLength || value.Any(char.IsControl)))
                errors[prefix + name] = [$"'{name}' is one line of at most {MaxLength} characters."];
        }
        Text("issuerParent", IssuerParent);
        Text("issuer", Issuer);
        Text("symbol", Symbol);
        Text("number", Number);
        Text("place", Place);
        Text("signerName", SignerName);
        void Lines(string name, IReadOnlyList<string>? lines, int max)
        {
            if (lines is null) return;
            if (lines.Count > max || lines.Any(l => l is null || l.Length > MaxLength || l.Any(char.IsControl)))
                errors[prefix + name] = [$"'{name}' is at most {max} lines of at most {MaxLength} characters each."];
        }
        Lines("signer", Signer, 5);
        Lines("recipients", Recipients, 40);
    }
}
