using Parquet;
using Parquet.Schema;

namespace NewTechPark.Edge.Collector.CommandLine.Export;

/// <summary>
/// Parquet with typed columns: <c>ts</c> as a timestamp (INT64, microseconds, adjusted to UTC),
/// <c>sensor</c> as a string (dictionary-encoded: a handful of distinct ids), the values as
/// nullable doubles and the bucket counts as nullable INT64. Rows are buffered up to
/// <see cref="RowGroupRows"/> and written as one row group, so memory is bounded by a row group
/// whatever the window. pandas, Polars, DuckDB and Spark read it as it is.
/// </summary>
public sealed class ParquetExportSink : IExportSink
{
    /// <summary>Rows per row group: large enough for good compression, small enough for a Pi.</summary>
    public const int RowGroupRows = 65_536;

    private readonly ParquetWriter _writer;
    private readonly DataField[] _fields;
    private readonly IReadOnlyList<ExportColumn> _columns;
    private readonly DateTime[] _ts = new DateTime[RowGroupRows];
    private readonly string[] _sensors = new string[RowGroupRows];
    private readonly double?[][] _values;
    private int _count;

    private ParquetExportSink(ParquetWriter writer, DataField[] fields, IReadOnlyList<ExportColumn> columns)
    {
        _writer = writer;
        _fields = fields;
        _columns = columns;
        _values = [.. columns.Select(_ => new double?[RowGroupRows])];
    }

    public static ParquetSchema Schema(IReadOnlyList<ExportColumn> columns) => new(
        [
            new DateTimeDataField("ts", DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Micros, isNullable: false),
            new DataField<string>("sensor", nullable: false),
            .. columns.Select(c => c.IsCount ? (DataField)new DataField<long?>(c.Name) : new DataField<double?>(c.Name)),
        ]);

    /// <summary>The output must be seekable (Parquet's footer points back at the row groups): a file, not stdout.</summary>
    public static async Task<ParquetExportSink> CreateAsync(Stream output, IReadOnlyList<ExportColumn> columns, CancellationToken cancellationToken)
    {
        var schema = Schema(columns);
        var options = new ParquetOptions { CompressionMethod = CompressionMethod.Snappy };
        // Without the hint Parquet.Net 6 writes strings PLAIN; a sensor id repeats on every row.
        options.ColumnEncodingHints[schema.GetDataFields()[1].Path.ToString()] = EncodingHint.Dictionary;
        var writer = await ParquetWriter.CreateAsync(schema, output, options, append: false, cancellationToken).ConfigureAwait(false);
        return new ParquetExportSink(writer, schema.GetDataFields(), columns);
    }

    public async ValueTask WriteRowAsync(long tsMs, string sensor, double?[] cells, CancellationToken cancellationToken)
    {
        _ts[_count] = DateTime.UnixEpoch.AddMilliseconds(tsMs);
        _sensors[_count] = sensor;
        for (var i = 0; i < cells.Length; i++)
        {
            _values[i][_count] = cells[i];
        }

        if (++_count == RowGroupRows)
        {
            await FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (_count == 0)
        {
            return;
        }

        using (var group = _writer.CreateRowGroup())
        {
            await group.WriteAsync<DateTime>(_fields[0], _ts.AsMemory(0, _count), null, null, cancellationToken).ConfigureAwait(false);
            await group.WriteAsync(_fields[1], new ArraySegment<string>(_sensors, 0, _count), null).ConfigureAwait(false);
            for (var i = 0; i < _columns.Count; i++)
            {
                if (_columns[i].IsCount)
                {
                    var counts = new long?[_count];
                    for (var r = 0; r < _count; r++)
                    {
                        counts[r] = _values[i][r] is { } c ? (long)c : null;
                    }

                    await group.WriteAsync<long>(_fields[i + 2], counts, null, null, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await group.WriteAsync<double>(_fields[i + 2], _values[i].AsMemory(0, _count), null, null, cancellationToken).ConfigureAwait(false);
                }
            }

            group.CompleteValidate();
        }

        _count = 0;
    }

    public async ValueTask CompleteAsync(CancellationToken cancellationToken)
    {
        await FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync() => await _writer.DisposeAsync().ConfigureAwait(false);
}
