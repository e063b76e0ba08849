using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using CoordinationEvents.Api.Reports;
using CoordinationEvents.Api.Tests.Infrastructure;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Validation;
using DocumentFormat.OpenXml.Wordprocessing;

namespace CoordinationEvents.Api.Tests.Reports;

/// <summary>
/// The review report as a Word document: valid OpenXML (the SDK's validator), the decree's page, margins, font
/// and sizes read from its XML, and read back by a real reader (LibreOffice converts it to PDF, pdftotext reads it).
/// </summary>
public sealed class ReportDocxTests(DemoReportFixture fixture) : IClassFixture<DemoReportFixture>
{
    const string PhongTho = "/api/v1/reports/review?unitId=phong-tho&from=2019-01-01&to=2024-12-31";

    async Task<byte[]> DocxAsync(string url)
    {
        using var analyst = fixture.Api.Analyst;
        var response = await analyst.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(ReviewDocx.MediaType, response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition!.DispositionType);
        Assert.EndsWith(".docx", response.Content.Headers.ContentDisposition.FileName!.Trim('"'));
        return await response.Content.ReadAsByteArrayAsync();
    }

    static void AssertValid(byte[] docx)
    {
        using var doc = WordprocessingDocument.Open(new MemoryStream(docx), false);
        var errors = new OpenXmlValidator().Validate(doc).ToArray();
        Assert.True(errors.Length == 0, string.Join("\n", errors.Select(e => $"{e.Path?.XPath}: {e.Description}")));
    }

    [Fact]
    public async Task The_Word_document_is_valid_OpenXML_in_the_decrees_form()
    {
        var docx = await DocxAsync(PhongTho + "&format=docx&number=125&signer=TM.%20%E1%BB%A6Y%20BAN%20NH%C3%82N%20D%C3%82N&signer=KT.%20CH%E1%BB%A6%20T%E1%BB%8ACH&signer=PH%C3%93%20CH%E1%BB%A6%20T%E1%BB%8ACH&signerName=Mai%20Th%E1%BB%8B%20H%E1%BB%93ng%20Sim");
        AssertValid(docx);
        using var doc = WordprocessingDocument.Open(new MemoryStream(docx), false);
        var body = doc.MainDocumentPart!.Document!.Body!;
        var section = body.Elements<SectionProperties>().Single();

        var size = section.GetFirstChild<PageSize>()!;
        Assert.Equal((11906u, 16838u), (size.Width!.Value, size.Height!.Value)); // A4 in twips
        var margin = section.GetFirstChild<PageMargin>()!;
        static double Mm(double twips) => twips / 1440 * 25.4;
        Assert.InRange(Mm(margin.Top!.Value), 20, 25);
        Assert.InRange(Mm(margin.Bottom!.Value), 20, 25);
        Assert.InRange(Mm(margin.Left!.Value), 30, 35);
        Assert.InRange(Mm(margin.Right!.Value), 15, 20);
        Assert.NotNull(section.GetFirstChild<TitlePage>()); // the first page has its own (empty) header

        // Page numbers: centred in the top margin, from page 2.
        var headers = section.Elements<HeaderReference>().ToDictionary(h => h.Type!.Value, h => (HeaderPart)doc.MainDocumentPart.GetPartById(h.Id!));
        Assert.Contains("PAGE", headers[HeaderFooterValues.Default].Header!.Descendants<SimpleField>().Single().Instruction!.Value);
        Assert.Equal(JustificationValues.Center, headers[HeaderFooterValues.Default].Header!.Descendants<Justification>().First().Val!.Value);
        Assert.Empty(headers[HeaderFooterValues.First].Header!.Descendants<SimpleField>());

        // Times New Roman, body 14 pt.
        var defaults = doc.MainDocumentPart.StyleDefinitionsPart!.Styles!.DocDefaults!.RunPropertiesDefault!.RunPropertiesBaseStyle!;
        Assert.Equal("Times New Roman", defaults.RunFonts!.Ascii!.Value);
        Assert.Equal("Times New Roman", defaults.RunFonts.HighAnsi!.Value);
        Assert.InRange(int.Parse(defaults.FontSize!.Val!.Value!) / 2.0, 13, 14);
        Assert.DoesNotContain(body.Descendants<RunFonts>(), f => f.Ascii?.Value is { } font && font != "Times New Roman");

        Run RunOf(string text) => body.Descendants<Run>().Single(r => r.InnerText == text);
        double Points(Run run) => run.RunProperties?.FontSize?.Val is { } v ? int.Parse(v.Value!) / 2.0 : 14;
        var title = RunOf("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM");
        Assert.InRange(Points(title), 12, 13);
        Assert.NotNull(title.RunProperties!.Bold);
        var motto = RunOf("Độc lập - Tự do - Hạnh phúc");
        Assert.InRange(Points(motto), 13, 14);
        Assert.NotNull(motto.RunProperties!.Bold);
        Assert.NotNull(((Paragraph)motto.Parent!).NextSibling<Paragraph>()!.ParagraphProperties!.ParagraphBorders!.BottomBorder); // the rule under the motto
        var date = body.Descendants<Run>().Single(r => r.InnerText.StartsWith("Phong Thổ, ngày ", StringComparison.Ordinal));
        Assert.Matches(@"^Phong Thổ, ngày \d{2} tháng \d{1,2} năm \d{4}$", date.InnerText);
        Assert.NotNull(date.RunProperties!.Italic);
        var report = RunOf("BÁO CÁO");
        Assert.NotNull(report.RunProperties!.Bold);
        Assert.Equal(JustificationValues.Center, ((Paragraph)report.Parent!).ParagraphProperties!.Justification!.Val!.Value);
        Assert.NotNull(RunOf("ỦY BAN NHÂN DÂN HUYỆN PHONG THỔ").RunProperties!.Bold);
        RunOf("Số: 125/BC-UBND");
        RunOf("[Đánh giá chung]");
        RunOf("Nơi nhận:");
        RunOf("Mai Thị Hồng Sim");
        foreach (var run in body.Descendants<Run>().Where(r => r.RunProperties?.FontSize is not null))
            Assert.InRange(Points(run), 11, 15);
    }

