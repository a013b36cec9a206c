using Microsoft.Extensions.Logging;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Collector.Occupancy;

/// <summary>
/// Rebuilds live occupancy at start from the door crossings stored since the last daily reset, so
/// a restarted collector (even after kill -9) shows the same counts as before.
/// </summary>
public sealed class OccupancyReplay(SqliteStore store, OccupancyEngine occupancy, ILogger logger)
{
    public void Run()
    {
        using var connection = store.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT s.sensor, p.ts_ms,
                sum(CASE WHEN s.field = $in THEN p.value ELSE 0 END),
                sum(CASE WHEN s.field = $out THEN p.value ELSE 0 END)
            FROM points p JOIN series s ON s.id = p.series_id
            WHERE s.kind = $kind AND s.field IN ($in, $out) AND p.ts_ms >= $since
            GROUP BY s.sensor, p.ts_ms
            ORDER BY p.ts_ms, s.sensor
            """;
        command.Parameters.AddWithValue("$kind", ReadingKinds.Door);
        command.Parameters.AddWithValue("$in", ReadingKinds.DoorValues.In);
        command.Parameters.AddWithValue("$out", ReadingKinds.DoorValues.Out);
        command.Parameters.AddWithValue("$since", occupancy.LastReset.ToUnixTimeMilliseconds());
        using var reader = command.ExecuteReader();
        var crossings = 0L;
        while (reader.Read())
        {
            // One row per door reading: its in and out are applied together, as the live ingest
            // does, so a count that touches zero comes out the same after a restart.
            var entered = (long)reader.GetDouble(2);
            var left = (long)reader.GetDouble(3);
            if (entered == 0 && left == 0)
            {
                continue;
            }

            var at = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1));
            occupancy.Apply(reader.GetString(0), entered, left, at, publish: false);
            crossings += entered + left;
        }

        logger.LogInformation("Occupancy rebuilt from {Crossings} crossing(s) since {Reset:u}", crossings, occupancy.LastReset);
    }
}
