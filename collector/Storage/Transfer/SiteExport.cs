using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using NewTechPark.Edge.Collector.Storage.Backup;
using NewTechPark.Edge.Collector.Storage.Export;

namespace NewTechPark.Edge.Collector.Storage.Transfer;

/// <summary>What an export wrote.</summary>
public sealed record SiteExportResult(string Path, string Site, long Bytes, IReadOnlyList<(string Table, long Rows)> Tables, TimeSpan Elapsed);

/// <summary>
/// <c>collector sites export</c>: every row of one site in every table of the store, into a site
/// transfer file (<see cref="SiteTransferFile"/>). The store is read in one read transaction
/// (<see cref="StoreSnapshot"/>, as <c>backup</c>), so the file is one consistent moment while the
/// collector goes on writing; rows stream through (a prepared insert, 50,000 rows per transaction
/// of the file), so a year of a site takes no more memory than a day. The file is written beside
/// the target, checked (<c>integrity_check</c>, every table's count and checksum read back), flushed
/// and renamed: the target is a whole, checked file or not there.
/// </summary>
public static class SiteExport
{
    private const int RowsPerTransaction = 50_000;

    public static SiteExportResult Run(string storePath, string site, string timeZone, string target, bool overwrite, DateTimeOffset now,
        Action<string, long>? progress, CancellationToken cancellationToken)
    {
        var targetPath = Path.GetFullPath(target);
        CheckTarget(storePath, targetPath, overwrite);
        var stopwatch = Stopwatch.StartNew();
        var temp = Path.Combine(Path.GetDirectoryName(targetPath)!, $".{Path.GetFileName(targetPath)}.{Guid.NewGuid():N}.tmp");
        var written = new List<(string, long)>();
        try
        {
            using (var source = StoreSnapshot.Open(storePath, requireCurrentSchema: true))
            using (var file = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = temp, Pooling = false }.ToString()))
            {
                file.Open();
                Execute(file, "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA page_size = 4096;");
                Execute(file, SiteTransferFile.CreateSql());
                if (!HasSite(source.Connection, site))
                {
                    throw new SiteTransferException($"the store {storePath} holds nothing of site '{site}' (no series, batch, device or scan)");
                }

                var sums = new List<(string Name, long Rows, string Sha)>();
                foreach (var table in SiteTransferFile.Tables)
                {
                    var (rows, sha) = Copy(source.Connection, file, table, site, progress, cancellationToken);
                    sums.Add((table.Name, rows, sha));
                    written.Add((table.Name, rows));
                }

                Execute(file, SiteTransferFile.IndexSql);
                using (var transaction = file.BeginTransaction())
                {
                    void Put(string key, string value)
                    {
                        using var command = file.CreateCommand();
                        command.Transaction = transaction;
                        command.CommandText = "INSERT INTO transfer_manifest (key, value) VALUES ($key, $value)";
                        command.Parameters.AddWithValue("$key", key);
                        command.Parameters.AddWithValue("$value", value);
                        command.ExecuteNonQuery();
                    }

                    Put("format", SiteTransferFile.Format);
                    Put("format_version", SiteTransferFile.FormatVersion.ToString(CultureInfo.InvariantCulture));
                    Put("site", site);
                    Put("store_schema_version", source.SchemaVersion.ToString(CultureInfo.InvariantCulture));
                    Put("exported_at", now.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
                    Put("time_zone", timeZone);
                    Put("source", Path.GetFullPath(storePath));
                    foreach (var (name, rows, sha) in sums)
                    {
                        using var command = file.CreateCommand();
                        command.Transaction = transaction;
                        command.CommandText = "INSERT INTO transfer_tables (name, rows, sha256) VALUES ($name, $rows, $sha)";
                        command.Parameters.AddWithValue("$name", name);
                        command.Parameters.AddWithValue("$rows", rows);
                        command.Parameters.AddWithValue("$sha", sha);
                        command.ExecuteNonQuery();
                    }

                    transaction.Commit();
                }

                StoreBackup.Check(file, "the transfer file");
            }

            // Read back as the import will: the counts and checksums hold.
            var (check, _) = SiteTransferFile.OpenChecked(temp, cancellationToken);
            check.Dispose();
            StoreBackup.Flush(temp);
            File.Move(temp, targetPath, overwrite);
            return new SiteExportResult(targetPath, site, new FileInfo(targetPath).Length, written, stopwatch.Elapsed);
        }
        finally
        {
            StoreBackup.DeleteWithSidecars(temp);
        }
    }

    private static (long Rows, string Sha) Copy(SqliteConnection source, SqliteConnection file, TransferTable table, string site,
        Action<string, long>? progress, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var select = source.CreateCommand();
        select.CommandText = table.Select;
        select.Parameters.AddWithValue("$site", site);
        if (table.Select.Contains("$prefix", StringComparison.Ordinal))
        {
            select.Parameters.AddWithValue("$prefix", SiteTransferFile.TopicPrefix(site));
        }

        using var reader = select.ExecuteReader();
        var transaction = file.BeginTransaction();
        var insert = file.CreateCommand();
        try
        {
            insert.CommandText = SiteTransferFile.InsertSql(table);
            insert.Transaction = transaction;
            var parameters = table.Columns.Select(c => insert.Parameters.Add(new SqliteParameter { ParameterName = "$" + c })).ToArray();
            insert.Prepare();
            long rows = 0;
            while (reader.Read())
            {
                for (var i = 0; i < parameters.Length; i++)
                {
                    parameters[i].Value = reader.GetValue(i);
                }

                insert.ExecuteNonQuery();
                SiteTransferFile.Hash(hash, reader);
                if (++rows % RowsPerTransaction == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    transaction.Commit();
                    transaction.Dispose();
                    transaction = file.BeginTransaction();
                    insert.Transaction = transaction;
                    progress?.Invoke(table.Name, rows);
                }
            }

            transaction.Commit();
            progress?.Invoke(table.Name, rows);
            return (rows, Convert.ToHexStringLower(hash.GetHashAndReset()));
        }
        finally
        {
            insert.Dispose();
            transaction.Dispose();
        }
    }

    private static bool HasSite(SqliteConnection connection, string site)
    {
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT EXISTS (SELECT 1 FROM series WHERE site = $site) OR EXISTS (SELECT 1 FROM batches WHERE site = $site)
                OR EXISTS (SELECT 1 FROM devices WHERE site = $site) OR EXISTS (SELECT 1 FROM badge_scans WHERE site = $site)
            """;
        command.Parameters.AddWithValue("$site", site);
        return (long)command.ExecuteScalar()! == 1;
    }

    private static void CheckTarget(string storePath, string targetPath, bool overwrite)
    {
        if (StoreBackup.IsStoreFile(storePath, targetPath))
        {
            throw new SiteTransferException($"{targetPath} is the store's own file: write the export somewhere else");
        }

        if (Directory.Exists(targetPath))
        {
            throw new SiteTransferException($"{targetPath} is a folder: give a file name");
        }

        if (!Directory.Exists(Path.GetDirectoryName(targetPath)))
        {
            throw new SiteTransferException($"the folder of {targetPath} does not exist");
        }

        if (File.Exists(targetPath) && !overwrite)
        {
            throw new SiteTransferException($"{targetPath} exists; add --force to replace it");
        }
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
