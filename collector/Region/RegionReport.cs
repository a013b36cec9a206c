using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using NewTechPark.Edge.Collector.Storage.Rollups;

namespace NewTechPark.Edge.Collector.Region;

/// <summary>One region yearly report: per site the year's figures and the region's total.</summary>
public sealed record RegionYear(int Year, string TimeZone, IReadOnlyList<string> Sites, IReadOnlyList<RegionRow> Rows, int SkippedSeries);

/// <summary>One row: a figure per site (null when the site sent none) and the sum of the sites.</summary>
public sealed record RegionRow(string Key, string Nl, string En, IReadOnlyDictionary<string, double?> PerSite)
{
    public double Total => PerSite.Values.Sum(v => v ?? 0);
}

/// <summary>
/// The region yearly report from the region's VictoriaMetrics (single node, or vmselect's
/// <c>/select/&lt;accountID&gt;/prometheus</c>): it reads the daily figures every site's region feed
/// sent (<c>region_visitors_day_*</c>, <c>region_energy_day_wh</c>) through <c>/api/v1/export</c>
/// (the raw samples, no step or look-back to blur a local day) and adds them up per site and for
/// the region. Visits and energy are sums of days. A site's unique and returning visitors of the
/// year are its own count (<c>unique_year</c> of its last day), because a person who comes twice
/// is one visitor at the site; the region's are the sum of the sites' counts, because pseudonyms
/// never leave their site: a person who visits two sites counts twice.
/// </summary>
public static partial class RegionReport
{
    /// <summary>Series read at most (a region of 1,000 sites sends about 15 daily series each).</summary>
    public const int MaxSeries = 100_000;

    /// <summary>Longest export line taken (one series' year of days is a few kB).</summary>
    public const int MaxLineChars = 4 << 20;

    public const string Selector = "{__name__=~\"region_visitors_day_(visits|unique_year|returning_year)|region_energy_day_wh\"}";

    private static readonly (string Key, string Nl, string En)[] YearRows =
    [
        ("visits", "Bezoeken", "Visits"),
        ("unique", "Unieke bezoekers (som van de locaties)", "Unique visitors (sum of the sites)"),
        ("returning", "Terugkerende bezoekers (som van de locaties)", "Returning visitors (sum of the sites)"),
        ("use_kwh", "Energieverbruik (kWh)", "Energy use (kWh)"),
        ("solar_kwh", "Zonne-energie (kWh)", "Solar energy (kWh)"),
        ("grid_import_kwh", "Afname van het net (kWh)", "Grid import (kWh)"),
        ("grid_export_kwh", "Teruglevering aan het net (kWh)", "Grid export (kWh)"),
    ];

    private static readonly string[] MonthsNl = ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december"];

    /// <summary>The export address for a base address (VictoriaMetrics, or vmselect's <c>.../select/0/prometheus</c>); null when it is no http(s) address.</summary>
    public static Uri? ExportUri(string baseUrl, long fromMs, long toMs)
    {
        if (!Uri.TryCreate(baseUrl, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps) || !string.IsNullOrEmpty(url.Query))
        {
            return null;
        }

        var path = url.AbsolutePath.TrimEnd('/');
        var query = $"match[]={Uri.EscapeDataString(Selector)}&start={fromMs / 1000}&end={toMs / 1000}";
        return new UriBuilder(url) { Path = path + "/api/v1/export", Query = query }.Uri;
    }

