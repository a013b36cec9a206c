namespace NewTechPark.Edge.Collector.Storage.Rollups;

/// <summary>
/// The SQL of the retention: deletes raw points and rollups past their retention, series by
/// series and a day at a time, so no single delete holds SQLite's write lock for long. A second
/// writer beside the ingest (Storage/README.md: housekeeping).
/// </summary>
public sealed class RetentionStore(SqliteStore store)
{
    private const long Day = 86_400_000;

    /// <summary>Deletes raw points older than the cutoff; the number deleted.</summary>
    public long PurgePoints(long cutoffMs) => Purge(
        "SELECT s.id, (SELECT min(ts_ms) FROM points WHERE series_id = s.id) FROM series s",
        "DELETE FROM points WHERE series_id = $id AND ts_ms < $until",
        resolution: null,
        cutoffMs);

    /// <summary>Deletes the rollups of one resolution whose bucket starts before the cutoff; the number deleted.</summary>
    public long PurgeRollups(Resolution resolution, long cutoffMs) => Purge(
        "SELECT s.id, (SELECT min(bucket_ms) FROM rollups WHERE series_id = s.id AND res = $res) FROM series s",
        "DELETE FROM rollups WHERE series_id = $id AND res = $res AND bucket_ms < $until",
        (int)resolution,
        cutoffMs);

    private long Purge(string oldestSql, string deleteSql, int? resolution, long cutoff)
    {
        using var connection = store.OpenSecondWriter();
        var series = new List<(long Id, long Oldest)>();
        using (var list = connection.CreateCommand())
        {
            list.CommandText = oldestSql;
            if (resolution is { } r)
            {
                list.Parameters.AddWithValue("$res", r);
            }

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
                if (resolution is { } r)
                {
                    delete.Parameters.AddWithValue("$res", r);
                }

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
