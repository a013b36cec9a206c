using Microsoft.Data.Sqlite;

namespace NewTechPark.Edge.Collector.Storage.Blocks;

/// <summary>A raw point of one series.</summary>
public readonly record struct RawPoint(long Ts, double Value);

/// <summary>
/// The one reader of raw points (<c>point_blocks</c>): a range, the last point before a time, the
/// next after it, the first time, the count. A range decodes only the blocks it touches: the block
/// that starts at or before its start (found on the primary key) and those that start inside it.
/// Pass the transaction when reading on a connection that has one open.
/// </summary>
public static class PointReader
{
    /// <summary>The points of a series with <paramref name="fromMs"/> ≤ ts &lt; <paramref name="toMs"/>, oldest first.</summary>
    public static IEnumerable<RawPoint> Range(SqliteConnection connection, SqliteTransaction? transaction, long seriesId, long fromMs, long toMs)
    {
        if (fromMs >= toMs)
        {
            yield break;
        }

        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            SELECT data FROM point_blocks
            WHERE series_id = $s AND start_ms < $to AND end_ms >= $from
              AND start_ms >= coalesce((SELECT max(start_ms) FROM point_blocks WHERE series_id = $s AND start_ms <= $from), $from)
            ORDER BY start_ms
            """;
        command.Parameters.AddWithValue("$s", seriesId);
        command.Parameters.AddWithValue("$from", fromMs);
        command.Parameters.AddWithValue("$to", toMs);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var (ts, values) = PointCodec.Decode((byte[])reader.GetValue(0));
            for (var i = 0; i < ts.Length; i++)
            {
                if (ts[i] >= fromMs && ts[i] < toMs)
                {
                    yield return new RawPoint(ts[i], values[i]);
                }
            }
        }
    }

    /// <summary>
    /// The decoded blocks that hold the points of [<paramref name="fromMs"/>, <paramref name="toMs"/>),
    /// oldest first; they can hold points outside it (the caller filters). For loops over many
    /// points without a call per point. Sealed blocks come from <paramref name="cache"/> when given
    /// (the arrays are shared: read only).
    /// </summary>
    public static IEnumerable<(long[] Ts, double[] Values)> Blocks(SqliteConnection connection, SqliteTransaction? transaction, long seriesId, long fromMs, long toMs,
        DecodedBlockCache? cache = null)
    {
        if (fromMs >= toMs)
        {
            yield break;
        }

        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            SELECT start_ms, end_ms, count, data FROM point_blocks
            WHERE series_id = $s AND start_ms < $to AND end_ms >= $from
              AND start_ms >= coalesce((SELECT max(start_ms) FROM point_blocks WHERE series_id = $s AND start_ms <= $from), $from)
            ORDER BY start_ms
            """;
        command.Parameters.AddWithValue("$s", seriesId);
        command.Parameters.AddWithValue("$from", fromMs);
        command.Parameters.AddWithValue("$to", toMs);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var key = (seriesId, reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
            if (cache is not null && cache.TryGet(key, out var known))
            {
                yield return known;
                continue;
            }

            var data = (byte[])reader.GetValue(3);
            var decoded = PointCodec.Decode(data);
            if (cache is not null && PointCodec.IsSealed(data))
            {
                cache.Add(key, decoded);
            }

            yield return decoded;
        }
    }

    /// <summary>The newest point with ts &lt; <paramref name="beforeMs"/>, or null.</summary>
    public static RawPoint? LastBefore(SqliteConnection connection, SqliteTransaction? transaction, long seriesId, long beforeMs)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT data FROM point_blocks WHERE series_id = $s AND start_ms < $t ORDER BY start_ms DESC LIMIT 1";
        command.Parameters.AddWithValue("$s", seriesId);
        command.Parameters.AddWithValue("$t", beforeMs);
        if (command.ExecuteScalar() is not byte[] data)
        {
            return null;
        }

        var (ts, values) = PointCodec.Decode(data);
        for (var i = ts.Length - 1; i >= 0; i--)
        {
            if (ts[i] < beforeMs)
            {
                return new RawPoint(ts[i], values[i]);
            }
        }

