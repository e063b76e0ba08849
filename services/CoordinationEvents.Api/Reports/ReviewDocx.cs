using CoordinationEvents.Contracts.V1;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Wordprocessing;

namespace CoordinationEvents.Api.Reports;

/// <summary>
/// The review report as a Word document in the form officials sign (reports.md): Decree 30/2020/NĐ-CP,
/// Appendix I for a state body, Hướng dẫn 36-HD/VPTW for a Party committee. A pure function of the report
/// and its heading. Where the texts leave a choice, 003's: A4; margins top and bottom 20 mm, left 30 mm,
/// right 15 mm; Times New Roman, body 14 pt, national title 12 pt, motto 14 pt; page numbers centred in the top
/// margin from page 2. The officials' own assessment has marked, highlighted places ("[Đánh giá chung]").
/// </summary>
public static class ReviewDocx
{
    public const string MediaType = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

    // Twentieths of a point: 1 mm = 56.6929 twips.
    public const int PageWidth = 11906, PageHeight = 16838; // A4, 210 × 297 mm
    public const int MarginTop = 1134, MarginBottom = 1134, MarginLeft = 1701, MarginRight = 851; // 20, 20, 30, 15 mm
    public const string Font = "Times New Roman";
    // Half-points.
    public const int BodySize = 28, NationalTitleSize = 24, MottoSize = 28, IssuerSize = 26, PartyTitleSize = 30, RecipientsSize = 22;

    const int TextWidth = PageWidth - MarginLeft - MarginRight;
    const int LeftColumn = 4000;
    const int RightColumn = TextWidth - LeftColumn;

