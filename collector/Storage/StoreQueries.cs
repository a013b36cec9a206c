using System.Text.Json;

namespace NewTechPark.Edge.Collector.Storage;

/// <summary>One bucket of a downsampled series.</summary>
public sealed record SeriesPoint(DateTimeOffset Ts, double Min, double Max, double Mean, long Count);

/// <summary>A series between two times, in at most the requested number of buckets.</summary>
public sealed record SeriesResult(string Sensor, string Field, string? Kind, DateTimeOffset From, DateTimeOffset To, long BucketMs, IReadOnlyList<SeriesPoint> Points);

/// <summary>What the collector knows of a device.</summary>
public sealed record DeviceRow(
    string Site,
    string Device,
    string State,
    DateTimeOffset LastSeen,
    string? Version,
    string? Boot,
    long? OutboxPending,
    IReadOnlyDictionary<string, string>? Sensors,
    ulong? LastSeq,
    long Batches);

/// <summary>Read-side queries over the store, on pooled read connections.</summary>
public sealed class StoreQueries(SqliteStore store)
{
    /// <summary>
    /// Downsamples one series to at most <paramref name="points"/> buckets of equal width, with the
    /// min, max and mean of each, so a chart shows the peaks a plain average would hide.
    /// </summary>
    public SeriesResult? Series(string site, string sensor, string field, DateTimeOffset from, DateTimeOffset to, int points)
    {
        using var connection = store.OpenReader();
        long seriesId;
        string kind;
        using (var find = connection.CreateCommand())
        {
            find.CommandText = "SELECT id, kind FROM series WHERE site = $site AND sensor = $sensor AND field = $field";
            find.Parameters.AddWithValue("$site", site);
            find.Parameters.AddWithValue("$sensor", sensor);
            find.Parameters.AddWithValue("$field", field);
            using var row = find.ExecuteReader();
            if (!row.Read())
            {
                return null;
            }

            seriesId = row.GetInt64(0);
            kind = row.GetString(1);
        }

        var fromMs = from.ToUnixTimeMilliseconds();
        var toMs = to.ToUnixTimeMilliseconds();
        var bucket = Math.Max(1, (toMs - fromMs + points - 1) / points);
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT (ts_ms - $from) / $bucket AS b, min(value), max(value), avg(value), count(*)
            FROM points WHERE series_id = $id AND ts_ms >= $from AND ts_ms < $to
            GROUP BY b ORDER BY b
            """;
        command.Parameters.AddWithValue("$id", seriesId);
        command.Parameters.AddWithValue("$from", fromMs);
        command.Parameters.AddWithValue("$to", toMs);
        command.Parameters.AddWithValue("$bucket", bucket);
        using var reader = command.ExecuteReader();
        var result = new List<SeriesPoint>();
        while (reader.Read())
        {
            result.Add(new SeriesPoint(
                DateTimeOffset.FromUnixTimeMilliseconds(fromMs + (reader.GetInt64(0) * bucket)),
                reader.GetDouble(1),
                reader.GetDouble(2),
                reader.GetDouble(3),
                reader.GetInt64(4)));
        }

        return new SeriesResult(sensor, field, kind, from, to, bucket, result);
    }

    public IReadOnlyList<DeviceRow> Devices()
    {
        using var connection = store.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT site, device, state, last_seen_ms, version, boot, outbox_pending, sensors_json, last_seq, batches FROM devices ORDER BY site, device";
        using var reader = command.ExecuteReader();
        var rows = new List<DeviceRow>();
        while (reader.Read())
        {
            rows.Add(new DeviceRow(
                reader.GetString(0),
                reader.GetString(1),
                reader.GetString(2),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)),
                reader.IsDBNull(4) ? null : reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetString(5),
                reader.IsDBNull(6) ? null : reader.GetInt64(6),
                reader.IsDBNull(7) ? null : JsonSerializer.Deserialize(reader.GetString(7), StoreJsonContext.Default.DictionaryStringString),
                reader.IsDBNull(8) ? null : unchecked((ulong)reader.GetInt64(8)),
                reader.GetInt64(9)));
        }

        return rows;
    }

    /// <summary>Counts of rows, for health and tests.</summary>
    public (long Batches, long Points, long DeadLetters) Counts()
    {
        using var connection = store.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT (SELECT count(*) FROM batches), (SELECT count(*) FROM points), (SELECT count(*) FROM dead_letters)";
        using var reader = command.ExecuteReader();
        reader.Read();
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
    }
}
