namespace CoordinationEvents.Contracts.V1;

/// <summary>
/// The review report (GET /api/v1/reports/review): the figures of a unit's subtree for a period, in the
/// sections and phrasing of a sơ kết report (003).
/// </summary>
/// <param name="UnitId">The unit the figures cover, with its subtree.</param>
/// <param name="Title">The report's title, naming the unit and the period.</param>
/// <param name="Sections">In report order; only sections with at least one line.</param>
/// <param name="IsEmpty">True when the period holds no figures: then one section with one line says so.</param>
public sealed record ReviewReportDocument(
    string? UnitId,
    string UnitName,
    DateOnly From,
    DateOnly To,
    string Title,
    IReadOnlyList<ReviewReportSection> Sections,
    bool IsEmpty);

public sealed record ReviewReportSection(string Title, IReadOnlyList<ReviewReportLine> Lines);

/// <summary>
/// One line of the report. <paramref name="Metrics"/> and <paramref name="Values"/> are parallel: each
/// figure the text shows, in the order it shows them. A metric filtered on dimensions is written
/// <c>metric[dimension=value,…]</c>, e.g. <c>cases[outcome=prosecuted]</c>.
/// </summary>
public sealed record ReviewReportLine(IReadOnlyList<string> Metrics, IReadOnlyList<decimal> Values, string Text);
