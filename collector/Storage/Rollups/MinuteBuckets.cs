using Microsoft.Data.Sqlite;
using NewTechPark.Edge.Collector.Storage.Blocks;

namespace NewTechPark.Edge.Collector.Storage.Rollups;

/// <summary>
/// Minute buckets of a series whose raw points are in the store are not stored: they are computed
/// from the point blocks when asked for (a day of a series decodes in about a millisecond), the
/// same way the writer computed them (min, max, sum, count; a counter's increase and resets step
/// from the point before each point, so the first minute asked for starts from the point before
/// it). A stored minute row wins over the raw points of its minute: rows are kept where the raw
/// points are gone (points written after the raw cutoff, minutes materialised by the retention
/// before it purged their raw points, the rows of a store written before this change, and every
/// minute of a series stored in InfluxDB only).
/// </summary>
public static class MinuteBuckets
{
    /// <summary>
    /// The minute buckets of <paramref name="points"/> (in time order), oldest first; for a counter,
    /// each point's increase from the one before it, the first from <paramref name="before"/>.
    /// </summary>
    public static List<(long Minute, RollupWriter.Acc Acc)> FromPoints(IEnumerable<RawPoint> points, RawPoint? before, bool counter)
    {
        var minutes = new List<(long Minute, RollupWriter.Acc Acc)>();
        double? previous = counter ? before?.Value : null;
        var current = long.MinValue;
        var acc = default(RollupWriter.Acc);
        foreach (var (ts, value) in points)
        {
            var minute = TimeBuckets.FloorTo(ts, TimeBuckets.MinuteMs);
            if (minute != current)
            {
                if (current != long.MinValue)
                {
                    minutes.Add((current, acc));
                }

                current = minute;
                acc = RollupWriter.Acc.Of(value);
            }
            else
            {
                acc = acc.With(value);
            }

            if (counter)
            {
                var (increase, resets) = RollupWriter.Step(previous, value);
                acc = acc with { Inc = acc.Inc + increase, Resets = acc.Resets + resets };
                previous = value;
            }
        }

        if (current != long.MinValue)
        {
            minutes.Add((current, acc));
        }

        return minutes;
    }

    /// <summary>
    /// The minute buckets of one series in [<paramref name="fromMs"/>, <paramref name="toMs"/>)
    /// (whole minutes: <paramref name="fromMs"/> on a minute), oldest first: stored rows, and the
    /// other minutes computed from the raw points.
    /// </summary>
    public static List<(long Minute, RollupWriter.Acc Acc)> Read(SqliteConnection connection, SqliteTransaction? transaction, long seriesId, bool counter, long fromMs, long toMs,
        Func<long, long, IEnumerable<RawPoint>> range, Func<long, RawPoint?> lastBefore)
    {
        var stored = Stored(connection, transaction, seriesId, fromMs, toMs);
        var computed = FromPoints(range(fromMs, toMs), counter ? lastBefore(fromMs) : null, counter);
        if (stored.Count == 0)
        {
            return computed;
        }

        foreach (var (minute, acc) in computed)
        {
            stored.TryAdd(minute, acc);
        }

        return stored.Select(s => (s.Key, s.Value)).ToList();
    }

    /// <summary>The same, on a reader connection (<see cref="PointReader"/>).</summary>
    public static List<(long Minute, RollupWriter.Acc Acc)> Read(SqliteConnection connection, long seriesId, bool counter, long fromMs, long toMs) =>
        Read(connection, null, seriesId, counter, fromMs, toMs,
            (a, b) => PointReader.Range(connection, null, seriesId, a, b),
            t => PointReader.LastBefore(connection, null, seriesId, t));

    /// <summary>The stored minute rows of a series in [from, to), by minute.</summary>
    public static SortedDictionary<long, RollupWriter.Acc> Stored(SqliteConnection connection, SqliteTransaction? transaction, long seriesId, long fromMs, long toMs)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            SELECT bucket_ms, min, max, sum, count, inc, resets FROM rollups
            WHERE series_id = $id AND res = $res AND bucket_ms >= $from AND bucket_ms < $to
            """;
        command.Parameters.AddWithValue("$id", seriesId);
        command.Parameters.AddWithValue("$res", (int)Resolution.Minute);
        command.Parameters.AddWithValue("$from", fromMs);
        command.Parameters.AddWithValue("$to", toMs);
        using var reader = command.ExecuteReader();
        var rows = new SortedDictionary<long, RollupWriter.Acc>();
        while (reader.Read())
        {
            rows[reader.GetInt64(0)] = new RollupWriter.Acc(reader.GetDouble(1), reader.GetDouble(2), reader.GetDouble(3), reader.GetInt64(4), reader.GetDouble(5), reader.GetInt64(6));
        }

        return rows;
    }
}
