using System.Globalization;
using System.Text;
using NewTechPark.Edge.Collector.Energy;
using NewTechPark.Edge.Collector.Occupancy;
using NewTechPark.Edge.Collector.Reports;
using NewTechPark.Edge.Collector.Visitors;

namespace NewTechPark.Edge.Collector.Tests.Reports;

/// <summary>The CSV as Excel reads it: parsed from the bytes, with a small RFC 4180 reader.</summary>
public sealed class ReportCsvTests
{
    private static readonly DateTimeOffset Jan1 = new(2026, 1, 1, 0, 0, 0, TimeSpan.FromHours(1));

    public static AnnualReport Crafted()
    {
        var rows = new List<AnnualRow>
        {
            new AnnualRow("unique-visitors", "Unieke bezoekers events/activiteiten", "Unique visitors", 16234, "16.234", "people", "badges; plus \"groups\"")
                { Target = 17000, VsTarget = -766, VsTargetPct = -4.5, Previous = 15000, PreviousDisplay = "15.000", VsPrevious = 1234, VsPreviousPct = 8.2 },
            new AnnualRow("rooms-in-use", "Ruimtes in gebruik/Labs", "Rooms in use", 66.7, "66,7", "%", "rooms, occupied")
                { Target = 90, VsTarget = -23.3, VsTargetPct = -25.9 },
            new AnnualRow("returning-visitors", "Terugkerende bezoekers", "Returning visitors", null, "< 5", "people", "badges"),
            new AnnualRow("energy-used", "Energieverbruik", "Energy used", null, AnnualReportService.NoFigure, "kWh", "meters"),
        };
        var rooms = new RoomUseSummary(Jan1, Jan1.AddYears(1), 2, 1, 50, 1, 1, 0.1,
        [
            new RoomUse("lab", "=HYPERLINK(\"http://evil\")", "lab", 0.4567, 100, 250, true, 1234),
            new RoomUse("hal", "Hal; groot", "hall", 0.1, 10, 250, false, 56789),
        ]);
        var energy = new EnergyBucket(Jan1, Jan1.AddYears(1), "total", 8760, 0, 0, 0, 0, 0, 0, 0, 0);
        return new AnnualReport(2026, "newtechpark", "NewTechPark", Jan1, Jan1.AddYears(1), Jan1, rows,
            [new ProgrammeRow("+Robotica", "VO", 2, 44)],
            [new MonthRow("2026-01", 1234, new ShownCount(321, "321"), new ShownCount(null, "< 5"), 56, 2, 12345.6, 789.1)],
            rooms, energy) { PreviousPeriod = "2025" };
    }

    [Fact]
    public void Dutch_excel_gets_a_bom_semicolons_decimal_commas_and_plain_numbers()
    {
        var bytes = ReportCsv.Bytes(Crafted(), CsvDialect.DutchExcel);
        Assert.Equal(Encoding.UTF8.GetPreamble(), bytes[..3]);
        var sections = Sections(Encoding.UTF8.GetString(bytes[3..]), ';');
        Assert.Equal(4, sections.Count); // rows, months, rooms, programmes

        var rows = sections[0];
        Assert.Equal(["sleutel", "label_nl", "label_en", "waarde", "eenheid", "doel", "verschil_doel", "verschil_doel_pct", "vorige_periode_2025", "verschil_vorige", "verschil_vorige_pct", "bron"], rows[0]);
        var unique = rows.Single(r => r[0] == "unique-visitors");
        Assert.Equal(["16234", "personen", "17000", "-766", "-4,5", "15000", "1234", "8,2"], unique[3..11]);
        Assert.Equal("badges; plus \"groups\"", unique[11]); // quoted, and read back whole
        var rate = rows.Single(r => r[0] == "rooms-in-use");
        Assert.Equal("66,7", rate[3]);
        Assert.Equal(66.7, double.Parse(rate[3], CultureInfo.GetCultureInfo("nl-NL")));
        Assert.Equal("< 5", rows.Single(r => r[0] == "returning-visitors")[3]); // privacy: text, as shown
        Assert.Equal("", rows.Single(r => r[0] == "energy-used")[3]);            // no data: empty, never 0
        Assert.Equal("", rows.Single(r => r[0] == "energy-used")[5]);

        var month = sections[1][1];
        Assert.Equal(["2026-01", "1234", "321", "< 5", "56", "2", "12345,6", "789,1"], month);
        var rooms = sections[2];
        Assert.Equal("'=HYPERLINK(\"http://evil\")", rooms[1][1]); // a formula becomes text
        Assert.Equal("45,7", rooms[1][3]);
        Assert.Equal("Hal; groot", rooms[2][1]);
        Assert.Equal("56789", rooms[2][6]);
        Assert.Equal(["'+Robotica", "VO", "2", "44"], sections[3][1]);

        // Numbers carry no thousands separators or units: every number cell parses as a Dutch number.
        Assert.All(unique[3..11].Where((_, i) => i != 1), cell => Assert.True(double.TryParse(cell, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.GetCultureInfo("nl-NL"), out _), cell));
    }

    [Fact]
    public void The_international_dialect_keeps_commas_and_decimal_points()
    {
        var text = ReportCsv.Text(Crafted(), CsvDialect.International);
        var sections = Sections(text, ',');
        Assert.Equal("key", sections[0][0][0]);
        var rate = sections[0].Single(r => r[0] == "rooms-in-use");
        Assert.Equal(["66.7", "%", "90", "-23.3", "-25.9"], rate[3..8]);
        Assert.Equal("rooms, occupied", rate[11]);
        Assert.Equal("12345.6", sections[1][1][6]);
        Assert.Contains("\r\n\r\nmonth,visits", text, StringComparison.Ordinal); // an empty line between sections
    }

    [Theory]
    [InlineData("nl", null, "nl")]
    [InlineData("en", "nl-NL,nl;q=0.9", "en")]
    [InlineData("csv", "nl-NL,nl;q=0.9,en;q=0.8", "nl")]
    [InlineData("csv", "nl", "nl")]
    [InlineData("csv", "en-GB,nl;q=0.5", "en")]
    [InlineData("csv", null, "en")]
    public void The_dialect_follows_the_format_or_else_the_first_language(string format, string? acceptLanguage, string dialect) =>
        Assert.Equal(dialect, ReportCsv.Negotiate(format, acceptLanguage).Name);

    /// <summary>Splits CSV text into sections (at empty lines) of rows of cells, as RFC 4180 reads them.</summary>
    public static List<List<string[]>> Sections(string text, char separator)
    {
        var sections = new List<List<string[]>> { new() };
        var cells = new List<string>();
        var cell = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"') { cell.Append('"'); i++; }
                else if (c == '"') { quoted = false; }
                else { cell.Append(c); }
            }
            else if (c == '"') { quoted = true; }
            else if (c == separator) { cells.Add(cell.ToString()); cell.Clear(); }
            else if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
            {
                i++;
                cells.Add(cell.ToString());
                cell.Clear();
                if (cells is [""]) { sections.Add([]); }
                else { sections[^1].Add([.. cells]); }
                cells.Clear();
            }
            else { Assert.NotEqual('\n', c); cell.Append(c); } // lines end in CRLF only
        }

        Assert.Empty(cell.ToString());
        return sections.Where(s => s.Count > 0).ToList();
    }
}
