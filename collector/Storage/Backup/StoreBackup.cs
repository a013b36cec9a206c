using System.Diagnostics;
using Microsoft.Data.Sqlite;
using NewTechPark.Edge.Collector.Storage.Export;
using SQLitePCL;

namespace NewTechPark.Edge.Collector.Storage.Backup;

/// <summary>A backup or restore refused or failed for a reason the user can act on; the message says which.</summary>
public sealed class StoreBackupException(string message) : Exception(message);

/// <summary>What a backup copied.</summary>
public sealed record BackupResult(string Path, long Pages, long Bytes, TimeSpan Elapsed, int SchemaVersion);

/// <summary>
/// An online, consistent copy of the store through SQLite's backup API, while the collector goes
/// on writing. SQLite restarts a backup when another connection writes the source between two
/// steps; here the source connection holds one read transaction (<see cref="StoreSnapshot"/>) for
/// the whole copy, so in WAL mode every step reads the same snapshot and the ingest commits beside
/// it without restarting the copy (tests/Collector.Tests/DataCommands). The copy goes to a temp
/// file next to the target, passes <c>PRAGMA integrity_check</c>, is flushed to disk and then
/// renamed over the target, so the target is either the old file or a whole, checked copy.
/// </summary>
public static class StoreBackup
{
    /// <summary>Pages per backup step: 4 MiB of 4 KiB pages, a progress tick every few ms.</summary>
    public const int PagesPerStep = 1024;

    /// <summary>
    /// Copies the store at <paramref name="storePath"/> to <paramref name="target"/>.
    /// <paramref name="progress"/> gets (pages copied, pages in all) after every step.
    /// </summary>
    public static BackupResult Run(string storePath, string target, bool overwrite, Action<long, long>? progress, CancellationToken cancellationToken)
    {
        var targetPath = Path.GetFullPath(target);
        CheckTarget(storePath, targetPath, overwrite);
        var stopwatch = Stopwatch.StartNew();
        var temp = Path.Combine(Path.GetDirectoryName(targetPath)!, $".{Path.GetFileName(targetPath)}.{Guid.NewGuid():N}.tmp");
        try
        {
            long pages;
            int version;
            using (var source = StoreSnapshot.Open(storePath, requireCurrentSchema: false))
            using (var destination = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = temp, Pooling = false }.ToString()))
            {
                version = source.SchemaVersion;
                destination.Open();
                pages = Copy(source.Connection, destination, progress, cancellationToken);
                Check(destination, "the copy");
            }

            Flush(temp);
            File.Move(temp, targetPath, overwrite);
            return new BackupResult(targetPath, pages, new FileInfo(targetPath).Length, stopwatch.Elapsed, version);
        }
        finally
        {
            DeleteWithSidecars(temp);
        }
    }

    private static long Copy(SqliteConnection source, SqliteConnection destination, Action<long, long>? progress, CancellationToken cancellationToken)
    {
        var backup = raw.sqlite3_backup_init(destination.Handle, "main", source.Handle, "main")
            ?? throw new StoreBackupException($"the backup could not start: {raw.sqlite3_errmsg(destination.Handle).utf8_to_string()}");
        try
        {
            var busy = 0;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var rc = raw.sqlite3_backup_step(backup, PagesPerStep);
                var total = raw.sqlite3_backup_pagecount(backup);
                progress?.Invoke(total - raw.sqlite3_backup_remaining(backup), total);
                if (rc == raw.SQLITE_DONE)
                {
                    return total;
                }

                if (rc is raw.SQLITE_BUSY or raw.SQLITE_LOCKED)
                {
                    // Only the destination can be busy (the source is read in its own snapshot); a
                    // temp file nobody else opens is not busy for long.
                    if (++busy > 500)
                    {
                        throw new StoreBackupException("the backup's temp file stayed locked for 5 s");
                    }

                    Thread.Sleep(10);
                    continue;
                }

                if (rc != raw.SQLITE_OK)
                {
                    throw new StoreBackupException($"the backup failed (SQLite error {rc}: {raw.sqlite3_errstr(rc).utf8_to_string()})");
                }

                busy = 0;
            }
        }
        finally
        {
            raw.sqlite3_backup_finish(backup);
        }
    }

    /// <summary><c>PRAGMA integrity_check</c> on an open connection; throws with SQLite's first findings unless it says ok.</summary>
    internal static void Check(SqliteConnection connection, string what)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA integrity_check(20)";
        using var reader = command.ExecuteReader();
        var findings = new List<string>();
        while (reader.Read())
        {
            findings.Add(reader.GetString(0));
        }

        if (findings is not ["ok"])
        {
            throw new StoreBackupException($"{what} failed PRAGMA integrity_check: {string.Join("; ", findings.Take(5))}");
        }
    }

    /// <summary>Whether <paramref name="path"/> is the store file or one of its WAL, shared-memory or journal files (through symbolic links).</summary>
    public static bool IsStoreFile(string storePath, string path)
    {
        var store = Resolve(Path.GetFullPath(storePath));
        var resolved = Resolve(Path.GetFullPath(path));
        return new[] { store, store + "-wal", store + "-shm", store + "-journal" }.Contains(resolved, StringComparer.Ordinal);
    }

    private static void CheckTarget(string storePath, string targetPath, bool overwrite)
    {
        if (IsStoreFile(storePath, targetPath))
        {
            throw new StoreBackupException($"{targetPath} is the store's own file: write the backup somewhere else (another disk, ideally)");
        }

        if (Directory.Exists(targetPath))
        {
            throw new StoreBackupException($"{targetPath} is a folder: give a file name, such as {Path.Combine(targetPath, "collector-backup.db")}");
        }

        if (!Directory.Exists(Path.GetDirectoryName(targetPath)))
        {
            throw new StoreBackupException($"the folder of {targetPath} does not exist");
        }

        if (File.Exists(targetPath) && !overwrite)
        {
            throw new StoreBackupException($"{targetPath} exists; add --force to replace it");
        }
    }

    /// <summary>The file a path ends at, through symbolic links (a link to the store is the store).</summary>
    internal static string Resolve(string path)
    {
        try
        {
            return File.Exists(path) && new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true) is { } link ? Path.GetFullPath(link.FullName) : path;
        }
        catch (IOException)
        {
            return path;
        }
    }

    /// <summary>Forces a written file to the disk before it is renamed into place (a power cut then leaves the old file or the whole new one).</summary>
    internal static void Flush(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
        stream.Flush(flushToDisk: true);
    }

    internal static void DeleteWithSidecars(string path)
    {
        foreach (var file in new[] { path, path + "-wal", path + "-shm", path + "-journal" })
        {
            try
            {
                File.Delete(file);
            }
            catch (IOException)
            {
                // A temp file left behind is named as one (.….tmp) and harmless.
            }
        }
    }
}
