using System.Globalization;
using NewTechPark.Edge.Collector.Storage.Instruments;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Collector.Instruments;

/// <summary>How a CSV is written: RFC 4180 with <c>.</c> decimals (the default), or for Dutch Excel.</summary>
public enum CsvDialect
{
    /// <summary><c>,</c> between cells, <c>.</c> decimals, no byte order mark: for scripts, Python, LibreOffice.</summary>
    Standard,

    /// <summary>UTF-8 with a byte order mark, <c>;</c> between cells and a decimal comma: Excel with Dutch settings opens it as numbers.</summary>
    ExcelNl,
}

/// <summary>
/// The raw points of one sensor over a window as CSV, one row per reading time: <c>ts_utc</c> (ISO
/// 8601, UTC, milliseconds), <c>local_time</c> (the site's zone, <c>yyyy-MM-dd HH:mm:ss.fff</c>, which
/// Excel reads as a date; the hour after a DST change repeats, so <c>ts_utc</c> is the key), then a
/// column per value name (dc benches: voltage_v, current_a, power_w first). Streamed: rows are written
/// as the blocks are read, never the whole window in memory.
/// </summary>
public sealed class SeriesCsv(InstrumentStore store, TimeZoneInfo zone)
{
    /// <summary>The dc values first, in the order the page shows them; any other values after, by name.</summary>
    public static IReadOnlyList<SensorSeries> Order(IReadOnlyList<SensorSeries> series)
    {
        string[] first = [ReadingKinds.DcValues.VoltageV, ReadingKinds.DcValues.CurrentA, ReadingKinds.DcValues.PowerW];
        return series.OrderBy(s => Array.IndexOf(first, s.Field) is var i && i >= 0 ? i : first.Length).ThenBy(s => s.Field, StringComparer.Ordinal).ToList();
    }

    /// <summary>The most rows a window can give: the count of its busiest series (rows are distinct times, and the values of a reading share one).</summary>
    public long RowsAtLeast(IReadOnlyList<SensorSeries> series, long fromMs, long toMs) =>
        series.Count == 0 ? 0 : series.Max(s => store.CountPoints(s.Id, fromMs, toMs));

    /// <summary>Only the header: a site sensor that has stored nothing yet.</summary>
    public static Task WriteHeaderAsync(TextWriter writer, IReadOnlyList<string> values, CsvDialect dialect) =>
        writer.WriteLineAsync(Header(values, dialect));

    private static string Header(IEnumerable<string> values, CsvDialect dialect) =>
        string.Join(dialect == CsvDialect.ExcelNl ? ';' : ',', ["ts_utc", "local_time", .. values]);

    /// <summary>
    /// Writes the header and the rows; returns the rows written. Stops with
    /// <see cref="InvalidOperationException"/> past <paramref name="maxRows"/> (values of one reading
    /// at different times can make more rows than the count promised): the response then breaks off
    /// instead of ending as if complete.
    /// </summary>
    public async Task<long> WriteAsync(TextWriter writer, IReadOnlyList<SensorSeries> series, long fromMs, long toMs, CsvDialect dialect, long maxRows, CancellationToken cancellationToken)
    {
        var separator = dialect == CsvDialect.ExcelNl ? ';' : ',';
        var culture = dialect == CsvDialect.ExcelNl ? CultureInfo.GetCultureInfo("nl-NL") : CultureInfo.InvariantCulture;
        await writer.WriteLineAsync(Header(series.Select(s => s.Field), dialect)).ConfigureAwait(false);
        long rows = 0;
        var line = new System.Text.StringBuilder(128);
        await foreach (var (ts, values) in store.Rows(series.Select(s => s.Id).ToList(), fromMs, toMs, cancellationToken).ConfigureAwait(false))
        {
            if (++rows > maxRows)
            {
                throw new InvalidOperationException($"the window gave more than {maxRows} rows");
            }

            var utc = DateTimeOffset.FromUnixTimeMilliseconds(ts);
            line.Clear();
            line.Append(utc.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture)).Append(separator);
            line.Append(TimeZoneInfo.ConvertTime(utc, zone).ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture));
            foreach (var value in values)
            {
                line.Append(separator);
                if (value is { } v)
                {
                    // "R" keeps every stored digit; no thousands separators, so a cell is one number.
                    line.Append(v.ToString("R", culture));
                }
            }

            await writer.WriteLineAsync(line).ConfigureAwait(false);
        }

        return rows;
    }
}
