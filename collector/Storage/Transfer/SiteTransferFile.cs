using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;

namespace NewTechPark.Edge.Collector.Storage.Transfer;

/// <summary>A site transfer file refused or a transfer that cannot go on; the message says which and why.</summary>
public sealed class SiteTransferException(string message) : Exception(message);

/// <summary>One table of a site's state as it is carried in a transfer file.</summary>
/// <param name="Name">The store's table (and the file's table of the same name).</param>
/// <param name="Columns">The columns carried, in the store's names.</param>
/// <param name="Select">The export's query on the store: the site's rows (<c>$site</c>, <c>$prefix</c>), in a fixed order.</param>
public sealed record TransferTable(string Name, string[] Columns, string Select);

/// <summary>
/// The site transfer file (<c>collector sites export</c>): an SQLite file that describes itself.
/// <c>transfer_manifest</c> holds the format and its version, the site, the store's schema version
/// the rows follow, the rollups' time zone and when it was made; <c>transfer_tables</c> each
/// table's row count and a SHA-256 over its rows in file order (rowid), so a damaged or edited file
/// is refused before anything is merged. The data tables have the store's names and columns and
/// hold only the site's rows (series ids are the source store's: the import remaps them by
/// (site, sensor, field)).
/// </summary>
public static class SiteTransferFile
{
    public const string Format = "ntp-site-transfer";

    public const int FormatVersion = 1;

    /// <summary>The tables carried, in the order they are written and merged.</summary>
    public static readonly IReadOnlyList<TransferTable> Tables =
    [
        new("series", ["id", "site", "sensor", "kind", "field"],
            "SELECT id, site, sensor, kind, field FROM series WHERE site = $site ORDER BY id"),
        new("point_blocks", ["series_id", "start_ms", "end_ms", "count", "data"],
            "SELECT b.series_id, b.start_ms, b.end_ms, b.count, b.data FROM series s JOIN point_blocks b ON b.series_id = s.id WHERE s.site = $site ORDER BY b.series_id, b.start_ms"),
        new("rollups", ["series_id", "res", "bucket_ms", "min", "max", "sum", "count", "inc", "resets"],
            "SELECT r.series_id, r.res, r.bucket_ms, r.min, r.max, r.sum, r.count, r.inc, r.resets FROM series s JOIN rollups r ON r.series_id = s.id WHERE s.site = $site ORDER BY r.series_id, r.res, r.bucket_ms"),
        new("counter_last", ["series_id", "ts_ms", "value"],
            "SELECT c.series_id, c.ts_ms, c.value FROM series s JOIN counter_last c ON c.series_id = s.id WHERE s.site = $site ORDER BY c.series_id"),
        new("batches", ["site", "device", "seq", "received_ms", "readings"],
            "SELECT site, device, seq, received_ms, readings FROM batches WHERE site = $site ORDER BY device, seq"),
        new("seq_gaps", ["site", "device", "from_seq", "to_seq"],
            "SELECT site, device, from_seq, to_seq FROM seq_gaps WHERE site = $site ORDER BY device, from_seq"),
        new("devices", ["site", "device", "state", "last_seen_ms", "version", "boot", "outbox_pending", "sensors_json", "last_seq", "batches", "first_seq", "readings", "outbox_dropped", "outbox_oldest_ms"],
            "SELECT site, device, state, last_seen_ms, version, boot, outbox_pending, sensors_json, last_seq, batches, first_seq, readings, outbox_dropped, outbox_oldest_ms FROM devices WHERE site = $site ORDER BY device"),
        new("badge_scans", ["site", "sensor", "ts_ms", "visitor"],
            "SELECT site, sensor, ts_ms, visitor FROM badge_scans WHERE site = $site ORDER BY sensor, ts_ms, visitor"),
        new("occupancy_corrections", ["id", "site", "room", "ts_ms", "previous", "count", "reason", "actor"],
            "SELECT id, site, room, ts_ms, previous, count, reason, actor FROM occupancy_corrections WHERE site = $site ORDER BY id"),
        new("group_visits", ["id", "site", "date", "day_ms", "programme", "target_group", "head_count", "room", "is_event", "note", "created_ms"],
            "SELECT id, site, date, day_ms, programme, target_group, head_count, room, is_event, note, created_ms FROM group_visits WHERE site = $site ORDER BY id"),
        new("experiment_sessions", ["id", "site", "name", "notes", "sensor", "started_ms", "stopped_ms", "started_by"],
            "SELECT id, site, name, notes, sensor, started_ms, stopped_ms, started_by FROM experiment_sessions WHERE site = $site ORDER BY id"),
        new("visitor_aggregates", ["site", "bucket", "start_ms", "scans", "unique_visitors", "returning_visitors"],
            "SELECT site, bucket, start_ms, scans, unique_visitors, returning_visitors FROM visitor_aggregates WHERE site = $site ORDER BY bucket, start_ms"),
        new("room_hours", ["site", "room", "hour_ms", "occupied_ms", "open_ms", "occupied_open_ms", "person_ms", "max_count", "entries"],
            "SELECT site, room, hour_ms, occupied_ms, open_ms, occupied_open_ms, person_ms, max_count, entries FROM room_hours WHERE site = $site ORDER BY room, hour_ms"),
        new("room_days", ["site", "room", "day_ms", "occupied_ms", "open_ms", "occupied_open_ms", "person_ms", "max_count", "entries"],
            "SELECT site, room, day_ms, occupied_ms, open_ms, occupied_open_ms, person_ms, max_count, entries FROM room_days WHERE site = $site ORDER BY room, day_ms"),
        new("room_history_days", ["site", "start_ms", "fingerprint", "built_ms", "aggregated"],
            "SELECT site, start_ms, fingerprint, built_ms, aggregated FROM room_history_days WHERE site = $site ORDER BY start_ms"),
        new("changed_days", ["site", "kind", "day_ms", "version"],
            "SELECT site, kind, day_ms, version FROM changed_days WHERE site = $site ORDER BY kind, day_ms"),
        new("dead_letters", ["received_ms", "topic", "rule", "reason", "payload", "payload_length"],
            "SELECT received_ms, topic, rule, reason, payload, payload_length FROM dead_letters WHERE substr(topic, 1, length($prefix)) = $prefix ORDER BY id"),
    ];