    public static byte[] Render(ReviewReportDocument report, ReportHeading heading)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(heading);
        using var stream = new MemoryStream();
        using (var doc = WordprocessingDocument.Create(stream, WordprocessingDocumentType.Document))
        {
            doc.PackageProperties.Title = $"Báo cáo sơ kết thực hiện quy chế phối hợp {ReviewReport.Period(report.From, report.To)} - {heading.Area}";
            doc.PackageProperties.Creator = heading.Issuer;
            doc.PackageProperties.Language = "vi-VN";
            var main = doc.AddMainDocumentPart();
            AddStyles(main);
            var firstHeader = main.AddNewPart<HeaderPart>();
            firstHeader.Header = new Header(new Paragraph());
            var header = main.AddNewPart<HeaderPart>();
            header.Header = new Header(new Paragraph(
                new ParagraphProperties(new SpacingBetweenLines { After = "0" }, new Justification { Val = JustificationValues.Center }),
                new SimpleField(new Run(new Text("2"))) { Instruction = " PAGE " }));

            var body = new Body();
            body.Append(HeadingTable(heading));
            body.Append(Para("", center: true));
            body.Append(Para("BÁO CÁO", bold: true, center: true, after: 0));
            var subject = $"Sơ kết thực hiện quy chế phối hợp {ReviewReport.Period(report.From, report.To)}";
            body.Append(Para(subject, bold: true, center: true, after: 0));
            body.Append(Para($"trên địa bàn {heading.Area}", bold: true, center: true, after: 60));
            body.Append(Rule(indent: 3200));
            body.Append(Para("", center: true, after: 0));

            body.Append(Para("[Căn cứ, mục đích báo cáo]", marked: true, indent: true));
            body.Append(Para("I. KẾT QUẢ THỰC HIỆN", bold: true, indent: true));
            var number = 0;
            foreach (var section in report.Sections)
            {
                body.Append(Para(report.IsEmpty ? section.Title : $"{++number}. {section.Title}", bold: true, indent: true));
                foreach (var line in section.Lines)
                    body.Append(Para($"- {line.Text}.", indent: true));
            }
            body.Append(Para("II. ĐÁNH GIÁ CHUNG", bold: true, indent: true));
            body.Append(Para("[Đánh giá chung]", marked: true, indent: true));
            body.Append(Para("III. PHƯƠNG HƯỚNG, NHIỆM VỤ THỜI GIAN TỚI", bold: true, indent: true));
            body.Append(Para("[Phương hướng, nhiệm vụ]", marked: true, indent: true));
            body.Append(Para("IV. KIẾN NGHỊ, ĐỀ XUẤT", bold: true, indent: true));
            body.Append(Para("[Kiến nghị, đề xuất]", marked: true, indent: true));
            body.Append(Para($"Trên đây là báo cáo sơ kết thực hiện quy chế phối hợp {ReviewReport.Period(report.From, report.To)} trên địa bàn {heading.Area}./.", indent: true));
            body.Append(SignatureTable(heading));

            body.Append(new SectionProperties(
                new HeaderReference { Type = HeaderFooterValues.Default, Id = main.GetIdOfPart(header) },
                new HeaderReference { Type = HeaderFooterValues.First, Id = main.GetIdOfPart(firstHeader) },
                new PageSize { Width = (UInt32Value)(uint)PageWidth, Height = (UInt32Value)(uint)PageHeight },
                new PageMargin
                {
                    Top = MarginTop, Bottom = MarginBottom, Left = (UInt32Value)(uint)MarginLeft, Right = (UInt32Value)(uint)MarginRight,
                    Header = 567U, Footer = 567U, Gutter = 0U,
                },
                new PageNumberType { Start = 1 },
                new TitlePage()));
            main.Document = new Document(body);
        }
        return stream.ToArray();
    }

    static void AddStyles(MainDocumentPart main)
    {
        var styles = main.AddNewPart<StyleDefinitionsPart>();
        styles.Styles = new Styles(
            new DocDefaults(
                new RunPropertiesDefault(new RunPropertiesBaseStyle(
                    new RunFonts { Ascii = Font, HighAnsi = Font, ComplexScript = Font, EastAsia = Font },
                    new FontSize { Val = BodySize.ToString() },
                    new FontSizeComplexScript { Val = BodySize.ToString() },
                    new Languages { Val = "vi-VN" })),
                new ParagraphPropertiesDefault(new ParagraphPropertiesBaseStyle(
                    new SpacingBetweenLines { After = "120", Line = "264", LineRule = LineSpacingRuleValues.Auto }))),
            new Style(
                new StyleName { Val = "Normal" },
                new PrimaryStyle(),
                new StyleRunProperties(
                    new RunFonts { Ascii = Font, HighAnsi = Font, ComplexScript = Font, EastAsia = Font },
                    new Color { Val = "000000" },
                    new FontSize { Val = BodySize.ToString() },
                    new FontSizeComplexScript { Val = BodySize.ToString() }))
            { Type = StyleValues.Paragraph, StyleId = "Normal", Default = true });
    }

    static Paragraph Para(string text, bool bold = false, bool italic = false, bool center = false, bool indent = false,
        bool marked = false, bool underline = false, int? size = null, int? after = null)
    {
        var pPr = new ParagraphProperties();
        if (after is not null) pPr.Append(new SpacingBetweenLines { After = after.Value.ToString(), Line = "264", LineRule = LineSpacingRuleValues.Auto });
        if (indent) pPr.Append(new Indentation { FirstLine = "567" });
        pPr.Append(new Justification { Val = center ? JustificationValues.Center : JustificationValues.Both });
        var paragraph = new Paragraph(pPr);
        if (text.Length == 0) return paragraph;
        var rPr = new RunProperties();
        if (bold) rPr.Append(new Bold());
        if (italic || marked) rPr.Append(new Italic());
        if (marked) rPr.Append(new Highlight { Val = HighlightColorValues.Yellow });
        if (size is not null) rPr.Append(new FontSize { Val = size.Value.ToString() }, new FontSizeComplexScript { Val = size.Value.ToString() });
        if (underline) rPr.Append(new Underline { Val = UnderlineValues.Single });
        paragraph.Append(new Run(rPr, new Text(text) { Space = SpaceProcessingModeValues.Preserve }));
        return paragraph;
    }

    /// <summary>A short solid rule, centred: an empty paragraph of 3 pt with a bottom border, indented from both sides.</summary>
    static Paragraph Rule(int indent) => new(new ParagraphProperties(
        new ParagraphBorders(new BottomBorder { Val = BorderValues.Single, Size = 6U, Space = 1U, Color = "000000" }),
        new SpacingBetweenLines { Before = "0", After = "0", Line = "60", LineRule = LineSpacingRuleValues.Exact },
        new Indentation { Left = indent.ToString(), Right = indent.ToString() },
        new Justification { Val = JustificationValues.Center }));

    static Table Borderless(params int[] widths)
    {
        var none = () => new TableBorders(
            new TopBorder { Val = BorderValues.None }, new LeftBorder { Val = BorderValues.None },
            new BottomBorder { Val = BorderValues.None }, new RightBorder { Val = BorderValues.None },
            new InsideHorizontalBorder { Val = BorderValues.None }, new InsideVerticalBorder { Val = BorderValues.None });
        return new Table(
            new TableProperties(
                new TableWidth { Width = widths.Sum().ToString(), Type = TableWidthUnitValues.Dxa },
                none(),
                new TableLayout { Type = TableLayoutValues.Fixed },
                new TableCellMarginDefault(
                    new TopMargin { Width = "0", Type = TableWidthUnitValues.Dxa },
                    new TableCellLeftMargin { Width = 0, Type = TableWidthValues.Dxa },
                    new BottomMargin { Width = "0", Type = TableWidthUnitValues.Dxa },
                    new TableCellRightMargin { Width = 0, Type = TableWidthValues.Dxa })),
            new TableGrid(widths.Select(w => new GridColumn { Width = w.ToString() })));
    }

    static TableCell Cell(int width, IEnumerable<Paragraph> paragraphs)
    {
        var cell = new TableCell(new TableCellProperties(new TableCellWidth { Width = width.ToString(), Type = TableWidthUnitValues.Dxa }));
        var any = false;
        foreach (var p in paragraphs) { cell.Append(p); any = true; }
        if (!any) cell.Append(new Paragraph());
        return cell;
    }

    static Table HeadingTable(ReportHeading h)
    {
        var left = new List<Paragraph>();
        if (h.IssuerParent.Length > 0) left.Add(Para(h.IssuerParent, center: true, size: IssuerSize, after: 0));
        var issuer = Para(h.Issuer, bold: true, center: true, size: IssuerSize, after: 0);
        if (h.IsParty)
        {
            left.Add(issuer);
            left.Add(Para("*", center: true, size: IssuerSize, after: 0));
        }
        else
        {
            left.Add(issuer);
            left.Add(Rule(1300));
        }
        left.Add(Para(h.NumberLine, center: true, size: IssuerSize, after: 0));

        var right = new List<Paragraph>();
        if (h.IsParty)
        {
            right.Add(Para("ĐẢNG CỘNG SẢN VIỆT NAM", bold: true, underline: true, center: true, size: PartyTitleSize, after: 240));
        }
        else
        {
            right.Add(Para("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold: true, center: true, size: NationalTitleSize, after: 0));
            right.Add(Para("Độc lập - Tự do - Hạnh phúc", bold: true, center: true, size: MottoSize, after: 0));
            right.Add(Rule(850));
            right.Add(Para("", center: true, after: 0));
        }
        right.Add(Para(h.PlaceAndDate, italic: true, center: true, after: 0));

        var table = Borderless(LeftColumn, RightColumn);
        table.Append(new TableRow(Cell(LeftColumn, left), Cell(RightColumn, right)));
        return table;
    }

    static Table SignatureTable(ReportHeading h)
    {
        var left = new List<Paragraph> { Para("Nơi nhận:", bold: true, italic: true, size: 24, after: 0) };
        left.AddRange(h.Recipients.Select(r => Para($"- {r}", size: RecipientsSize, after: 0)));
        var right = h.Signer.Select(line => Para(line, bold: true, center: true, after: 0)).ToList();
        for (var i = 0; i < 4; i++) right.Add(Para("", center: true, after: 0));
        right.Add(h.SignerName.Length > 0 ? Para(h.SignerName, bold: true, center: true, after: 0) : Para("[Họ và tên]", marked: true, center: true, after: 0));

        var table = Borderless(LeftColumn, RightColumn);
        table.Append(new TableRow(Cell(LeftColumn, left), Cell(RightColumn, right)));
        return table;
    }
}
