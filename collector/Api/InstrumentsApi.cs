using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using NewTechPark.Edge.Collector.Instruments;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Contracts;

namespace NewTechPark.Edge.Collector.Api;

/// <summary>
/// The DC-Lab bench as an instrument: statistics over a window (<c>/series/stats</c>) and the
/// window's raw readings as CSV (<c>/series.csv</c>). Reads: no token.
/// </summary>
public static class InstrumentsApi
{
    /// <summary>The longest window of either endpoint.</summary>
    public const int MaxWindowDays = 31;

    /// <summary>The most rows of one CSV: a day of a bench at 10 Hz is 864,000.</summary>
    public const long MaxCsvRows = 1_000_000;

    /// <summary>How long a gap between raw points may be and still be integrated, unless asked otherwise.</summary>
    public static readonly TimeSpan DefaultMaxGap = TimeSpan.FromSeconds(10);

    public static readonly TimeSpan MinMaxGap = TimeSpan.FromMilliseconds(10);

    public static readonly TimeSpan MaxMaxGap = TimeSpan.FromHours(1);

    public static RouteGroupBuilder MapInstrumentsApi(this RouteGroupBuilder api)
    {
        api.MapGet("/series/stats", GetStatistics)
            .WithName("GetSeriesStatistics")
            .WithSummary($"A bench's min, max and mean per value, energy (Wh) and charge (Ah) over [from, to) (default: the last hour; at most {MaxWindowDays} days and {BenchStatistics.DefaultMaxRawPoints} raw readings per value). Trapezoids over the raw points; gaps longer than max_gap seconds (default 10) are not bridged. source: raw, minute (before the raw cutoff) or minute+raw.");
        api.MapGet("/series.csv", GetCsv)
            .WithName("GetSeriesCsv")
            .WithSummary($"A sensor's raw readings over [from, to) as CSV, one row per reading time: ts_utc, local_time, a column per value. dialect=excel-nl: UTF-8 with BOM, ';' and decimal comma. At most {MaxCsvRows} rows and {MaxWindowDays} days.")
            .Produces(StatusCodes.Status200OK, contentType: "text/csv")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status429TooManyRequests);
        return api;
    }

    private static Results<Ok<BenchStatisticsResult>, ProblemHttpResult> GetStatistics(
        string? sensor, DateTimeOffset? from, DateTimeOffset? to, double? max_gap, SiteModel siteModel, BenchStatistics statistics, TimeProvider clock)
    {
        if (CheckSensor(sensor) is { } badSensor)
        {
            return badSensor;
        }

        if (Window(from, to, clock, out var start, out var end) is { } badWindow)
        {
            return badWindow;
        }

        var maxGap = DefaultMaxGap;
        if (max_gap is { } seconds)
        {
            if (!double.IsFinite(seconds) || seconds < MinMaxGap.TotalSeconds || seconds > MaxMaxGap.TotalSeconds)
            {
                return Problem("max_gap is out of range", $"max_gap is in seconds, between {MinMaxGap.TotalSeconds.ToString(CultureInfo.InvariantCulture)} and {MaxMaxGap.TotalSeconds.ToString(CultureInfo.InvariantCulture)}.");
            }

            maxGap = TimeSpan.FromSeconds(seconds);
        }

        var series = statistics.SeriesOf(siteModel.Site, sensor!);
        if (series.Count > 0)
        {
            var points = statistics.RawPointsIn(series, start, end);
            return points > statistics.MaxRawPoints
                ? Problem("window has too many readings",
                    $"This window holds {points.ToString("N0", CultureInfo.InvariantCulture)} readings per value of {sensor}; statistics integrate at most {statistics.MaxRawPoints.ToString("N0", CultureInfo.InvariantCulture)}. Ask for a shorter window.")
                : TypedResults.Ok(statistics.Compute(sensor!, series, start, end, maxGap));
        }

        return SiteKind(siteModel, sensor!) is { } kind
            ? TypedResults.Ok(statistics.Empty(sensor!, kind, start, end, maxGap))
            : NoSuchSensor(sensor!);
    }

    private static async Task GetCsv(HttpContext context, string? sensor, DateTimeOffset? from, DateTimeOffset? to, string? dialect,
        SiteModel siteModel, SeriesExports exports, TimeProvider clock, ILoggerFactory loggers)
    {
        var refused = CheckSensor(sensor);
        var start = default(DateTimeOffset);
        var end = default(DateTimeOffset);
        refused ??= Window(from, to, clock, out start, out end);
        if (refused is not null)
        {
            await refused.ExecuteAsync(context);
            return;
        }

        CsvDialect csvDialect;
        switch (dialect)
        {
            case null or "" or "standard":
                csvDialect = CsvDialect.Standard;
                break;
            case "excel-nl":
                csvDialect = CsvDialect.ExcelNl;
                break;
            default:
                await Problem("dialect is not valid", "dialect must be standard (',' and '.' decimals, the default) or excel-nl (';' and a decimal comma, UTF-8 with BOM).").ExecuteAsync(context);
                return;
        }

        var series = exports.SeriesOf(siteModel.Site, sensor!);
        if (series.Count == 0 && SiteKind(siteModel, sensor!) is null)
        {
            await NoSuchSensor(sensor!).ExecuteAsync(context);
            return;
        }

        if (!exports.TryEnter())
        {
            context.Response.Headers.RetryAfter = "5";
            await TypedResults.Problem(title: "too many CSV exports at once",
                detail: $"At most {SeriesExports.MaxConcurrent} CSV exports run at a time; try again in 5 s.",
                statusCode: StatusCodes.Status429TooManyRequests).ExecuteAsync(context);
            return;
        }

        try
        {
            var (fromMs, toMs) = (start.ToUnixTimeMilliseconds(), end.ToUnixTimeMilliseconds());
            var rows = exports.RowsAtLeast(series, fromMs, toMs);
            if (rows > exports.MaxRows)
            {
                await Problem("window has too many rows",
                    $"This window holds {rows.ToString("N0", CultureInfo.InvariantCulture)} readings of {sensor}; a CSV has at most {exports.MaxRows.ToString("N0", CultureInfo.InvariantCulture)} rows. Ask for a shorter window.").ExecuteAsync(context);
                return;
            }

            context.Response.ContentType = "text/csv; charset=utf-8";
            var name = $"{sensor!.Replace('/', '_')}-{start.UtcDateTime:yyyyMMdd'T'HHmmss}Z-{end.UtcDateTime:yyyyMMdd'T'HHmmss}Z.csv";
            context.Response.Headers.ContentDisposition = $"attachment; filename=\"{name}\"";
            await using var writer = new StreamWriter(context.Response.Body, new UTF8Encoding(csvDialect == CsvDialect.ExcelNl), 64 * 1024);
            if (series.Count == 0)
            {
                // A bench of the site that has stored nothing yet: the columns it will have, no rows.
                await SeriesCsv.WriteHeaderAsync(writer, BenchStatistics.ValuesOf(SiteKind(siteModel, sensor)!), csvDialect);
                return;
            }

            try
            {
                await exports.WriteAsync(writer, series, fromMs, toMs, csvDialect, exports.MaxRows, context.RequestAborted);
            }
            catch (InvalidOperationException exception)
            {
                // Rows already sent: break the response off, so it never looks complete.
                loggers.CreateLogger(typeof(InstrumentsApi)).LogWarning("CSV of {Sensor} broken off: {Reason}", sensor, exception.Message);
                context.Abort();
            }
        }
        finally
        {
            exports.Exit();
        }
    }

    // A sensor the site file does not name is stored as a plain series of its device: device/sensor.
    private static ProblemHttpResult? CheckSensor(string? sensor) =>
        Identifiers.IsSlug(sensor) || (sensor?.Split('/') is [var device, var plain] && Identifiers.IsSlug(device) && Identifiers.IsSlug(plain))
            ? null
            : Problem("sensor is missing or not a slug", $"Give the sensor id, such as ?sensor=dc-bench-1 ({Identifiers.SlugPattern}), or device/sensor for a sensor the site file does not name.");

    private static ProblemHttpResult? Window(DateTimeOffset? from, DateTimeOffset? to, TimeProvider clock, out DateTimeOffset start, out DateTimeOffset end) =>
        ApiProblems.Window(from, to, clock.GetUtcNow(), TimeSpan.FromHours(1), MaxWindowDays, out start, out end) as ProblemHttpResult;

    private static ProblemHttpResult NoSuchSensor(string sensor) =>
        TypedResults.Problem(title: "no such sensor", detail: $"The site file names no sensor {sensor}, and no readings of it have been stored.", statusCode: StatusCodes.Status404NotFound);

    /// <summary>The kind of a sensor the site file names, or null.</summary>
    private static string? SiteKind(SiteModel site, string sensor) => site.Sensors.FirstOrDefault(s => s.Id == sensor)?.Kind;

    private static ProblemHttpResult Problem(string title, string detail) =>
        TypedResults.Problem(title: title, detail: detail, statusCode: StatusCodes.Status400BadRequest);
}
