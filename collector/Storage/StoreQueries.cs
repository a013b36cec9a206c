using System.Text.Json;
using Microsoft.Data.Sqlite;
using NewTechPark.Edge.Collector.Storage.Blocks;
using NewTechPark.Edge.Collector.Storage.Rollups;

namespace NewTechPark.Edge.Collector.Storage;

/// <summary>One bucket of a downsampled series.</summary>
public sealed record SeriesPoint(DateTimeOffset Ts, double Min, double Max, double Mean, long Count);

/// <summary>A series between two times, in at most the requested number of buckets.</summary>
/// <remarks><see cref="Resolution"/> names what the buckets were read from: raw, minute or hour.</remarks>
public sealed record SeriesResult(string Sensor, string Field, string? Kind, DateTimeOffset From, DateTimeOffset To, long BucketMs, IReadOnlyList<SeriesPoint> Points, string Resolution);

/// <summary>One rollup bucket: min, max, sum and count of the points, and for a counter its increase and resets.</summary>
public sealed record RollupRow(long BucketMs, double Min, double Max, double Sum, long Count, double Increase, long Resets);

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
    /// Downsamples one series to at most <paramref name="points"/> buckets, with the min, max and
    /// mean of each, so a chart shows the peaks a plain average would hide. Buckets under half a
    /// minute come from the raw points and start at <paramref name="from"/>; wider buckets are whole
    /// multiples of a minute or an hour on the UTC grid (as InfluxDB's <c>GROUP BY time</c>) and
    /// are read from the hour rollups or the minute buckets (computed from the raw points where the
    /// store keeps them, <see cref="MinuteBuckets"/>), with the partial minute or hour at either end of
    /// the window read from the raw points, so every bucket holds exactly the points of
    /// [<paramref name="from"/>, <paramref name="to"/>) that fall in it. A bucket's time is the
    /// start of its grid cell (the first can start before <paramref name="from"/>).
    /// </summary>
    public SeriesResult? Series(string site, string sensor, string field, DateTimeOffset from, DateTimeOffset to, int points)
    {
        using var connection = store.OpenReader();
        if (FindSeries(connection, site, sensor, field) is not { } found)
        {
            return null;
        }

        var (seriesId, kind) = found;
        var fromMs = from.ToUnixTimeMilliseconds();
        var toMs = to.ToUnixTimeMilliseconds();
        var bucket = Math.Max(1, (toMs - fromMs + points - 1) / points);
        // From half an hour (half a minute) on, whole hours (minutes) are used: the buckets get
        // wider and fewer (never more than asked for), and the query reads one rollup row per hour.
        var resolution = bucket >= TimeBuckets.HourMs / 2 ? Resolution.Hour : bucket >= TimeBuckets.MinuteMs / 2 ? Resolution.Minute : Resolution.Raw;
        // Influx Mode=Instead: the raw points are in InfluxDB only, so minutes are the finest
        // buckets here, and the partial minute or hour at either end comes from the minute rollups.
        var raw = store.KeepsRawPoints(kind);
        if (!raw && resolution == Resolution.Raw)
        {
            resolution = Resolution.Minute;
        }

        if (resolution == Resolution.Raw)
        {
            var rawBuckets = new Dictionary<long, RollupWriter.Acc>();
            AddRaw(connection, seriesId, fromMs, toMs, fromMs, bucket, rawBuckets);
            return new SeriesResult(sensor, field, kind, from, to, bucket, ToPoints(rawBuckets, fromMs, bucket), "raw");
        }

        var unit = resolution == Resolution.Hour ? TimeBuckets.HourMs : TimeBuckets.MinuteMs;
        var width = (bucket + unit - 1) / unit * unit;
        var origin = TimeBuckets.FloorTo(fromMs, unit);
        while ((toMs - origin + width - 1) / width > points)
        {
            width += unit;
        }

        var first = origin == fromMs ? fromMs : origin + unit;
        var last = TimeBuckets.FloorTo(toMs, unit);
        var buckets = new Dictionary<long, RollupWriter.Acc>();
        if (raw && resolution == Resolution.Minute)
        {
            // Minutes are not stored while the raw points are: the window's raw points straight
            // into the buckets, except the minutes that still have a stored row (it wins).
            var stored = MinuteBuckets.Stored(connection, null, seriesId, first, last);
            foreach (var (minute, acc) in stored)
            {
                var b = (minute - origin) / width;
                buckets[b] = buckets.TryGetValue(b, out var existing) ? existing.Merge(acc) : acc;
            }

            AddRaw(connection, seriesId, fromMs, toMs, origin, width, buckets,
                stored.Count == 0 ? null : ts => ts >= first && ts < last && stored.ContainsKey(TimeBuckets.FloorTo(ts, TimeBuckets.MinuteMs)));
        }
        else if (first >= last)
        {
            AddEdge(connection, seriesId, raw, fromMs, toMs, origin, width, buckets);
        }
        else
        {
            AddEdge(connection, seriesId, raw, fromMs, first, origin, width, buckets);
            AddRollups(connection, seriesId, resolution, first, last, origin, width, buckets);
            AddEdge(connection, seriesId, raw, last, toMs, origin, width, buckets);
        }

        return new SeriesResult(sensor, field, kind, from, to, width, ToPoints(buckets, origin, width), resolution.ToString().ToLowerInvariant());
    }

    /// <summary>
    /// The rollup rows of one series and resolution in [from, to), oldest first. Minutes are the
    /// stored rows and, for the other minutes, computed from the raw points (<see cref="MinuteBuckets"/>).
    /// </summary>
    public IReadOnlyList<RollupRow> Rollups(long seriesId, Resolution resolution, long fromMs, long toMs)
    {
        using var connection = store.OpenReader();
        if (resolution == Resolution.Minute)
        {
            using var field = connection.CreateCommand();
            field.CommandText = "SELECT field FROM series WHERE id = $id";
            field.Parameters.AddWithValue("$id", seriesId);
            if (field.ExecuteScalar() is not string name)
            {
                return [];
            }

            // Whole minutes: a minute is in the window when it starts in it.
            static long Ceiling(long ms) => ms <= long.MinValue + TimeBuckets.MinuteMs || ms >= long.MaxValue - TimeBuckets.MinuteMs ? ms : TimeBuckets.FloorTo(ms - 1, TimeBuckets.MinuteMs) + TimeBuckets.MinuteMs;
            var (from, to) = (Ceiling(fromMs), Ceiling(toMs));
            if (from >= to)
            {
                return [];
            }

            return RollupRows(connection, seriesId, RollupState.IsCounter(name), resolution, from, to);
        }

        return RollupRows(connection, seriesId, isCounter: false, resolution, fromMs, toMs);
    }

    /// <summary>
    /// The rollup rows of one series in [from, to) on an open connection, oldest first: minutes from
    /// <see cref="MinuteBuckets"/> (stored rows, the rest computed from raw points; whole minutes
    /// expected), hours and longer from the stored rows (<paramref name="isCounter"/> unused then).
    /// </summary>
    internal static List<RollupRow> RollupRows(SqliteConnection connection, long seriesId, bool isCounter, Resolution resolution, long fromMs, long toMs)
    {
        if (resolution == Resolution.Minute)
        {
            return MinuteBuckets.Read(connection, seriesId, isCounter, fromMs, toMs)
                .Select(m => new RollupRow(m.Minute, m.Acc.Min, m.Acc.Max, m.Acc.Sum, m.Acc.Count, m.Acc.Inc, m.Acc.Resets)).ToList();
        }

        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT bucket_ms, min, max, sum, count, inc, resets FROM rollups
            WHERE series_id = $id AND res = $res AND bucket_ms >= $from AND bucket_ms < $to ORDER BY bucket_ms
            """;
        command.Parameters.AddWithValue("$id", seriesId);
        command.Parameters.AddWithValue("$res", (int)resolution);
        command.Parameters.AddWithValue("$from", fromMs);
        command.Parameters.AddWithValue("$to", toMs);
        using var reader = command.ExecuteReader();
        var rows = new List<RollupRow>();
        while (reader.Read())
        {
            rows.Add(new RollupRow(reader.GetInt64(0), reader.GetDouble(1), reader.GetDouble(2), reader.GetDouble(3), reader.GetInt64(4), reader.GetDouble(5), reader.GetInt64(6)));
        }

        return rows;
    }

    /// <summary>The id of a series, or null when it was never stored.</summary>
    public long? SeriesId(string site, string sensor, string field)
    {
        using var connection = store.OpenReader();
        return FindSeries(connection, site, sensor, field)?.Id;
    }

    private static (long Id, string Kind)? FindSeries(SqliteConnection connection, string site, string sensor, string field)
    {
        using var find = connection.CreateCommand();
        find.CommandText = "SELECT id, kind FROM series WHERE site = $site AND sensor = $sensor AND field = $field";
        find.Parameters.AddWithValue("$site", site);
        find.Parameters.AddWithValue("$sensor", sensor);
        find.Parameters.AddWithValue("$field", field);
        using var row = find.ExecuteReader();
        return row.Read() ? (row.GetInt64(0), row.GetString(1)) : null;
    }

    /// <summary>A partial minute or hour: from the raw points, or (raw points in InfluxDB only) from the minute rollups that start in it.</summary>
    private void AddEdge(SqliteConnection connection, long seriesId, bool raw, long fromMs, long toMs, long origin, long width, Dictionary<long, RollupWriter.Acc> buckets)
    {
        if (raw)
        {
            AddRaw(connection, seriesId, fromMs, toMs, origin, width, buckets);
        }
        else if (fromMs < toMs)
        {
            AddRollups(connection, seriesId, Resolution.Minute, TimeBuckets.FloorTo(fromMs, TimeBuckets.MinuteMs), toMs, origin, width, buckets);
        }
    }

    /// <summary>The raw points of [from, to) into their buckets (but those <paramref name="skip"/> names): an array per call, no call per point.</summary>
    private void AddRaw(SqliteConnection connection, long seriesId, long fromMs, long toMs, long origin, long width, Dictionary<long, RollupWriter.Acc> buckets,
        Func<long, bool>? skip = null)
    {
        if (fromMs >= toMs)
        {
            return;
        }

        // Buckets are counted from the one holding fromMs; at most the caller's few thousand.
        var firstBucket = (fromMs - origin) / width;
        var count = checked((int)(((toMs - 1 - origin) / width) - firstBucket + 1));
        var accs = new RollupWriter.Acc[count];
        var filled = new bool[count];
        foreach (var (ts, values) in PointReader.Blocks(connection, null, seriesId, fromMs, toMs, store.DecodedBlocks))
        {
            for (var i = 0; i < ts.Length; i++)
            {
                var t = ts[i];
                if (t < fromMs || t >= toMs || (skip is not null && skip(t)))
                {
                    continue;
                }

                var b = (int)(((t - origin) / width) - firstBucket);
                accs[b] = filled[b] ? accs[b].With(values[i]) : RollupWriter.Acc.Of(values[i]);
                filled[b] = true;
            }
        }

        for (var b = 0; b < count; b++)
        {
            if (filled[b])
            {
                var key = firstBucket + b;
                buckets[key] = buckets.TryGetValue(key, out var existing) ? existing.Merge(accs[b]) : accs[b];
            }
        }
    }

    private static void AddRollups(SqliteConnection connection, long seriesId, Resolution resolution, long fromMs, long toMs, long origin, long width, Dictionary<long, RollupWriter.Acc> buckets)
    {
        using var command = connection.CreateCommand();
        // One rollup row per output bucket (an hourly chart of a year): no grouping needed.
        var unit = resolution == Resolution.Hour ? TimeBuckets.HourMs : TimeBuckets.MinuteMs;
        command.CommandText = width == unit
            ? """
              SELECT (bucket_ms - $origin) / $width, min, max, sum, count
              FROM rollups WHERE series_id = $id AND res = $res AND bucket_ms >= $from AND bucket_ms < $to
              """
            : """
              SELECT (bucket_ms - $origin) / $width AS b, min(min), max(max), sum(sum), sum(count)
              FROM rollups WHERE series_id = $id AND res = $res AND bucket_ms >= $from AND bucket_ms < $to
              GROUP BY b
              """;
        command.Parameters.AddWithValue("$id", seriesId);
        command.Parameters.AddWithValue("$res", (int)resolution);
        command.Parameters.AddWithValue("$from", fromMs);
        command.Parameters.AddWithValue("$to", toMs);
        command.Parameters.AddWithValue("$origin", origin);
        command.Parameters.AddWithValue("$width", width);
        Merge(command, buckets);
    }

    private static void Merge(SqliteCommand command, Dictionary<long, RollupWriter.Acc> buckets)
    {
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var acc = new RollupWriter.Acc(reader.GetDouble(1), reader.GetDouble(2), reader.GetDouble(3), reader.GetInt64(4), 0, 0);
            var b = reader.GetInt64(0);
            buckets[b] = buckets.TryGetValue(b, out var existing) ? existing.Merge(acc) : acc;
        }
    }

    private static List<SeriesPoint> ToPoints(Dictionary<long, RollupWriter.Acc> buckets, long origin, long width) =>
        buckets.OrderBy(b => b.Key).Select(b => new SeriesPoint(DateTimeOffset.FromUnixTimeMilliseconds(origin + (b.Key * width)), b.Value.Min, b.Value.Max, b.Value.Sum / b.Value.Count, b.Value.Count)).ToList();

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

    /// <summary>The delivery state of every device (<see cref="DeliveryLedger"/>).</summary>
    public IReadOnlyList<DeviceDelivery> Deliveries() => DeliveryLedger.Read(store);

    /// <summary>Counts of rows, for health and tests.</summary>
    public (long Batches, long Points, long DeadLetters) Counts()
    {
        using var connection = store.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT (SELECT count(*) FROM batches), (SELECT coalesce(sum(count), 0) FROM point_blocks), (SELECT count(*) FROM dead_letters)";
        using var reader = command.ExecuteReader();
        reader.Read();
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
    }
}
