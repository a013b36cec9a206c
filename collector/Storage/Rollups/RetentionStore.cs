namespace NewTechPark.Edge.Collector.Storage.Rollups;

/// <summary>
/// The SQL of the retention: deletes raw points and rollups past their retention, series by
/// series and a day at a time, so no single delete holds SQLite's write lock for long. A second
/// writer beside the ingest (Storage/README.md: housekeeping).
/// </summary>
public sealed class RetentionStore(SqliteStore store)
{
    private const long Day = 86_400_000;

    // Blocks deleted per transaction, so no delete holds the write lock for long.
    private const int BlocksPerDelete = 256;

    /// <summary>
    /// Deletes raw points older than the cutoff; the number deleted. Whole blocks that end before it
    /// go, the block that straddles it is trimmed. The ingest writer keeps each series' newest block
    /// in memory (<see cref="Blocks.PointBlockCache"/>): every transaction that changes blocks tells
    /// it to read them again, while it still holds the write lock, so the writer's next transaction
    /// (which must wait for that lock) never writes back a block from before the purge.
    /// With <paramref name="minutesFromMs"/> (minute rollups outlast the raw points), the minutes
    /// from then on whose raw points go are first stored as rollup rows, in the same transaction
    /// as the delete, from the raw points (which then hold every point of those minutes, the
    /// writer's own rows for late points included), so no minute is lost or counted twice.
    /// </summary>
    public long PurgePoints(long cutoffMs, long? minutesFromMs = null)
    {
        using var connection = store.OpenSecondWriter();
        var series = new List<(long Id, bool Counter, long First)>();
        using (var list = connection.CreateCommand())
        {
            list.CommandText = """
                SELECT id, field, first FROM (SELECT s.id, s.field, (SELECT min(start_ms) FROM point_blocks WHERE series_id = s.id) AS first FROM series s)
                WHERE first < $cutoff
                """;
            list.Parameters.AddWithValue("$cutoff", cutoffMs);
            using var reader = list.ExecuteReader();
            while (reader.Read())
            {
                series.Add((reader.GetInt64(0), RollupState.IsCounter(reader.GetString(1)), reader.GetInt64(2)));
            }
        }

        var deleted = 0L;
        foreach (var (id, counter, first) in series)
        {
            var minutes = minutesFromMs is { } m ? new MinuteMaterialiser(id, counter, TimeBuckets.FloorTo(Math.Max(first, m), TimeBuckets.MinuteMs)) : null;
            while (true)
            {
                using var transaction = connection.BeginTransaction(); // IMMEDIATE: the newest block cannot change under it
                if (minutes is not null)
                {
                    minutes.Store(connection, transaction, cutoffMs);
                }

                using var delete = connection.CreateCommand();
                delete.Transaction = transaction;
                delete.CommandText = """
                    DELETE FROM point_blocks WHERE series_id = $id AND start_ms IN (
                        SELECT start_ms FROM point_blocks WHERE series_id = $id AND end_ms < $cutoff ORDER BY start_ms LIMIT $n)
                    RETURNING count
                    """;
                delete.Parameters.AddWithValue("$id", id);
                delete.Parameters.AddWithValue("$cutoff", cutoffMs);
                delete.Parameters.AddWithValue("$n", BlocksPerDelete);
                var blocks = 0;
                using (var reader = delete.ExecuteReader())
                {
                    while (reader.Read())
                    {
                        deleted += reader.GetInt64(0);
                        blocks++;
                    }
                }

                var trimmed = blocks < BlocksPerDelete ? TrimStraddling(connection, transaction, id, cutoffMs) : 0;
                deleted += trimmed;
                if (blocks > 0 || trimmed > 0)
                {
                    store.InvalidatePointCache();
                }

                transaction.Commit();
                if (blocks < BlocksPerDelete)
                {
                    break;
                }
            }
        }

        return deleted;
    }

    /// <summary>
    /// Stores the minute rollups of the raw points one purge transaction deletes: the minutes from
    /// the last one stored up to the end of the last block the transaction deletes (or the cutoff,
    /// when it also trims the block across it). A minute split over two deletes is stored whole by
    /// the first (its later points are still there); a counter's point before the next range is
    /// carried over, as the delete takes it.
    /// </summary>
    private sealed class MinuteMaterialiser(long id, bool counter, long fromMs)
    {
        private long _from = fromMs;
        private Blocks.RawPoint? _before;
        private bool _beforeKnown;

