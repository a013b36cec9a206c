using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using NewTechPark.Edge.Collector.Storage.Blocks;

namespace NewTechPark.Edge.Collector.Storage.Instruments;

/// <summary>One stored series of a sensor: its id, value name and reading kind.</summary>
public sealed record SensorSeries(long Id, string Field, string Kind);

/// <summary>
/// The reads behind the DC-Lab instrument (<c>collector/Instruments/</c>): which series a sensor
/// has, its raw points a block at a time (statistics), an exact count of a window's points (the CSV's
/// row limit) and a window's rows merged by time (the CSV). Read only, on pooled readers.
/// </summary>
public sealed class InstrumentStore(SqliteStore store)
{
    /// <summary>Points older than this (Unix ms) may have been purged from the raw blocks; 0 = nothing purged.</summary>
    public long RawCutoffMs => store.Rollups.RawCutoffMs;

    /// <summary>Whether the raw points of this kind are kept here (not with <c>Collector:Influx:Mode=Instead</c>).</summary>
    public bool KeepsRawPoints(string kind) => store.KeepsRawPoints(kind);

    /// <summary>Every stored series of a sensor, by value name.</summary>
    public IReadOnlyList<SensorSeries> SeriesOf(string site, string sensor)
    {
        using var connection = store.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, field, kind FROM series WHERE site = $site AND sensor = $sensor ORDER BY field";
        command.Parameters.AddWithValue("$site", site);
        command.Parameters.AddWithValue("$sensor", sensor);
        using var reader = command.ExecuteReader();
        var list = new List<SensorSeries>();
        while (reader.Read())
        {
            list.Add(new SensorSeries(reader.GetInt64(0), reader.GetString(1), reader.GetString(2)));
        }

        return list;
    }

    /// <summary>
    /// The decoded blocks that hold the points of [from, to), oldest first; they can hold points
    /// outside it (the caller filters). With <paramref name="cached"/>, sealed blocks come from the
    /// store's decoded-block cache, so a live window asked for every few seconds decodes only its
    /// open block; a long window passes it by, so it does not push out the charts' blocks.
    /// </summary>
    public IEnumerable<(long[] Ts, double[] Values)> Blocks(long seriesId, long fromMs, long toMs, bool cached)
    {
        using var connection = store.OpenReader();
        foreach (var block in PointReader.Blocks(connection, null, seriesId, fromMs, toMs, cached ? store.DecodedBlocks : null))
        {
            yield return block;
        }
    }

    /// <summary>The exact number of raw points of a series in [from, to): whole blocks from their row, the edge blocks decoded.</summary>
    public long CountPoints(long seriesId, long fromMs, long toMs)
    {
        if (fromMs >= toMs)
        {
            return 0;
        }

        using var connection = store.OpenReader();
        long inner;
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT coalesce(sum(count), 0) FROM point_blocks WHERE series_id = $s AND start_ms >= $from AND end_ms < $to";
            command.Parameters.AddWithValue("$s", seriesId);
            command.Parameters.AddWithValue("$from", fromMs);
            command.Parameters.AddWithValue("$to", toMs);
            inner = (long)command.ExecuteScalar()!;
        }

        // The blocks across either end (at most two): decoded and counted point by point.
        using var edges = connection.CreateCommand();
        edges.CommandText = """
            SELECT data FROM point_blocks
            WHERE series_id = $s AND start_ms < $to AND end_ms >= $from AND NOT (start_ms >= $from AND end_ms < $to)
            """;
        edges.Parameters.AddWithValue("$s", seriesId);
        edges.Parameters.AddWithValue("$from", fromMs);
        edges.Parameters.AddWithValue("$to", toMs);
        using var reader = edges.ExecuteReader();
        while (reader.Read())
        {
            var (ts, _) = PointCodec.Decode((byte[])reader.GetValue(0));
            inner += ts.Count(t => t >= fromMs && t < toMs);
        }

        return inner;
    }

    /// <summary>
    /// The raw points of the given series in [from, to), merged by time: one row per distinct time
    /// with a value per series (null where that series has no point then). Each series is read a
    /// block at a time, so memory stays at a few blocks whatever the window.
    /// </summary>
    public async IAsyncEnumerable<(long TsMs, double?[] Values)> Rows(IReadOnlyList<long> seriesIds, long fromMs, long toMs,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connection = store.OpenReader();
        var cursors = new IEnumerator<RawPoint>?[seriesIds.Count];
        try
        {
            for (var i = 0; i < seriesIds.Count; i++)
            {
                var points = PointReader.Range(connection, null, seriesIds[i], fromMs, toMs).GetEnumerator();
                if (points.MoveNext())
                {
                    cursors[i] = points;
                }
                else
                {
                    points.Dispose();
                }
            }

            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var ts = long.MaxValue;
                foreach (var cursor in cursors)
                {
                    if (cursor is not null && cursor.Current.Ts < ts)
                    {
                        ts = cursor.Current.Ts;
                    }
                }

                if (ts == long.MaxValue)
                {
                    yield break;
                }

                // A fresh array per row: the caller may keep it while it awaits the write.
                var values = new double?[cursors.Length];
                for (var i = 0; i < cursors.Length; i++)
                {
                    if (cursors[i] is { } cursor && cursor.Current.Ts == ts)
                    {
                        values[i] = cursor.Current.Value;
                        if (!cursor.MoveNext())
                        {
                            cursor.Dispose();
                            cursors[i] = null;
                        }
                    }
                }

                yield return (ts, values);
            }
        }
        finally
        {
            foreach (var cursor in cursors)
            {
                cursor?.Dispose();
            }
        }
    }
}