    [Fact]
    public async Task The_Accept_header_asks_for_Word_too_and_a_Party_committee_gets_the_Partys_form()
    {
        using var analyst = fixture.Api.Analyst;
        var request = new HttpRequestMessage(HttpMethod.Get, PhongTho + "&issuerKind=party");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(ReviewDocx.MediaType));
        var response = await analyst.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(ReviewDocx.MediaType, response.Content.Headers.ContentType!.MediaType);
        var docx = await response.Content.ReadAsByteArrayAsync();
        AssertValid(docx);
        using var doc = WordprocessingDocument.Open(new MemoryStream(docx), false);
        var body = doc.MainDocumentPart!.Document!.Body!;
        var party = body.Descendants<Run>().Single(r => r.InnerText == "ĐẢNG CỘNG SẢN VIỆT NAM");
        Assert.Equal(UnderlineValues.Single, party.RunProperties!.Underline!.Val!.Value);
        Assert.DoesNotContain(body.Descendants<Run>(), r => r.InnerText == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM");
        Assert.Contains(body.Descendants<Run>(), r => r.InnerText == "HUYỆN ỦY PHONG THỔ");
        Assert.Contains(body.Descendants<Run>(), r => r.InnerText == "ĐẢNG BỘ TỈNH LAI CHÂU");
    }

    [Fact]
    public async Task LibreOffice_reads_the_document_and_finds_the_003_figures()
    {
        var docx = await DocxAsync(PhongTho + "&format=docx");
        var text = Normalize(await ToPdfTextAsync(docx, "phong-tho-2019-2024"));
        Assert.Contains("Tổ chức tuần tra 1.236 lần/7.920 lượt người tham gia", text);
        Assert.Contains("Phát hiện 156 vụ/780 đối tượng", text);
        Assert.Contains("Tổ chức tuyên truyền được 1.244 buổi/69.750 lượt người nghe", text);
        Assert.Contains("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", text);
        Assert.Contains("Độc lập - Tự do - Hạnh phúc", text);
        Assert.Contains("BÁO CÁO", text);
        Assert.Contains("Nơi nhận:", text);
        Assert.Contains("[Đánh giá chung]", text);
    }

    [Fact]
    public async Task Bad_requests_for_the_document_are_400_and_the_key_is_checked()
    {
        using var analyst = fixture.Api.Analyst;
        await (await analyst.GetAsync(PhongTho + "&format=pdf")).AssertProblemAsync(400, "format");
        await (await analyst.GetAsync(PhongTho + "&format=docx&issuerKind=church")).AssertProblemAsync(400, "issuerKind");
        await (await analyst.GetAsync(PhongTho + "&format=docx&number=" + new string('9', 300))).AssertProblemAsync(400, "number");
        using var anonymous = fixture.Api.Client(null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(PhongTho + "&format=docx")).StatusCode);
        using var reporter = fixture.Api.Reporter;
        Assert.Equal(HttpStatusCode.Forbidden, (await reporter.GetAsync(PhongTho + "&format=docx")).StatusCode);
    }

    static string Normalize(string text) => Regex.Replace(text.Normalize(NormalizationForm.FormC), @"\s+", " ");

    /// <summary>Converts the document with LibreOffice headless and reads the PDF's text with pdftotext; keeps both under TestResults/reports.</summary>
    public static async Task<string> ToPdfTextAsync(byte[] docx, string name)
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "TestResults", "reports");
        Directory.CreateDirectory(dir);
        var file = Path.Combine(dir, name + ".docx");
        await File.WriteAllBytesAsync(file, docx);
        var profile = Path.Combine(Path.GetTempPath(), "ce-lo-profile-" + Guid.NewGuid().ToString("N"));
        try
        {
            await RunAsync("soffice", "-env:UserInstallation=file://" + profile, "--headless", "--convert-to", "pdf", "--outdir", dir, file);
        }
        finally
        {
            try { Directory.Delete(profile, recursive: true); } catch (IOException) { }
        }
        var pdf = Path.ChangeExtension(file, ".pdf");
        Assert.True(File.Exists(pdf), $"LibreOffice did not write {pdf}");
        var info = await RunAsync("pdfinfo", pdf);
        Assert.Contains("595.", info); // A4: 595.3 × 841.9 pt
        return await RunAsync("pdftotext", "-enc", "UTF-8", pdf, "-");
    }

    static async Task<string> RunAsync(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start (deploy/install-libreoffice.sh installs it)");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"{program} failed ({process.ExitCode}): {await error}");
        return await output;
    }
}