        public void Store(Microsoft.Data.Sqlite.SqliteConnection connection, Microsoft.Data.Sqlite.SqliteTransaction transaction, long cutoffMs)
        {
            using var find = connection.CreateCommand();
            find.Transaction = transaction;
            find.CommandText = """
                SELECT max(end_ms), count(*) FROM (
                    SELECT end_ms FROM point_blocks WHERE series_id = $id AND end_ms < $cutoff ORDER BY start_ms LIMIT $n)
                """;
            find.Parameters.AddWithValue("$id", id);
            find.Parameters.AddWithValue("$cutoff", cutoffMs);
            find.Parameters.AddWithValue("$n", BlocksPerDelete);
            long to;
            using (var reader = find.ExecuteReader())
            {
                reader.Read();
                // The cutoff is on a whole hour, so the minute after a block's end is at most the cutoff.
                to = reader.GetInt64(1) < BlocksPerDelete ? cutoffMs : TimeBuckets.FloorTo(reader.GetInt64(0), TimeBuckets.MinuteMs) + TimeBuckets.MinuteMs;
            }

            if (!_beforeKnown && counter)
            {
                // Read while every point before the first minute is still there.
                _before = Blocks.PointReader.LastBefore(connection, transaction, id, _from);
            }

            _beforeKnown = true;
            if (_from >= to)
            {
                return;
            }

            var points = Blocks.PointReader.Range(connection, transaction, id, _from, to).ToList();
            using var upsert = connection.CreateCommand();
            upsert.Transaction = transaction;
            upsert.CommandText = """
                INSERT OR REPLACE INTO rollups (series_id, res, bucket_ms, min, max, sum, count, inc, resets)
                VALUES ($s, $r, $b, $min, $max, $sum, $n, $inc, $resets)
                """;
            foreach (var name in RollupRowParameters.ParameterNames)
            {
                upsert.Parameters.Add(new Microsoft.Data.Sqlite.SqliteParameter { ParameterName = name });
            }

            foreach (var (minute, acc) in MinuteBuckets.FromPoints(points, _before, counter))
            {
                RollupRowParameters.Bind(upsert, id, Resolution.Minute, minute, acc);
                upsert.ExecuteNonQuery();
            }

            if (points.Count > 0)
            {
                _before = points[^1];
            }

            _from = to;
        }
    }

    /// <summary>Drops the points before the cutoff from the block that holds it (an open block stays open); how many.</summary>
    private static long TrimStraddling(Microsoft.Data.Sqlite.SqliteConnection connection, Microsoft.Data.Sqlite.SqliteTransaction transaction, long id, long cutoffMs)
    {
        using var find = connection.CreateCommand();
        find.Transaction = transaction;
        find.CommandText = """
            SELECT start_ms, data FROM point_blocks WHERE series_id = $id AND start_ms < $cutoff AND end_ms >= $cutoff
            """;
        find.Parameters.AddWithValue("$id", id);
        find.Parameters.AddWithValue("$cutoff", cutoffMs);
        long start;
        byte[] data;
        using (var reader = find.ExecuteReader())
        {
            if (!reader.Read())
            {
                return 0;
            }

            start = reader.GetInt64(0);
            data = (byte[])reader.GetValue(1);
        }

        var (ts, values) = Blocks.PointCodec.Decode(data);
        var keep = Array.FindIndex(ts, t => t >= cutoffMs);
        var encoder = Blocks.PointEncoder.From(ts.AsSpan(keep), values.AsSpan(keep));
        using var replace = connection.CreateCommand();
        replace.Transaction = transaction;
        replace.CommandText = """
            DELETE FROM point_blocks WHERE series_id = $id AND start_ms = $old;
            INSERT INTO point_blocks (series_id, start_ms, end_ms, count, data) VALUES ($id, $start, $end, $count, $data);
            """;
        replace.Parameters.AddWithValue("$id", id);
        replace.Parameters.AddWithValue("$old", start);
        replace.Parameters.AddWithValue("$start", encoder.FirstTs);
        replace.Parameters.AddWithValue("$end", encoder.LastTs);
        replace.Parameters.AddWithValue("$count", encoder.Count);
        replace.Parameters.AddWithValue("$data", encoder.ToBlock(seal: Blocks.PointCodec.IsSealed(data)));
        replace.ExecuteNonQuery();
        return keep;
    }

    /// <summary>Deletes the rollups of one resolution whose bucket starts before the cutoff; the number deleted.</summary>
    public long PurgeRollups(Resolution resolution, long cutoffMs) => Purge(
        "SELECT s.id, (SELECT min(bucket_ms) FROM rollups WHERE series_id = s.id AND res = $res) FROM series s",
        "DELETE FROM rollups WHERE series_id = $id AND res = $res AND bucket_ms < $until",
        (int)resolution,
        cutoffMs);

    private long Purge(string oldestSql, string deleteSql, int resolution, long cutoff)
    {
        using var connection = store.OpenSecondWriter();
        var series = new List<(long Id, long Oldest)>();
        using (var list = connection.CreateCommand())
        {
            list.CommandText = oldestSql;
            list.Parameters.AddWithValue("$res", resolution);

            using var reader = list.ExecuteReader();
            while (reader.Read())
            {
                if (!reader.IsDBNull(1) && reader.GetInt64(1) < cutoff)
                {
                    series.Add((reader.GetInt64(0), reader.GetInt64(1)));
                }
            }
        }

        var deleted = 0L;
        foreach (var (id, oldest) in series)
        {
            for (var until = Math.Min(cutoff, oldest + Day); ; until = Math.Min(cutoff, until + Day))
            {
                using var delete = connection.CreateCommand();
                delete.CommandText = deleteSql;
                delete.Parameters.AddWithValue("$id", id);
                delete.Parameters.AddWithValue("$until", until);
                delete.Parameters.AddWithValue("$res", resolution);

                deleted += delete.ExecuteNonQuery();
                if (until >= cutoff)
                {
                    break;
                }
            }
        }

        return deleted;
    }
}
