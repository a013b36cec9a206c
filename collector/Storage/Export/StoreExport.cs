using NewTechPark.Edge.Collector.Storage.Blocks;
using NewTechPark.Edge.Collector.Storage.Rollups;

namespace NewTechPark.Edge.Collector.Storage.Export;

/// <summary>A stored series: the sensor (or device/sensor for one the site file does not name), the value name and the reading kind.</summary>
public sealed record ExportSeries(long Id, string Sensor, string Field, string Kind);

/// <summary>
/// The reads behind <c>collector export</c>, on one <see cref="StoreSnapshot"/>: which series
/// exist, a cheap count of a window's raw rows, and a window's rows, raw or from the rollups,
/// merged by time per sensor. Rows are read a block (raw) or a bounded chunk of buckets
/// (rollups) at a time, so memory stays flat whatever the window.
/// </summary>
public sealed class StoreExport(StoreSnapshot snapshot)
{
    /// <summary>Buckets of one series read per query: a day of minutes, a month of hours, about a year of days and longer.</summary>
    private static long ChunkMs(Resolution resolution) => resolution switch
    {
        Resolution.Minute => TimeBuckets.MinuteMs * 60 * 24,
        Resolution.Hour => TimeBuckets.MinuteMs * 60 * 24 * 31,
        _ => TimeBuckets.MinuteMs * 60 * 24 * 400,
    };

    /// <summary>Every stored series of the site, by sensor and value name.</summary>
    public IReadOnlyList<ExportSeries> Series(string site)
    {
        using var command = snapshot.Connection.CreateCommand();
        command.CommandText = "SELECT id, sensor, field, kind FROM series WHERE site = $site ORDER BY sensor, field";
        command.Parameters.AddWithValue("$site", site);
        using var reader = command.ExecuteReader();
        var list = new List<ExportSeries>();
        while (reader.Read())
        {
            list.Add(new ExportSeries(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3)));
        }

        return list;
    }

    /// <summary>The raw points of a series in [from, to); the rows of a sensor are at least its busiest series' count.</summary>
    public long CountPoints(long seriesId, long fromMs, long toMs) => PointReader.Count(snapshot.Connection, seriesId, fromMs, toMs);

    /// <summary>
    /// The raw points of the given series (one sensor's values) in [from, to), merged by time: one
    /// row per distinct time with a value per series (null where that series has none then). One
    /// array for every row: the caller writes a row before it asks for the next.
    /// </summary>
    public IEnumerable<(long TsMs, double?[] Values)> RawRows(IReadOnlyList<long> seriesIds, long fromMs, long toMs) =>
        PointReader.MergedByTime(snapshot.Connection, seriesIds, fromMs, toMs, reuseRow: true);

    /// <summary>
    /// The rollup buckets of the given series (one sensor's values) that start in [from, to),
    /// merged by bucket: one row per bucket with a rollup per series (null where that series has
    /// none). Minutes are the stored rows and, for the others, computed from the raw points, as
    /// the charts read them. Read a chunk of buckets at a time, within the span that holds data.
    /// </summary>
    public IEnumerable<(long BucketMs, RollupRow?[] Rows)> RollupRows(IReadOnlyList<ExportSeries> series, Resolution resolution, long fromMs, long toMs)
    {
        if (resolution == Resolution.Raw)
        {
            throw new ArgumentOutOfRangeException(nameof(resolution), "raw points are read by RawRows");
        }

        if (resolution == Resolution.Minute)
        {
            // A minute is in the window when it starts in it.
            fromMs = CeilingMinute(fromMs);
            toMs = CeilingMinute(toMs);
        }

        var (first, last) = DataSpan(series, resolution);
        var start = Math.Max(fromMs, first);
        var end = last == long.MinValue ? start : Math.Min(toMs, last + 1);
        if (resolution == Resolution.Minute)
        {
            start = CeilingMinute(start);
        }

        var chunk = ChunkMs(resolution);
        var rows = new RollupRow?[series.Count];
        for (var chunkStart = start; chunkStart < end; chunkStart = chunkStart > end - chunk ? end : chunkStart + chunk)
        {
            var chunkEnd = chunkStart > end - chunk ? end : chunkStart + chunk;
            var buckets = new SortedDictionary<long, RollupRow?[]>();
            for (var i = 0; i < series.Count; i++)
            {
                foreach (var row in Rollups(series[i], resolution, chunkStart, chunkEnd))
                {
                    if (!buckets.TryGetValue(row.BucketMs, out var byField))
                    {
                        buckets[row.BucketMs] = byField = new RollupRow?[series.Count];
                    }

                    byField[i] = row;
                }
            }

            foreach (var (bucket, byField) in buckets)
            {
                Array.Copy(byField, rows, rows.Length);
                yield return (bucket, rows);
            }
        }
    }

    private static long CeilingMinute(long ms) =>
        ms <= long.MinValue + TimeBuckets.MinuteMs || ms >= long.MaxValue - TimeBuckets.MinuteMs ? ms : TimeBuckets.FloorTo(ms - 1, TimeBuckets.MinuteMs) + TimeBuckets.MinuteMs;

    /// <summary>The first and last time that can hold a bucket of these series (long.MaxValue, long.MinValue when none).</summary>
    private (long First, long Last) DataSpan(IReadOnlyList<ExportSeries> series, Resolution resolution)
    {
        var (first, last) = (long.MaxValue, long.MinValue);
        foreach (var s in series)
        {
            using var command = snapshot.Connection.CreateCommand();
            command.CommandText = resolution == Resolution.Minute
                ? """
                  SELECT min(a), max(b) FROM (
                      SELECT min(start_ms) AS a, max(end_ms) AS b FROM point_blocks WHERE series_id = $s
                      UNION ALL SELECT min(bucket_ms), max(bucket_ms) FROM rollups WHERE series_id = $s AND res = $res)
                  """
                : "SELECT min(bucket_ms), max(bucket_ms) FROM rollups WHERE series_id = $s AND res = $res";
            command.Parameters.AddWithValue("$s", s.Id);
            command.Parameters.AddWithValue("$res", (int)resolution);
            using var reader = command.ExecuteReader();
            if (reader.Read() && !reader.IsDBNull(0))
            {
                first = Math.Min(first, reader.GetInt64(0));
                last = Math.Max(last, reader.GetInt64(1));
            }
        }

        if (resolution == Resolution.Minute && first != long.MaxValue)
        {
            first = TimeBuckets.FloorTo(first, TimeBuckets.MinuteMs);
        }

        return (first, last);
    }

    private List<RollupRow> Rollups(ExportSeries series, Resolution resolution, long fromMs, long toMs) =>
        StoreQueries.RollupRows(snapshot.Connection, series.Id, RollupState.IsCounter(series.Field), resolution, fromMs, toMs);
}