    /// <summary>The topic prefix of a site's messages (its dead letters are those under it).</summary>
    public static string TopicPrefix(string site) => $"ntp/v1/{site}/";

    /// <summary>The file's DDL: the manifest, the table list and one table per <see cref="Tables"/> entry (no types: SQLite keeps each value as it was).</summary>
    internal static string CreateSql()
    {
        var sql = new StringBuilder("""
            CREATE TABLE transfer_manifest (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE transfer_tables (name TEXT PRIMARY KEY, rows INTEGER NOT NULL, sha256 TEXT NOT NULL);

            """);
        foreach (var table in Tables)
        {
            sql.Append("CREATE TABLE ").Append(table.Name).Append(" (").Append(string.Join(", ", table.Columns)).AppendLine(");");
        }

        return sql.ToString();
    }

    /// <summary>
    /// Made after the rows are in: the import reads the file a series at a time (its blocks over a
    /// time range, its rollups). Not part of the checksums: a file without them imports the same, slower.
    /// </summary>
    internal const string IndexSql = """
        CREATE INDEX point_blocks_series ON point_blocks (series_id, start_ms);
        CREATE INDEX rollups_series ON rollups (series_id);
        CREATE INDEX counter_last_series ON counter_last (series_id);
        """;

    /// <summary>The file's query of a table, in the order the rows were written.</summary>
    internal static string ReadSql(TransferTable table) => $"SELECT {string.Join(", ", table.Columns)} FROM {table.Name} ORDER BY rowid";

    internal static string InsertSql(TransferTable table) =>
        $"INSERT INTO {table.Name} ({string.Join(", ", table.Columns)}) VALUES ({string.Join(", ", table.Columns.Select(c => "$" + c))})";

    /// <summary>Adds a row to a table's checksum: each value with its type, so 1 and 1.0 and '1' differ.</summary>
    internal static void Hash(IncrementalHash hash, SqliteDataReader row)
    {
        Span<byte> number = stackalloc byte[9];
        for (var i = 0; i < row.FieldCount; i++)
        {
            if (row.IsDBNull(i))
            {
                hash.AppendData([0]);
                continue;
            }

            switch (row.GetFieldType(i))
            {
                case var t when t == typeof(long):
                    number[0] = 1;
                    BinaryPrimitives.WriteInt64LittleEndian(number[1..], row.GetInt64(i));
                    hash.AppendData(number);
                    break;
                case var t when t == typeof(double):
                    number[0] = 2;
                    BinaryPrimitives.WriteInt64LittleEndian(number[1..], BitConverter.DoubleToInt64Bits(row.GetDouble(i)));
                    hash.AppendData(number);
                    break;
                case var t when t == typeof(string):
                    AppendBytes(hash, 3, Encoding.UTF8.GetBytes(row.GetString(i)));
                    break;
                default:
                    AppendBytes(hash, 4, (byte[])row.GetValue(i));
                    break;
            }
        }
    }

    private static void AppendBytes(IncrementalHash hash, byte type, byte[] bytes)
    {
        Span<byte> head = stackalloc byte[5];
        head[0] = type;
        BinaryPrimitives.WriteInt32LittleEndian(head[1..], bytes.Length);
        hash.AppendData(head);
        hash.AppendData(bytes);
    }