    /// <summary>Reads the year from VictoriaMetrics and adds it up.</summary>
    public static async Task<RegionYear> ReadAsync(HttpClient http, string baseUrl, int year, TimeZoneInfo zone, CancellationToken cancellationToken)
    {
        var buckets = new TimeBuckets(zone);
        var from = buckets.DayStart(new DateOnly(year, 1, 1));
        var to = buckets.DayStart(new DateOnly(year + 1, 1, 1));
        var uri = ExportUri(baseUrl, from, to - 1) ?? throw new ArgumentException($"--url '{baseUrl}' must be an http or https address without a query");
        using var response = await http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"{uri.GetLeftPart(UriPartial.Path)} answered {(int)response.StatusCode} {response.ReasonPhrase}");
        }

        using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return Add(await ReadLinesAsync(reader, cancellationToken).ConfigureAwait(false), year, buckets, zone.Id);
    }

    /// <summary>Adds up export lines (one series a line) of <paramref name="year"/>.</summary>
    public static RegionYear Add(IEnumerable<string> lines, int year, TimeBuckets buckets, string timeZone)
    {
        // (site, figure) -> day start -> value; a sample sent twice (a retried write) is one.
        var days = new Dictionary<(string Site, string Figure), SortedDictionary<long, double>>();
        var skipped = 0;
        var series = 0;
        foreach (var line in lines)
        {
            if (++series > MaxSeries)
            {
                throw new InvalidDataException($"the export holds more than {MaxSeries} series; is the selector right?");
            }

            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            if (!root.TryGetProperty("metric", out var metric) || !metric.TryGetProperty("__name__", out var nameElement)
                || !metric.TryGetProperty("site", out var siteElement) || siteElement.GetString() is not { } site || !Slug().IsMatch(site)
                || Figure(nameElement.GetString(), metric) is not { } figure
                || !root.TryGetProperty("values", out var values) || !root.TryGetProperty("timestamps", out var timestamps)
                || values.GetArrayLength() != timestamps.GetArrayLength())
            {
                skipped++;
                continue;
            }

            var target = days.TryGetValue((site, figure), out var d) ? d : days[(site, figure)] = [];
            for (var i = 0; i < values.GetArrayLength(); i++)
            {
                var ts = timestamps[i].GetInt64();
                var value = values[i].GetDouble();
                if (double.IsFinite(value) && buckets.LocalDay(ts).Year == year)
                {
                    target[buckets.Floor(Resolution.Day, ts)] = value;
                }
            }
        }

        var sites = days.Keys.Select(k => k.Site).Distinct().Order(StringComparer.Ordinal).ToList();
        double? Sum(string site, string figure, Func<long, bool>? when = null) =>
            days.TryGetValue((site, figure), out var d) ? d.Where(p => when?.Invoke(p.Key) ?? true).Sum(p => p.Value) : null;
        double? Last(string site, string figure) => days.TryGetValue((site, figure), out var d) && d.Count > 0 ? d.Last().Value : null;
        double? Kwh(double? wh) => wh is { } v ? Math.Round(v / 1000, 3) : null;

        var rows = new List<RegionRow>();
        foreach (var (key, nl, en) in YearRows)
        {
            rows.Add(new RegionRow(key, nl, en, sites.ToDictionary(s => s, s => key switch
            {
                "visits" => Sum(s, "visits"),
                "unique" => Last(s, "unique_year"),
                "returning" => Last(s, "returning_year"),
                _ => Kwh(Sum(s, "energy:" + key[..^4])),
            }, StringComparer.Ordinal)));
        }

        for (var month = 1; month <= 12; month++)
        {
            var m = month;
            bool InMonth(long dayStart) => buckets.LocalDay(dayStart).Month == m;
            rows.Add(new RegionRow($"visits_{year}_{month:00}", $"Bezoeken {MonthsNl[month - 1]}", $"Visits {CultureInfo.InvariantCulture.DateTimeFormat.GetMonthName(month)}",
                sites.ToDictionary(s => s, s => Sum(s, "visits", InMonth), StringComparer.Ordinal)));
        }

        for (var month = 1; month <= 12; month++)
        {
            var m = month;
            bool InMonth(long dayStart) => buckets.LocalDay(dayStart).Month == m;
            rows.Add(new RegionRow($"use_kwh_{year}_{month:00}", $"Energieverbruik {MonthsNl[month - 1]} (kWh)", $"Energy use {CultureInfo.InvariantCulture.DateTimeFormat.GetMonthName(month)} (kWh)",
                sites.ToDictionary(s => s, s => Kwh(Sum(s, "energy:use", InMonth)), StringComparer.Ordinal)));
        }

        return new RegionYear(year, timeZone, sites, rows, skipped);
    }

    /// <summary>The CSV: a row per figure, a column per site and the total (nl: ';' and decimal comma; en: ',' and '.').</summary>
    public static string Csv(RegionYear report, bool dutch)
    {
        var culture = dutch ? CultureInfo.GetCultureInfo("nl-NL") : CultureInfo.InvariantCulture;
        var separator = dutch ? ";" : ",";
        var text = new StringBuilder();
        text.AppendJoin(separator, ["figure", dutch ? "omschrijving" : "description", .. report.Sites, dutch ? "totaal" : "total"]).Append("\r\n");
        foreach (var row in report.Rows)
        {
            text.AppendJoin(separator, [row.Key, Quote(dutch ? row.Nl : row.En, separator), .. report.Sites.Select(s => Number(row.PerSite[s], culture)), Number(row.Total, culture)]).Append("\r\n");
        }

        return text.ToString();
    }

    /// <summary>The HTML page, Dutch first and English second, with the note on unique visitors.</summary>
    public static string Html(RegionYear report)
    {
        var nl = CultureInfo.GetCultureInfo("nl-NL");
        static string E(string s) => WebUtility.HtmlEncode(s);
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"nl\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append(CultureInfo.InvariantCulture, $"<title>Regiojaarverslag {report.Year} / Region yearly report {report.Year}</title>\n")
            .Append("<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}td:first-child,th:first-child{text-align:left}.en{color:#555}</style>\n</head>\n<body>\n")
            .Append(CultureInfo.InvariantCulture, $"<h1>Regiojaarverslag {report.Year}</h1>\n<p class=\"en\">Region yearly report {report.Year}</p>\n")
            .Append(CultureInfo.InvariantCulture, $"<p>{report.Sites.Count} locaties; dagen in tijdzone {E(report.TimeZone)}.</p>\n")
            .Append("<p><strong>Let op:</strong> de unieke en terugkerende bezoekers van de regio zijn de som van die van de locaties. Pseudoniemen verlaten hun locatie nooit, "
                + "dus iemand die twee locaties bezoekt telt twee keer.</p>\n")
            .Append("<p class=\"en\"><strong>Note:</strong> the region's unique and returning visitors are the sum of the sites' counts. Pseudonyms never leave their site, "
                + "so a person who visits two sites counts twice.</p>\n")
            .Append("<table>\n<thead><tr><th>Cijfer / Figure</th>");
        foreach (var site in report.Sites)
        {
            html.Append(CultureInfo.InvariantCulture, $"<th>{E(site)}</th>");
        }

        html.Append("<th>Totaal / Total</th></tr></thead>\n<tbody>\n");
        foreach (var row in report.Rows)
        {
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{E(row.Nl)}<br><span class=\"en\">{E(row.En)}</span></td>");
            foreach (var site in report.Sites)
            {
                html.Append(CultureInfo.InvariantCulture, $"<td>{E(Number(row.PerSite[site], nl))}</td>");
            }

            html.Append(CultureInfo.InvariantCulture, $"<td>{E(Number(row.Total, nl))}</td></tr>\n");
        }

        html.Append("</tbody>\n</table>\n</body>\n</html>\n");
        return html.ToString();
    }

    private static async Task<List<string>> ReadLinesAsync(StreamReader reader, CancellationToken cancellationToken)
    {
        var lines = new List<string>();
        var buffer = new StringBuilder();
        var chunk = new char[16 * 1024];
        int read;
        while ((read = await reader.ReadAsync(chunk.AsMemory(), cancellationToken).ConfigureAwait(false)) > 0)
        {
            for (var i = 0; i < read; i++)
            {
                if (chunk[i] == '\n')
                {
                    if (buffer.Length > 0)
                    {
                        lines.Add(buffer.ToString());
                    }

                    buffer.Clear();
                }
                else if (buffer.Length >= MaxLineChars)
                {
                    throw new InvalidDataException($"an export line is longer than {MaxLineChars} characters");
                }
                else
                {
                    buffer.Append(chunk[i]);
                }
            }

            if (lines.Count > MaxSeries)
            {
                throw new InvalidDataException($"the export holds more than {MaxSeries} series; is the selector right?");
            }
        }

        if (buffer.Length > 0)
        {
            lines.Add(buffer.ToString());
        }

        return lines;
    }

    private static string? Figure(string? name, JsonElement metric) => name switch
    {
        "region_visitors_day_visits" => "visits",
        "region_visitors_day_unique_year" => "unique_year",
        "region_visitors_day_returning_year" => "returning_year",
        "region_energy_day_wh" when metric.TryGetProperty("role", out var role) && role.GetString() is { } r && Slug().IsMatch(r.Replace('_', '-')) => "energy:" + r,
        _ => null,
    };

    private static string Number(double? value, CultureInfo culture) => value is { } v ? v.ToString(v == Math.Floor(v) ? "0" : "0.###", culture) : string.Empty;

    private static string Quote(string text, string separator) =>
        text.Contains(separator, StringComparison.Ordinal) || text.Contains('"', StringComparison.Ordinal) ? "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : text;

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,62}$")]
    private static partial Regex Slug();
}
