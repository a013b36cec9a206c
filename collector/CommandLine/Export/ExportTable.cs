using NewTechPark.Edge.Collector.Instruments;
using NewTechPark.Edge.Collector.Storage.Export;
using NewTechPark.Edge.Collector.Storage.Rollups;

namespace NewTechPark.Edge.Collector.CommandLine.Export;

/// <summary>A value column of an export: a reading's value (raw) or one statistic of a bucket (rollups).</summary>
public sealed record ExportColumn(string Name, bool IsCount);

/// <summary>Where the rows of an export go (CSV or Parquet); rows come in order, sensor by sensor, each by time.</summary>
public interface IExportSink : IAsyncDisposable
{
    /// <summary><paramref name="cells"/> has one entry per column (null: no value); the sink copies what it keeps.</summary>
    ValueTask WriteRowAsync(long tsMs, string sensor, double?[] cells, CancellationToken cancellationToken);

    /// <summary>Writes what is buffered and the file's end; without it the output is incomplete.</summary>
    ValueTask CompleteAsync(CancellationToken cancellationToken);
}

/// <summary>
/// The shape of an export: the selected series grouped by sensor, and the columns. Raw: one column
/// per value name (the DC values first, as in series.csv). Rollups: per value name its
/// <c>_min</c>, <c>_max</c>, <c>_mean</c> and <c>_count</c>, and <c>_increase</c> for counters
/// (<c>*_total</c>: the sum of the steps up within the bucket, resets not counted as steps).
/// </summary>
public sealed class ExportTable
{
    private readonly Dictionary<string, int> _offsets = [];

    public ExportTable(IReadOnlyList<ExportSeries> series, Resolution resolution)
    {
        Resolution = resolution;
        var fields = SeriesCsv.Order(series.DistinctBy(s => s.Field).Select(s => new Storage.Instruments.SensorSeries(0, s.Field, s.Kind)).ToList()).Select(s => s.Field).ToList();
        var columns = new List<ExportColumn>();
        foreach (var field in fields)
        {
            _offsets[field] = columns.Count;
            if (resolution == Resolution.Raw)
            {
                columns.Add(new ExportColumn(field, false));
                continue;
            }

            columns.Add(new ExportColumn(field + "_min", false));
            columns.Add(new ExportColumn(field + "_max", false));
            columns.Add(new ExportColumn(field + "_mean", false));
            columns.Add(new ExportColumn(field + "_count", true));
            if (RollupState.IsCounter(field))
            {
                columns.Add(new ExportColumn(field + "_increase", false));
            }
        }

        Columns = columns;
        Sensors = series.GroupBy(s => s.Sensor, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (g.Key, (IReadOnlyList<ExportSeries>)[.. g.OrderBy(s => fields.IndexOf(s.Field))])).ToList();
    }

    public Resolution Resolution { get; }

    public IReadOnlyList<ExportColumn> Columns { get; }

    /// <summary>The sensors in name order, each with its series in column order.</summary>
    public IReadOnlyList<(string Sensor, IReadOnlyList<ExportSeries> Series)> Sensors { get; }

    /// <summary>The first column of a value name.</summary>
    public int OffsetOf(string field) => _offsets[field];
}