    /// <summary>What a transfer file says about itself.</summary>
    public sealed record Manifest(string Site, int SchemaVersion, DateTimeOffset ExportedAt, string TimeZone, IReadOnlyDictionary<string, (long Rows, string Sha256)> Counts);

    /// <summary>
    /// Opens a transfer file read-only and checks it whole: an SQLite file that passes
    /// <c>quick_check</c>, of this format and version, every table present with the row count and
    /// checksum its manifest gives. Throws <see cref="SiteTransferException"/> naming the problem.
    /// </summary>
    public static (SqliteConnection Connection, Manifest Manifest) OpenChecked(string path, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            throw new SiteTransferException($"there is no file {path}");
        }

        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        try
        {
            connection.Open();
            Manifest manifest;
            try
            {
                using (var check = connection.CreateCommand())
                {
                    check.CommandText = "PRAGMA quick_check(5)";
                    var findings = new List<string>();
                    using var reader = check.ExecuteReader();
                    while (reader.Read())
                    {
                        findings.Add(reader.GetString(0));
                    }

                    if (findings is not ["ok"])
                    {
                        throw new SiteTransferException($"{path} is damaged: SQLite's quick_check says {string.Join("; ", findings)}");
                    }
                }

                manifest = ReadManifest(connection, path);
                foreach (var table in Tables)
                {
                    var (rows, sha) = Checksum(connection, table, cancellationToken);
                    var expected = manifest.Counts[table.Name];
                    if (rows != expected.Rows || !string.Equals(sha, expected.Sha256, StringComparison.Ordinal))
                    {
                        throw new SiteTransferException($"{path} is damaged or was changed: table {table.Name} holds {rows:N0} rows with checksum {sha[..12]}…, its manifest says {expected.Rows:N0} rows with {expected.Sha256[..Math.Min(12, expected.Sha256.Length)]}…");
                    }
                }
            }
            catch (SqliteException e) when (e.SqliteErrorCode is 26 or 11 or 1)
            {
                // SQLITE_NOTADB, SQLITE_CORRUPT, or a table or column missing (SQLITE_ERROR)
                throw new SiteTransferException($"{path} is not a site transfer file, or is damaged: {e.Message}");
            }

            return (connection, manifest);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    internal static (long Rows, string Sha256) Checksum(SqliteConnection connection, TransferTable table, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var command = connection.CreateCommand();
        command.CommandText = ReadSql(table);
        using var reader = command.ExecuteReader();
        long rows = 0;
        while (reader.Read())
        {
            Hash(hash, reader);
            if (++rows % 65_536 == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }
        }

        return (rows, Convert.ToHexStringLower(hash.GetHashAndReset()));
    }

    private static Manifest ReadManifest(SqliteConnection connection, string path)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT key, value FROM transfer_manifest";
            using var reader = command.ExecuteReader();
            while (reader.Read() && values.Count < 64)
            {
                values[reader.GetString(0)] = reader.GetString(1);
            }
        }

        if (values.GetValueOrDefault("format") != Format)
        {
            throw new SiteTransferException($"{path} is not a site transfer file (its manifest names no format {Format})");
        }

        if (values.GetValueOrDefault("format_version") != FormatVersion.ToString(System.Globalization.CultureInfo.InvariantCulture))
        {
            throw new SiteTransferException($"{path} is a site transfer file of format version {values.GetValueOrDefault("format_version")}; this collector reads version {FormatVersion}");
        }

        if (values.GetValueOrDefault("site") is not { } site || !Contracts.Identifiers.IsSlug(site))
        {
            throw new SiteTransferException($"{path} names no valid site in its manifest");
        }

        if (!int.TryParse(values.GetValueOrDefault("store_schema_version"), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var schema))
        {
            throw new SiteTransferException($"{path} names no store schema version in its manifest");
        }

        if (!DateTimeOffset.TryParse(values.GetValueOrDefault("exported_at"), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.RoundtripKind, out var exportedAt))
        {
            throw new SiteTransferException($"{path} names no export time in its manifest");
        }

        var counts = new Dictionary<string, (long, string)>(StringComparer.Ordinal);
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT name, rows, sha256 FROM transfer_tables";
            using var reader = command.ExecuteReader();
            while (reader.Read() && counts.Count < 256)
            {
                counts[reader.GetString(0)] = (reader.GetInt64(1), reader.GetString(2));
            }
        }

        foreach (var table in Tables)
        {
            if (!counts.ContainsKey(table.Name))
            {
                throw new SiteTransferException($"{path} lacks table {table.Name} in its manifest");
            }
        }

        return new Manifest(site, schema, exportedAt, values.GetValueOrDefault("time_zone") ?? "", counts);
    }
}
