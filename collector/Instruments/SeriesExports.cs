using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Collector.Storage.Instruments;

namespace NewTechPark.Edge.Collector.Instruments;

/// <summary>
/// CSV exports of a sensor's window (<see cref="SeriesCsv"/>), at most <see cref="MaxConcurrent"/>
/// at a time: reads are not rate limited, but an export decodes up to a million readings, and a
/// class clicking "download" together should not take both cores from the ingest.
/// </summary>
public sealed class SeriesExports
{
    public const int MaxConcurrent = 2;

    private readonly InstrumentStore _db;
    private readonly SeriesCsv _csv;
    private readonly SemaphoreSlim _gate = new(MaxConcurrent, MaxConcurrent);

    public SeriesExports(SqliteStore store, SiteModel site)
    {
        _db = new InstrumentStore(store);
        _csv = new SeriesCsv(_db, TimeZoneInfo.FindSystemTimeZoneById(site.TimeZone));
    }

    /// <summary>The sensor's series in column order, or empty when nothing of it was stored.</summary>
    public IReadOnlyList<SensorSeries> SeriesOf(string site, string sensor) => SeriesCsv.Order(_db.SeriesOf(site, sensor));

    /// <summary>The most rows of one CSV (<see cref="Api.InstrumentsApi.MaxCsvRows"/>; tests lower it).</summary>
    public long MaxRows { get; set; } = Api.InstrumentsApi.MaxCsvRows;

    public bool TryEnter() => _gate.Wait(0);

    public void Exit() => _gate.Release();

    public long RowsAtLeast(IReadOnlyList<SensorSeries> series, long fromMs, long toMs) => _csv.RowsAtLeast(series, fromMs, toMs);

    public Task<long> WriteAsync(TextWriter writer, IReadOnlyList<SensorSeries> series, long fromMs, long toMs, CsvDialect dialect, long maxRows, CancellationToken cancellationToken) =>
        _csv.WriteAsync(writer, series, fromMs, toMs, dialect, maxRows, cancellationToken);
}