        return null; // not reached: the block starts before beforeMs
    }

    /// <summary>The oldest point with ts &gt; <paramref name="afterMs"/>, or null.</summary>
    public static RawPoint? NextAfter(SqliteConnection connection, SqliteTransaction? transaction, long seriesId, long afterMs)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            SELECT data FROM point_blocks WHERE series_id = $s AND end_ms > $t
              AND start_ms >= coalesce((SELECT max(start_ms) FROM point_blocks WHERE series_id = $s AND start_ms <= $t), $t)
            ORDER BY start_ms LIMIT 1
            """;
        command.Parameters.AddWithValue("$s", seriesId);
        command.Parameters.AddWithValue("$t", afterMs);
        if (command.ExecuteScalar() is not byte[] data)
        {
            return null;
        }

        var (ts, values) = PointCodec.Decode(data);
        for (var i = 0; i < ts.Length; i++)
        {
            if (ts[i] > afterMs)
            {
                return new RawPoint(ts[i], values[i]);
            }
        }

        return null;
    }

    /// <summary>The newest point of a series other than at <paramref name="excludeTs"/>, or null.</summary>
    public static RawPoint? Last(SqliteConnection connection, SqliteTransaction? transaction, long seriesId, long? excludeTs)
    {
        var last = LastBefore(connection, transaction, seriesId, long.MaxValue);
        if (excludeTs is { } x && last is { } l && l.Ts == x)
        {
            return LastBefore(connection, transaction, seriesId, x);
        }

        return last;
    }

    /// <summary>The time of a series' oldest point, or null.</summary>
    public static long? FirstTs(SqliteConnection connection, long seriesId)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT min(start_ms) FROM point_blocks WHERE series_id = $s";
        command.Parameters.AddWithValue("$s", seriesId);
        return command.ExecuteScalar() is long ms ? ms : null;
    }

    /// <summary>How many raw points the store holds (all series).</summary>
    public static long Count(SqliteConnection connection, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT coalesce(sum(count), 0) FROM point_blocks";
        return (long)command.ExecuteScalar()!;
    }

    /// <summary>
    /// The exact number of raw points of a series in [from, to): whole blocks count from their row,
    /// only the blocks across either end (at most two) are decoded.
    /// </summary>
    public static long Count(SqliteConnection connection, long seriesId, long fromMs, long toMs)
    {
        if (fromMs >= toMs)
        {
            return 0;
        }

        long count;
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT coalesce(sum(count), 0) FROM point_blocks WHERE series_id = $s AND start_ms >= $from AND end_ms < $to";
            command.Parameters.AddWithValue("$s", seriesId);
            command.Parameters.AddWithValue("$from", fromMs);
            command.Parameters.AddWithValue("$to", toMs);
            count = (long)command.ExecuteScalar()!;
        }

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
            count += ts.Count(t => t >= fromMs && t < toMs);
        }

        return count;
    }

    /// <summary>
    /// The raw points of several series in [from, to), merged by time: one row per distinct time with
    /// a value per series (null where that series has no point then). Each series is read a block at
    /// a time, so memory stays at a few blocks whatever the window. With <paramref name="reuseRow"/>
    /// every row is the same array (for a caller that writes a row before it asks for the next).
    /// </summary>
    public static IEnumerable<(long TsMs, double?[] Values)> MergedByTime(SqliteConnection connection, IReadOnlyList<long> seriesIds, long fromMs, long toMs, bool reuseRow)
    {
        var cursors = new IEnumerator<RawPoint>?[seriesIds.Count];
        try
        {
            for (var i = 0; i < seriesIds.Count; i++)
            {
                var points = Range(connection, null, seriesIds[i], fromMs, toMs).GetEnumerator();
                if (points.MoveNext())
                {
                    cursors[i] = points;
                }
                else
                {
                    points.Dispose();
                }
            }

            var shared = reuseRow ? new double?[cursors.Length] : null;
            while (true)
            {
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

                var values = shared ?? new double?[cursors.Length];
                for (var i = 0; i < cursors.Length; i++)
                {
                    values[i] = null;
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
