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

/// <summary>
/// <c>POST /api/v1/reports</c>: issue a report. Everything but the kind, the unit and the period is optional and
/// defaults from the unit (its People's Committee, its name as the place, the date of issue).
/// </summary>
/// <param name="Kind">"review" (the only kind so far).</param>
/// <param name="From">The period's first day, yyyy-MM-dd.</param>
/// <param name="To">The period's last day, yyyy-MM-dd.</param>
/// <param name="Number">The document's number ("12"); left blank when not given, for the office to fill in.</param>
/// <param name="Recipients">The "Nơi nhận:" lines.</param>
/// <param name="Lineage">True: the figures of the units merged into the unit are carried forward, and the report says which in one line.</param>
public sealed record IssueReportRequest(
    string? Kind,
    string? UnitId,
    string? From,
    string? To,
    ReportIssuer? Issuer = null,
    string? Number = null,
    string? Place = null,
    ReportSigner? Signer = null,
    IReadOnlyList<string>? Recipients = null,
    bool? Lineage = null);

/// <summary>Who issues the report.</summary>
/// <param name="Kind">"state" (Decree 30/2020/NĐ-CP, the default) or "party" (a Party committee, Hướng dẫn 36-HD/VPTW).</param>
/// <param name="Parent">The body above the issuer ("UBND TỈNH LAI CHÂU").</param>
/// <param name="Name">The issuing body ("ỦY BAN NHÂN DÂN HUYỆN PHONG THỔ").</param>
/// <param name="Symbol">The symbol after the number ("BC-UBND").</param>
public sealed record ReportIssuer(string? Kind = null, string? Parent = null, string? Name = null, string? Symbol = null);

/// <summary>The signature block: its title lines ("TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH") and the name.</summary>
public sealed record ReportSigner(IReadOnlyList<string>? Title = null, string? Name = null);

/// <summary>An issued report as the list shows it.</summary>
/// <param name="Position">The event position its figures were computed at: every event up to it, none after.</param>
/// <param name="ContentHash">SHA-256 (hex) of the issued JSON document, byte for byte.</param>
public sealed record IssuedReportSummary(
    Guid ReportId,
    string Kind,
    string? UnitId,
    DateOnly From,
    DateOnly To,
    string Number,
    long Position,
    DateTimeOffset IssuedAt,
    string IssuedBy,
    string ContentHash);

public sealed record IssuedReportList(IReadOnlyList<IssuedReportSummary> Reports);

/// <summary>What changed since a report was issued: the lines whose figures differ now, and the activities that make the difference.</summary>
public sealed record ReportChanges(
    Guid ReportId,
    long IssuedPosition,
    long Position,
    IReadOnlyList<ReportLineChange> Lines,
    IReadOnlyList<ReportActivityChange> Activities);

/// <summary>A line as issued and as it reads now (null when the line is not in that report).</summary>
public sealed record ReportLineChange(string Section, string Line, ReviewReportLine? Issued, ReviewReportLine? Now);

/// <summary>
/// An activity recorded, corrected or retracted after the issue that touches the report's unit subtree and period.
/// <paramref name="Change"/>: "recorded" (recorded late), "corrected", "retracted" (the last of its events since the issue).
/// </summary>
public sealed record ReportActivityChange(
    Guid ActivityId,
    string Kind,
    string Change,
    string? UnitIdBefore,
    string? UnitIdNow,
    DateOnly? OccurredOnBefore,
    DateOnly? OccurredOnNow,
    IReadOnlyDictionary<string, decimal> MetricsBefore,
    IReadOnlyDictionary<string, decimal> MetricsNow,
    IReadOnlyList<ReportActivityEvent> Events);

public sealed record ReportActivityEvent(long Position, string Type, DateTimeOffset RecordedAt);
