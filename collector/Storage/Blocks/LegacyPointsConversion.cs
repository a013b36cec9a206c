using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace NewTechPark.Edge.Collector.Storage.Blocks;

/// <summary>
/// Moves the raw points of a store written before point blocks (one row per value in
/// <c>points</c>) into <c>point_blocks</c>, when the store opens and before any ingest. Series by
/// series, oldest first, in bounded transactions: each one inserts the blocks of a slice and deletes
/// its rows, so a kill -9 loses nothing and the next start resumes where it stopped (what is left
/// in <c>points</c> is always newer than the blocks already made). Progress goes to the log; the
/// WAL is truncated every few slices; the empty table is dropped at the end.
/// </summary>
public static class LegacyPointsConversion
{
    /// <summary>Blocks per transaction.</summary>
    public const int SliceBlocks = 64;

    /// <summary>Converts what is left; false when <paramref name="maxSlices"/> stopped it first (tests: a kill between two transactions).</summary>
    public static bool Run(SqliteConnection connection, string path, ILogger logger, int capPoints = PointBlockCache.DefaultCapPoints, int capBytes = PointBlockCache.DefaultCapBytes, int maxSlices = int.MaxValue)
    {
        if (Scalar(connection, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'points'") is not long tables || tables == 0)
        {
            return true;
        }

        var total = (long)Scalar(connection, "SELECT count(*) FROM points")!;
        if (total > 0)
        {
            logger.LogInformation("Store {Path}: moving {Total} raw points into compressed blocks before the ingest starts", path, total);
            if (!Convert(connection, path, logger, total, capPoints, capBytes, maxSlices))
            {
                return false;
            }
        }

        Execute(connection, "DROP TABLE points");
        Execute(connection, "PRAGMA wal_checkpoint(TRUNCATE)");
        return true;
    }

    private static bool Convert(SqliteConnection connection, string path, ILogger logger, long total, int capPoints, int capBytes, int maxSlices)
    {
        var watch = Stopwatch.StartNew();
        var lastLog = TimeSpan.Zero;
        var done = 0L;
        var slices = 0;
        var series = long.MinValue;
        while (Scalar(connection, "SELECT series_id FROM points WHERE series_id > $s ORDER BY series_id LIMIT 1", ("$s", series)) is long next)
        {
            series = next;
            while (true)
            {
                if (slices >= maxSlices)
                {
                    return false;
                }

                var moved = MoveSlice(connection, series, capPoints, capBytes);
                done += moved;
                if (++slices % 16 == 0)
                {
                    Execute(connection, "PRAGMA wal_checkpoint(TRUNCATE)");
                }

                if (watch.Elapsed - lastLog >= TimeSpan.FromSeconds(5))
                {
                    lastLog = watch.Elapsed;
                    logger.LogInformation("Store {Path}: {Percent:F1} % of raw points in blocks ({Done} of {Total}, {Rate:F0} values/s)",
                        path, 100.0 * done / total, done, total, done / watch.Elapsed.TotalSeconds);
                }

                if (moved < SliceBlocks * capPoints)
                {
                    break;
                }
            }
        }

        logger.LogInformation("Store {Path}: {Done} raw points moved into blocks in {Seconds:F1} s", path, done, watch.Elapsed.TotalSeconds);
        return true;
    }

    /// <summary>Moves the oldest rows of one series (at most <see cref="SliceBlocks"/> blocks) in one transaction; how many.</summary>
    private static int MoveSlice(SqliteConnection connection, long series, int capPoints, int capBytes)
    {
        using var transaction = connection.BeginTransaction();
        var ts = new List<long>();
        var values = new List<double>();
        using (var select = connection.CreateCommand())
        {
            select.Transaction = transaction;
            select.CommandText = "SELECT ts_ms, value FROM points WHERE series_id = $s ORDER BY ts_ms LIMIT $n";
            select.Parameters.AddWithValue("$s", series);
            select.Parameters.AddWithValue("$n", SliceBlocks * capPoints);
            using var reader = select.ExecuteReader();
            while (reader.Read())
            {
                ts.Add(reader.GetInt64(0));
                values.Add(reader.GetDouble(1));
            }
        }

        if (ts.Count == 0)
        {
            transaction.Commit();
            return 0;
        }

        using (var insert = connection.CreateCommand())
        {
            insert.Transaction = transaction;
            insert.CommandText = "INSERT INTO point_blocks (series_id, start_ms, end_ms, count, data) VALUES ($s, $start, $end, $count, $data)";
            var p = new[] { "$s", "$start", "$end", "$count", "$data" }.Select(n => insert.Parameters.Add(new SqliteParameter { ParameterName = n })).ToArray();
            p[0].Value = series;
            var encoder = new PointEncoder();
            var cap = capBytes;
            for (var i = 0; i <= ts.Count; i++)
            {
                if (encoder.Count > 0 && (i == ts.Count || encoder.Count >= capPoints || encoder.Length >= cap))
                {
                    var data = encoder.ToBlock(seal: true);
                    p[1].Value = encoder.FirstTs;
                    p[2].Value = encoder.LastTs;
                    p[3].Value = encoder.Count;
                    p[4].Value = data;
                    insert.ExecuteNonQuery();
                    cap = PointBlockCache.NextCapBytes(encoder.Length, data.Length, capBytes); // as the writer does
                    encoder = new PointEncoder();
                }

                if (i < ts.Count)
                {
                    encoder.Append(ts[i], values[i]);
                }
            }
        }

        using (var delete = connection.CreateCommand())
        {
            delete.Transaction = transaction;
            delete.CommandText = "DELETE FROM points WHERE series_id = $s AND ts_ms <= $last";
            delete.Parameters.AddWithValue("$s", series);
            delete.Parameters.AddWithValue("$last", ts[^1]);
            delete.ExecuteNonQuery();
        }

        transaction.Commit();
        return ts.Count;
    }

    private static object? Scalar(SqliteConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return command.ExecuteScalar();
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
