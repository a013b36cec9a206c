using Microsoft.Data.Sqlite;
using NewTechPark.Edge.Collector.Storage.Schema;

namespace NewTechPark.Edge.Collector.Storage;

/// <summary>When a device was last heard from (<c>devices.last_seen_ms</c>: the collector's clock when a batch or status arrived).</summary>
public sealed record DeviceSeen(string Device, string State, DateTimeOffset LastSeen);

/// <summary>
/// A read-only look into a store file for the command line (<c>collector doctor</c>,
/// <c>collector devices list</c>), beside a running collector or without one. It opens the file
/// read-only and never migrates it (unlike <see cref="SqliteStore"/>), so a check changes nothing
/// and a store of an older or newer collector can still be looked at.
/// </summary>
public sealed class StoreInspection : IDisposable
{
    /// <summary>Integrity messages kept at most: a damaged store can have millions.</summary>
    public const int MaxProblems = 20;

    private readonly SqliteConnection _connection;

    private StoreInspection(SqliteConnection connection) => _connection = connection;

    /// <summary>The store file of a data directory.</summary>
    public static string FileOf(string dataDirectory) => Path.Combine(dataDirectory, "collector.db");

    /// <summary>Opens the file read-only; null when there is no such file (a collector that never started).</summary>
    public static StoreInspection? Open(string file)
    {
        if (!File.Exists(file))
        {
            return null;
        }

        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = file, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        try
        {
            connection.Open();
            return new StoreInspection(connection);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>The migration the file is at (<c>PRAGMA user_version</c>), beside <see cref="StoreMigrations.Current"/>.</summary>
    public int SchemaVersion() => SchemaLedger.Version(_connection);

    /// <summary>
    /// <c>PRAGMA quick_check</c> (the b-trees and records; seconds on a large store), or with
    /// <paramref name="full"/> <c>PRAGMA integrity_check</c> (also every index against its table;
    /// minutes). Empty when the store is sound.
    /// </summary>
    public IReadOnlyList<string> Check(bool full)
    {
        using var command = _connection.CreateCommand();
        // A PRAGMA takes no bound parameter (and its table-valued form reads the number as a table name): the limit is MaxProblems, written out.
        command.CommandText = full ? "PRAGMA integrity_check(20)" : "PRAGMA quick_check(20)";
        command.CommandTimeout = 0;
        using var reader = command.ExecuteReader();
        var problems = new List<string>();
        while (reader.Read() && problems.Count < MaxProblems)
        {
            var line = reader.GetString(0);
            if (line != "ok")
            {
                problems.Add(line);
            }
        }

        return problems;
    }

    /// <summary>Every device of <paramref name="site"/> the store has heard from.</summary>
    public IReadOnlyList<DeviceSeen> Devices(string site)
    {
        if (!HasTable("devices"))
        {
            return [];
        }

        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT device, state, last_seen_ms FROM devices WHERE site = $site ORDER BY device";
        command.Parameters.AddWithValue("$site", site);
        using var reader = command.ExecuteReader();
        var rows = new List<DeviceSeen>();
        while (reader.Read())
        {
            rows.Add(new DeviceSeen(reader.GetString(0), reader.GetString(1), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2))));
        }

        return rows;
    }

    /// <summary>
    /// The time of the newest raw point of any series (the reading's own time, from the device's
    /// clock): the newest block of each series on the primary key, not a scan of every block.
    /// </summary>
    public DateTimeOffset? NewestReading()
    {
        if (!HasTable("point_blocks") || !HasTable("series"))
        {
            return null;
        }

        using var command = _connection.CreateCommand();
        command.CommandText = """
            SELECT max((SELECT end_ms FROM point_blocks WHERE series_id = s.id ORDER BY start_ms DESC LIMIT 1)) FROM series s
            """;
        return command.ExecuteScalar() is long ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;
    }

    /// <summary>When the newest message arrived (the collector's clock then).</summary>
    public DateTimeOffset? NewestArrival()
    {
        if (!HasTable("devices"))
        {
            return null;
        }

        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT max(last_seen_ms) FROM devices";
        return command.ExecuteScalar() is long ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;
    }

    private bool HasTable(string table)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $table";
        command.Parameters.AddWithValue("$table", table);
        return (long)command.ExecuteScalar()! > 0;
    }

    public void Dispose() => _connection.Dispose();
}
