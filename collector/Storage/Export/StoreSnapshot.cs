using Microsoft.Data.Sqlite;
using NewTechPark.Edge.Collector.Storage.Schema;

namespace NewTechPark.Edge.Collector.Storage.Export;

/// <summary>The store file cannot be read by a command: missing, not a collector store, or of another schema version.</summary>
public sealed class StoreFileException(string message) : Exception(message);

/// <summary>
/// A read-only connection to a store file that holds one read transaction for its lifetime, so
/// everything read through it (a count and then the rows, or every page of a backup) comes from
/// one snapshot while the collector goes on writing (WAL). It never writes: no migration, no
/// checkpoint, no legacy conversion, unlike <see cref="SqliteStore"/>, which belongs to the
/// running collector. The read transaction keeps the WAL from being truncated past it, so hold
/// it no longer than the command runs.
/// </summary>
public sealed class StoreSnapshot : IDisposable
{
    private StoreSnapshot(SqliteConnection connection, string path, int version)
    {
        Connection = connection;
        FilePath = path;
        SchemaVersion = version;
    }

    public SqliteConnection Connection { get; }

    public string FilePath { get; }

    public int SchemaVersion { get; }

    /// <summary>
    /// Opens <paramref name="path"/> read-only and starts the snapshot. Refuses a missing file, a
    /// file that is not a collector store, and (when <paramref name="requireCurrentSchema"/>) one
    /// whose schema is not the one this collector writes: an older store is brought up to date
    /// when the collector opens it, a newer one belongs to a newer collector.
    /// </summary>
    public static StoreSnapshot Open(string path, bool requireCurrentSchema)
    {
        if (!File.Exists(path))
        {
            throw new StoreFileException($"there is no store at {path} (check --Collector:DataDirectory)");
        }

        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        try
        {
            connection.Open();
            using (var timeout = connection.CreateCommand())
            {
                // The collector's commits and checkpoints hold their locks for milliseconds.
                timeout.CommandText = "PRAGMA busy_timeout = 5000";
                timeout.ExecuteNonQuery();
            }

            // BEGIN as SQL, not BeginTransaction: the store's readers (PointReader, MinuteBuckets)
            // take no transaction object, and the first read below pins the snapshot.
            Execute(connection, "BEGIN DEFERRED");
            int version;
            try
            {
                version = SchemaLedger.Version(connection);
                if (!HasTables(connection, "series", "rollups", "batches"))
                {
                    throw new StoreFileException($"{path} is an SQLite file but not a collector store (it lacks the tables series, rollups and batches)");
                }
            }
            catch (SqliteException e) when (e.SqliteErrorCode is 26 or 11)
            {
                // SQLITE_NOTADB, SQLITE_CORRUPT
                throw new StoreFileException($"{path} is not an SQLite database, or is damaged: {e.Message}");
            }

            if (version > StoreMigrations.Current || (requireCurrentSchema && version != StoreMigrations.Current))
            {
                throw new StoreFileException(version > StoreMigrations.Current
                    ? $"{path} has schema version {version}, but this collector knows versions up to {StoreMigrations.Current}: use the collector that wrote it"
                    : $"{path} has schema version {version}; this collector reads version {StoreMigrations.Current}: start the collector on it once to bring it up to date");
            }

            return new StoreSnapshot(connection, path, version);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    internal static bool HasTables(SqliteConnection connection, params string[] tables)
    {
        foreach (var table in tables)
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $name";
            command.Parameters.AddWithValue("$name", table);
            if ((long)command.ExecuteScalar()! == 0)
            {
                return false;
            }
        }

        return true;
    }

    internal static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public void Dispose()
    {
        try
        {
            Execute(Connection, "ROLLBACK");
        }
        catch (SqliteException)
        {
            // Nothing to end: the connection goes anyway.
        }

        Connection.Dispose();
    }
}
