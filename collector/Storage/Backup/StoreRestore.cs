using System.Globalization;
using Microsoft.Data.Sqlite;
using NewTechPark.Edge.Collector.Storage.Export;
using NewTechPark.Edge.Collector.Storage.Schema;

namespace NewTechPark.Edge.Collector.Storage.Backup;

/// <summary>What a restore did.</summary>
public sealed record RestoreResult(string StorePath, string? KeptAs, long Bytes, int SchemaVersion);

/// <summary>
/// Puts a backup in place of the store. The caller holds the data directory's lock
/// (<c>Hosting/DataDirectoryLock</c>), so no collector runs on it. The backup is first copied
/// next to the store and checked there (integrity, a collector store, a schema version this
/// collector knows), so a bad or half-copied backup never replaces anything. The current store is
/// kept as <c>collector.db.before-restore-&lt;UTC time&gt;</c> with its WAL beside it (its
/// committed pages are in there after a crash), its shared-memory file is removed, and the checked
/// copy is renamed into place: the store is the old one or the whole backup, never a mix.
/// </summary>
public static class StoreRestore
{
    public static RestoreResult Run(string backupFile, string storePath, DateTimeOffset now)
    {
        var backup = StoreBackup.Resolve(Path.GetFullPath(backupFile));
        var store = Path.GetFullPath(storePath);
        if (!File.Exists(backup))
        {
            throw new StoreBackupException($"there is no file {backup}");
        }

        if (string.Equals(backup, StoreBackup.Resolve(store), StringComparison.Ordinal))
        {
            throw new StoreBackupException($"{backup} is the store itself: give a backup file");
        }

        var directory = Path.GetDirectoryName(store)!;
        var temp = Path.Combine(directory, $".{Path.GetFileName(store)}.restore-{Guid.NewGuid():N}.tmp");
        try
        {
            File.Copy(backup, temp);
            // A backup taken from a WAL store by copying files may come with its WAL: take it along.
            if (File.Exists(backup + "-wal"))
            {
                File.Copy(backup + "-wal", temp + "-wal");
            }

            int version;
            using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = temp, Pooling = false }.ToString()))
            {
                version = CheckBackup(connection, backup);
                // Fold any WAL into the file, so the file alone is the store that moves in.
                using var checkpoint = connection.CreateCommand();
                checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
                checkpoint.ExecuteNonQuery();
            }

            File.Delete(temp + "-wal");
            File.Delete(temp + "-shm");
            StoreBackup.Flush(temp);

            string? kept = null;
            if (File.Exists(store))
            {
                kept = $"{store}.before-restore-{now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}";
                File.Move(store, kept);
                if (File.Exists(store + "-wal"))
                {
                    // SQLite finds a database's WAL by its name: the kept file opens with its commits.
                    File.Move(store + "-wal", kept + "-wal");
                }
            }

            File.Delete(store + "-wal");
            File.Delete(store + "-shm");
            File.Delete(store + "-journal");
            File.Move(temp, store);
            return new RestoreResult(store, kept, new FileInfo(store).Length, version);
        }
        finally
        {
            StoreBackup.DeleteWithSidecars(temp);
        }
    }

    /// <summary>Integrity, the collector's tables, a schema version no newer than this collector knows (an older one is brought up to date when the collector starts on it); returns the version.</summary>
    private static int CheckBackup(SqliteConnection connection, string backup)
    {
        try
        {
            connection.Open();
            StoreBackup.Check(connection, backup);
            if (!StoreSnapshot.HasTables(connection, "series", "rollups", "batches"))
            {
                throw new StoreBackupException($"{backup} is an SQLite database but not a collector store (it lacks the tables series, rollups and batches)");
            }

            var version = SchemaLedger.Version(connection);
            if (version > StoreMigrations.Current)
            {
                throw new StoreBackupException($"{backup} has schema version {version}, but this collector knows versions up to {StoreMigrations.Current}: restore it with the collector that wrote it");
            }

            return version;
        }
        catch (SqliteException e) when (e.SqliteErrorCode is 26 or 11)
        {
            // SQLITE_NOTADB, SQLITE_CORRUPT
            throw new StoreBackupException($"{backup} is not an SQLite database, or is damaged: {e.Message}");
        }
    }
}
