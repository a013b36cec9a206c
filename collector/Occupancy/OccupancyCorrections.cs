using NewTechPark.Edge.Collector.Storage;

namespace NewTechPark.Edge.Collector.Occupancy;

/// <summary>A staff correction as the audit trail keeps it.</summary>
public sealed record OccupancyCorrection(long Id, string Room, DateTimeOffset Ts, long Previous, long Count, string Reason, string Actor);

/// <summary>
/// Staff corrections of a room's count: applied to live occupancy at once, stored with who, when,
/// the count replaced and the reason (the audit trail), and replayed after a restart and when the
/// room history is rebuilt.
/// </summary>
public sealed class OccupancyCorrections(SqliteStore store, OccupancyEngine occupancy, TimeProvider clock)
{
    /// <summary>Applies and records a correction; null when the room is unknown.</summary>
    public OccupancyCorrection? Correct(string room, long count, string reason, string actor)
    {
        var at = clock.GetUtcNow();
        if (occupancy.Correct(room, count, at) is not { } previous)
        {
            return null;
        }

        using var connection = store.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO occupancy_corrections (site, room, ts_ms, previous, count, reason, actor)
            VALUES ($site, $room, $ts, $previous, $count, $reason, $actor) RETURNING id
            """;
        command.Parameters.AddWithValue("$site", occupancy.Site.Site);
        command.Parameters.AddWithValue("$room", room);
        command.Parameters.AddWithValue("$ts", at.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$previous", previous);
        command.Parameters.AddWithValue("$count", count);
        command.Parameters.AddWithValue("$reason", reason);
        command.Parameters.AddWithValue("$actor", actor);
        var id = (long)command.ExecuteScalar()!;
        return new OccupancyCorrection(id, room, at, previous, count, reason, actor);
    }

    /// <summary>The audit trail in [from, to), oldest first.</summary>
    public IReadOnlyList<OccupancyCorrection> List(DateTimeOffset from, DateTimeOffset to, string? room = null)
    {
        using var connection = store.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT id, room, ts_ms, previous, count, reason, actor FROM occupancy_corrections
            WHERE site = $site AND ts_ms >= $from AND ts_ms < $to AND ($room IS NULL OR room = $room) ORDER BY ts_ms, id
            """;
        command.Parameters.AddWithValue("$site", occupancy.Site.Site);
        command.Parameters.AddWithValue("$from", from.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$to", to.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$room", (object?)room ?? DBNull.Value);
        using var reader = command.ExecuteReader();
        var list = new List<OccupancyCorrection>();
        while (reader.Read())
        {
            list.Add(new OccupancyCorrection(reader.GetInt64(0), reader.GetString(1), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)),
                reader.GetInt64(3), reader.GetInt64(4), reader.GetString(5), reader.GetString(6)));
        }

        return list;
    }
}
