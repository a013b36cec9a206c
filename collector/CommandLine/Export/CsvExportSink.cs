using System.Globalization;
using System.Text;
using NewTechPark.Edge.Collector.Instruments;

namespace NewTechPark.Edge.Collector.CommandLine.Export;

/// <summary>
/// CSV as <c>/api/v1/series.csv</c> writes it: <c>ts_utc</c> (ISO 8601, UTC, milliseconds),
/// <c>local_time</c> (the site's zone, <c>yyyy-MM-dd HH:mm:ss.fff</c>; the hour after the autumn
/// DST change repeats, so <c>ts_utc</c> is the key), a <c>sensor</c> column when the export holds
/// more than one sensor, then the value columns. Dialect en: <c>,</c> and <c>.</c> decimals, no
/// BOM; nl: UTF-8 with BOM, <c>;</c> and a decimal comma, as Excel with Dutch settings reads it.
/// </summary>
public sealed class CsvExportSink : IExportSink
{
    private readonly TextWriter _writer;
    private readonly bool _ownsWriter;
    private readonly TimeZoneInfo _zone;
    private readonly bool _sensorColumn;
    private readonly char _separator;
    private readonly CultureInfo _culture;
    private readonly StringBuilder _line = new(256);

    public CsvExportSink(Stream output, bool ownsStream, IReadOnlyList<ExportColumn> columns, bool sensorColumn, CsvDialect dialect, TimeZoneInfo zone)
    {
        _writer = new StreamWriter(output, new UTF8Encoding(dialect == CsvDialect.ExcelNl), 64 * 1024, leaveOpen: !ownsStream);
        _ownsWriter = true;
        _zone = zone;
        _sensorColumn = sensorColumn;
        _separator = dialect == CsvDialect.ExcelNl ? ';' : ',';
        _culture = dialect == CsvDialect.ExcelNl ? CultureInfo.GetCultureInfo("nl-NL") : CultureInfo.InvariantCulture;
        _writer.WriteLine(string.Join(_separator, ["ts_utc", "local_time", .. sensorColumn ? new[] { "sensor" } : [], .. columns.Select(c => c.Name)]));
    }

    public async ValueTask WriteRowAsync(long tsMs, string sensor, double?[] cells, CancellationToken cancellationToken)
    {
        var utc = DateTimeOffset.FromUnixTimeMilliseconds(tsMs);
        _line.Clear();
        _line.Append(utc.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture)).Append(_separator);
        _line.Append(TimeZoneInfo.ConvertTime(utc, _zone).ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture));
        if (_sensorColumn)
        {
            _line.Append(_separator);
            AppendText(sensor);
        }

        foreach (var cell in cells)
        {
            _line.Append(_separator);
            if (cell is { } v)
            {
                // "R" keeps every stored digit; no thousands separators, so a cell is one number.
                _line.Append(v.ToString("R", _culture));
            }
        }

        await _writer.WriteLineAsync(_line, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sensor ids are slugs; one that is not (an older store) is quoted as RFC 4180 says.</summary>
    private void AppendText(string text)
    {
        if (text.AsSpan().IndexOfAny([_separator, '"', '\r', '\n']) < 0)
        {
            _line.Append(text);
            return;
        }

        _line.Append('"').Append(text.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
    }

    public async ValueTask CompleteAsync(CancellationToken cancellationToken) => await _writer.FlushAsync(cancellationToken).ConfigureAwait(false);

    public async ValueTask DisposeAsync()
    {
        if (_ownsWriter)
        {
            await _writer.DisposeAsync().ConfigureAwait(false);
        }
    }
}
