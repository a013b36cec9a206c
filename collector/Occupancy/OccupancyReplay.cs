using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Collector.Occupancy;

/// <summary>
/// Rebuilds live occupancy at start from the door readings stored since the last daily reset and
/// the staff corrections made since then, in time order, so a restarted collector (even after
/// kill -9) shows the same counts as before. Each door's totals are seeded from its last reading
/// before the reset, so gaps are closed the same way as live.
/// </summary>
public sealed class OccupancyReplay(SqliteStore store, OccupancyEngine occupancy, ILogger logger)
{
    public void Run()
    {
        using var connection = store.OpenReader();
        var since = occupancy.LastReset.ToUnixTimeMilliseconds();
        foreach (var (door, ts, inTotal, outTotal) in LastTotalsBefore(connection, since))
        {
            occupancy.SeedTotals(door, DateTimeOffset.FromUnixTimeMilliseconds(ts), inTotal, outTotal);
        }

        var corrections = new Queue<(long Ts, string Room, long Count)>(Corrections(connection, occupancy.Site.Site, since));
        var crossings = 0L;
        foreach (var r in DoorReadings(connection, since, long.MaxValue))
        {
            while (corrections.TryPeek(out var c) && c.Ts <= r.Ts)
            {
                occupancy.Correct(corrections.Dequeue().Room, c.Count, DateTimeOffset.FromUnixTimeMilliseconds(c.Ts), publish: false);
            }

            // One row per door reading: its in and out are applied together, as the live ingest
            // does, so a count that touches zero comes out the same after a restart.
            occupancy.Apply(r.Door, r.In, r.Out, r.InTotal, r.OutTotal, DateTimeOffset.FromUnixTimeMilliseconds(r.Ts), publish: false);
            crossings += r.In + r.Out;
        }

        while (corrections.TryDequeue(out var c))
        {
            occupancy.Correct(c.Room, c.Count, DateTimeOffset.FromUnixTimeMilliseconds(c.Ts), publish: false);
        }

        logger.LogInformation("Occupancy rebuilt from {Crossings} crossing(s) since {Reset:u}", crossings, occupancy.LastReset);
    }

    /// <summary>Door readings in [from, to), one row per (door, time), oldest first.</summary>
    public static IEnumerable<DoorReadingRow> DoorReadings(SqliteConnection connection, long fromMs, long toMs)
    {
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT s.sensor, p.ts_ms,
                sum(CASE WHEN s.field = $in THEN p.value ELSE 0 END),
                sum(CASE WHEN s.field = $out THEN p.value ELSE 0 END),
                max(CASE WHEN s.field = $inTotal THEN p.value END),
                max(CASE WHEN s.field = $outTotal THEN p.value END)
            FROM points p JOIN series s ON s.id = p.series_id
            WHERE s.kind = $kind AND s.field IN ($in, $out, $inTotal, $outTotal) AND p.ts_ms >= $since AND p.ts_ms < $until
            GROUP BY s.sensor, p.ts_ms
            ORDER BY p.ts_ms, s.sensor
            """;
        command.Parameters.AddWithValue("$kind", ReadingKinds.Door);
        command.Parameters.AddWithValue("$in", ReadingKinds.DoorValues.In);
        command.Parameters.AddWithValue("$out", ReadingKinds.DoorValues.Out);
        command.Parameters.AddWithValue("$inTotal", ReadingKinds.DoorValues.InTotal);
        command.Parameters.AddWithValue("$outTotal", ReadingKinds.DoorValues.OutTotal);
        command.Parameters.AddWithValue("$since", fromMs);
        command.Parameters.AddWithValue("$until", toMs);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            yield return new DoorReadingRow(
                reader.GetString(0),
                reader.GetInt64(1),
                (long)reader.GetDouble(2),
                (long)reader.GetDouble(3),
                reader.IsDBNull(4) ? null : reader.GetDouble(4),
                reader.IsDBNull(5) ? null : reader.GetDouble(5));
        }
    }

    /// <summary>Each door's last totals before <paramref name="beforeMs"/>.</summary>
    public static List<(string Door, long Ts, double InTotal, double OutTotal)> LastTotalsBefore(SqliteConnection connection, long beforeMs)
    {
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT s.sensor, s.field, p.ts_ms, p.value FROM series s
            JOIN points p ON p.series_id = s.id AND p.ts_ms = (SELECT max(ts_ms) FROM points WHERE series_id = s.id AND ts_ms < $before)
            WHERE s.kind = $kind AND s.field IN ($inTotal, $outTotal)
            """;
        command.Parameters.AddWithValue("$kind", ReadingKinds.Door);
        command.Parameters.AddWithValue("$inTotal", ReadingKinds.DoorValues.InTotal);
        command.Parameters.AddWithValue("$outTotal", ReadingKinds.DoorValues.OutTotal);
        command.Parameters.AddWithValue("$before", beforeMs);
        using var reader = command.ExecuteReader();
        var totals = new Dictionary<string, (long Ts, double In, double Out)>(StringComparer.Ordinal);
        while (reader.Read())
        {
            var door = reader.GetString(0);
            var t = totals.GetValueOrDefault(door);
            t.Ts = Math.Max(t.Ts, reader.GetInt64(2));
            if (reader.GetString(1) == ReadingKinds.DoorValues.InTotal)
            {
                t.In = reader.GetDouble(3);
            }
            else
            {
                t.Out = reader.GetDouble(3);
            }

            totals[door] = t;
        }

        return totals.Select(t => (t.Key, t.Value.Ts, t.Value.In, t.Value.Out)).ToList();
    }

    /// <summary>Staff corrections from <paramref name="fromMs"/> on, oldest first.</summary>
    public static List<(long Ts, string Room, long Count)> Corrections(SqliteConnection connection, string site, long fromMs, long toMs = long.MaxValue)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT ts_ms, room, count FROM occupancy_corrections WHERE site = $site AND ts_ms >= $from AND ts_ms < $to ORDER BY ts_ms, id";
        command.Parameters.AddWithValue("$site", site);
        command.Parameters.AddWithValue("$from", fromMs);
        command.Parameters.AddWithValue("$to", toMs);
        using var reader = command.ExecuteReader();
        var list = new List<(long, string, long)>();
        while (reader.Read())
        {
            list.Add((reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2)));
        }

        return list;
    }
}

/// <summary>One door reading as stored: crossings and, when the device sends them, totals.</summary>
public readonly record struct DoorReadingRow(string Door, long Ts, long In, long Out, double? InTotal, double? OutTotal);
