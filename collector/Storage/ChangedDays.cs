using Microsoft.Data.Sqlite;

namespace NewTechPark.Edge.Collector.Storage;

/// <summary>A day marked changed, with the version it had when read (see <see cref="ChangedDays.Clear"/>).</summary>
public readonly record struct ChangedDay(long DayMs, long Version);

/// <summary>
/// Which (site, UTC day) got new door readings, corrections or badge scans (<c>changed_days</c>),
/// so housekeeping rebuilds the derived figures of those days only. The single writer marks them in
/// the commit that stores the data, a correction in its own insert, so nothing is missed across a
/// crash. A UTC day, not a local one: the writer needs no time zone, and a reader maps it to the
/// one or two local (or occupancy) days it overlaps.
/// </summary>
public static class ChangedDays
{
    /// <summary>Door readings and staff corrections: the room history.</summary>
    public const string Door = "door";

    /// <summary>Badge scans: the visitor days.</summary>
    public const string Badge = "badge";

    public const long DayMs = 86_400_000;

    /// <summary>The start of the UTC day holding <paramref name="ms"/>.</summary>
    public static long UtcDay(long ms) => ms - (((ms % DayMs) + DayMs) % DayMs);

    internal const string MarkSql = """
        INSERT INTO changed_days (site, kind, day_ms, version) VALUES ($site, $kind, $day, 1)
        ON CONFLICT (site, kind, day_ms) DO UPDATE SET version = version + 1
        """;

    /// <summary>Marks a day on a connection inside its transaction.</summary>
    internal static void Mark(SqliteConnection connection, SqliteTransaction? transaction, string site, string kind, long dayMs)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = MarkSql;
        command.Parameters.AddWithValue("$site", site);
        command.Parameters.AddWithValue("$kind", kind);
        command.Parameters.AddWithValue("$day", dayMs);
        command.ExecuteNonQuery();
    }

    /// <summary>The days of one kind marked changed, oldest first.</summary>
    public static List<ChangedDay> Read(SqliteStore store, string site, string kind)
    {
        using var connection = store.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT day_ms, version FROM changed_days WHERE site = $site AND kind = $kind ORDER BY day_ms";
        command.Parameters.AddWithValue("$site", site);
        command.Parameters.AddWithValue("$kind", kind);
        using var reader = command.ExecuteReader();
        var list = new List<ChangedDay>();
        while (reader.Read())
        {
            list.Add(new ChangedDay(reader.GetInt64(0), reader.GetInt64(1)));
        }

        return list;
    }

    /// <summary>
    /// Removes the marks that still have the version read: a day marked again while it was rebuilt
    /// keeps its mark and is rebuilt again.
    /// </summary>
    internal static void Clear(SqliteConnection connection, SqliteTransaction transaction, string site, string kind, IEnumerable<ChangedDay> days)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "DELETE FROM changed_days WHERE site = $site AND kind = $kind AND day_ms = $day AND version = $version";
        command.Parameters.AddWithValue("$site", site);
        command.Parameters.AddWithValue("$kind", kind);
        var day = command.Parameters.Add(new SqliteParameter { ParameterName = "$day" });
        var version = command.Parameters.Add(new SqliteParameter { ParameterName = "$version" });
        foreach (var d in days)
        {
            day.Value = d.DayMs;
            version.Value = d.Version;
            command.ExecuteNonQuery();
        }
    }
}
