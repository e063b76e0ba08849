using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;

namespace CoordinationEvents.Api.Reports;

/// <summary>
/// The review report over a reorganisation: the unit as it was at the period's end (its name then), the figures as it
/// was, and with <c>lineage=true</c> (GET's query parameter, POST's body) the figures of the units merged into it
/// carried forward, said in one line.
/// </summary>
public static class ReportLineage
{
    public const string SectionTitle = "Số liệu kế thừa";

    /// <summary>The lineage parameter: absent or false, true; true needs a unit.</summary>
    public static bool Parse(string? value, string? unitId, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrEmpty(value)) return false;
        if (!bool.TryParse(value, out var lineage)) errors["lineage"] = ["'lineage' is true or false."];
        else if (lineage && unitId is null) errors["lineage"] = ["lineage=true carries the figures of former units into one unit: give unitId."];
        return lineage;
    }

    /// <summary>The tree on the period's last day, or on the unit's last day if it ended before.</summary>
    public static UnitTree TreeAtEnd(UnitHistory history, string? unitId, DateOnly to) =>
        history.TreeOn(unitId is not null && history.Life(unitId) is { } life ? life.Clamp(to) : to);

    /// <summary>The report with one more section saying which units' figures were carried forward (and which were not), when any were.</summary>
    public static ReviewReportDocument Add(ReviewReportDocument report, StatisticsResponse statistics)
    {
        if (statistics.Lineage is not { Count: > 0 } && statistics.NotCarried is not { Count: > 0 }) return report;
        var text = Text(statistics);
        return report with { Sections = [.. report.Sections, new ReviewReportSection(SectionTitle, [new ReviewReportLine([], [], text)])] };
    }

    public static string Text(StatisticsResponse statistics)
    {
        var parts = new List<string>();
        if (statistics.Lineage is { Count: > 0 } carried)
            parts.Add("Số liệu bao gồm số liệu của " + string.Join(", ", carried.Select(c => $"{c.Name} (đến ngày {VietnameseFormat.Date(c.Until)})"))
                + " đã sáp nhập");
        if (statistics.NotCarried is { Count: > 0 } notCarried)
            parts.Add("không tính số liệu của " + string.Join(", ", notCarried.Select(c => c.ValidTo is { } d ? $"{c.Name} (đã chia tách từ ngày {VietnameseFormat.Date(d.AddDays(1))})" : c.Name)));
        var text = string.Join("; ", parts);
        return char.ToUpperInvariant(text[0]) + text[1..] + ".";
    }
}
