using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using NewTechPark.Edge.Collector.Storage.Blocks;
using NewTechPark.Edge.Collector.Storage.Rollups;
using NewTechPark.Edge.Collector.Storage.Schema;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Collector.Storage.Transfer;

/// <summary>Rows of one table that an import added, and those it skipped because the store held them already.</summary>
public sealed record TableMerge(string Table, long Added, long Skipped);

/// <summary>What an import did.</summary>
/// <param name="TailPoints">Raw points the store held of the site that the file lacks (the new owner's live data): kept, written after the file's.</param>
/// <param name="DuplicatePoints">Raw points the store held that the file holds too (the overlap of the move): stored once.</param>
/// <param name="ConflictingPoints">Points at a (series, time) where store and file disagree: the file's value is kept.</param>
public sealed record SiteImportResult(string Site, IReadOnlyList<TableMerge> Tables, long TailPoints, long DuplicatePoints, long ConflictingPoints,
    int DoorDaysMarked, int BadgeDaysMarked, TimeSpan Elapsed);

/// <summary>
/// <c>collector sites import</c>: merges a site transfer file into the store, with no collector
/// running on it (the caller holds the data directory's lock). Nothing is counted twice, however
/// often it runs and whatever of the same data the store already holds:
/// <list type="bullet">
/// <item>ledger rows by their keys: batches by (site, device, seq), badge scans by (site, sensor, time,
/// pseudonym), corrections, group visits, sessions and dead letters by all their columns; the
/// devices' counters grow by the batches added only, and the seq gaps are rebuilt from the merged
/// batch ledger;</item>
/// <item>raw points by (series, time), series remapped by (site, sensor, field): per series, in one
/// transaction, the store's points the file lacks (the new owner's live tail) are set aside, the
/// series' blocks and the rollups its raw points fed are replaced by the file's (the file's rollups
/// also hold what the old owner's retention already purged from raw), and the set-aside points are
/// written again through the ingest's own writers (<see cref="PointBlockWriter"/>,
/// <see cref="RollupWriter"/>), exactly as late or new data arriving live: a counter's increase
/// across the seam is booked once;</item>
/// <item>derived figures: the room history of every day with door readings or corrections, and the
/// visitor days of every day with scans, are marked changed (<c>changed_days</c>): the collector
/// rebuilds them after its start; the file's room history rows fill only days the store lacks
/// (days whose door readings the old owner's retention purged).</item>
/// </list>
/// Each series and each 50,000 ledger rows is its own transaction: an import cut short (kill, disk
/// full) leaves whole steps, and running it again finishes it with the same result.
/// </summary>
public static class SiteImport
{
    private const int RowsPerTransaction = 50_000;
    private const int TailChunk = 100_000;

    /// <summary>Most series a file may bring (the store's own cap, <c>Collector:SeriesLimits:MaxSeries</c>, is 50,000 by default).</summary>
    public const int MaxSeries = 100_000;

    public static SiteImportResult Run(string file, string expectedSite, string storePath, TimeZoneInfo zone, string zoneId,
        Action<string>? progress, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        var (source, manifest) = SiteTransferFile.OpenChecked(Path.GetFullPath(file), cancellationToken);
        using (source)
        {
            if (!string.Equals(manifest.Site, expectedSite, StringComparison.Ordinal))
            {
                throw new SiteTransferException($"{file} holds site '{manifest.Site}', not '{expectedSite}': wrong site, refused");
            }

            if (manifest.SchemaVersion != StoreMigrations.Current)
            {
                throw new SiteTransferException($"{file} was exported from a store of schema version {manifest.SchemaVersion}; this collector writes version {StoreMigrations.Current}: import it with a collector of the same version");
            }

            if (manifest.TimeZone.Length > 0 && !string.Equals(manifest.TimeZone, zoneId, StringComparison.Ordinal))
            {
                throw new SiteTransferException($"{file} holds rollups in time zone {manifest.TimeZone}; this collector's store keeps {zoneId}: its day, month and year buckets would not line up");
            }

            try
            {
                return Merge(storePath, zone, manifest, source, progress, stopwatch, cancellationToken);
            }
            catch (InvalidCastException e)
            {
                // The checksums hold, so the file was made so: a value of the wrong type (a number where a name belongs).
                throw new SiteTransferException($"{file} holds a value of the wrong type for its table ({e.Message}); the steps merged before it stay (each is whole)");
            }
        }
    }

    private static SiteImportResult Merge(string storePath, TimeZoneInfo zone, SiteTransferFile.Manifest manifest, SqliteConnection source,
        Action<string>? progress, Stopwatch stopwatch, CancellationToken cancellationToken)
    {
        // The store's schema brought up to date (or made, for a new owner), as the collector does when it starts.
        new SqliteStore(storePath, NullLogger<SqliteStore>.Instance, zone).Dispose();
        using var target = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = storePath, Pooling = false }.ToString());
        target.Open();
        Execute(target, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;");
        WalCheckpointer.LimitJournal(target);
        Execute(target, "CREATE TEMP TABLE IF NOT EXISTS transfer_tail (ts_ms INTEGER PRIMARY KEY, value REAL NOT NULL)");

        var run = new ImportRun(source, target, manifest.Site, new RollupState(new TimeBuckets(zone)) { MayHoldCoveredMinuteRows = true }, progress, cancellationToken);
        run.Points();
        run.Ledger();
        run.MarkDays();
        Execute(target, "PRAGMA wal_checkpoint(TRUNCATE)");
        return new SiteImportResult(manifest.Site, run.Merges, run.Tail, run.Duplicates, run.Conflicts, run.DoorDays.Count, run.BadgeDays.Count, stopwatch.Elapsed);
    }

    /// <summary>A name from the file as it may be shown: control characters as '?', at most 64 characters.</summary>
    private static string Shown(string value)
    {
        var cut = value.Length > 64 ? value[..64] + "…" : value;
        return string.Create(cut.Length, cut, (span, text) =>
        {
            for (var i = 0; i < text.Length; i++)
            {
                span[i] = char.IsControl(text[i]) ? '?' : text[i];
            }
        });
    }

    private static void Execute(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private sealed class ImportRun(SqliteConnection source, SqliteConnection target, string site, RollupState rollups, Action<string>? progress, CancellationToken cancellationToken)
    {
        public List<TableMerge> Merges { get; } = [];

        public HashSet<long> DoorDays { get; } = [];

        public HashSet<long> BadgeDays { get; } = [];

        public long Tail { get; private set; }

        public long Duplicates { get; private set; }

        public long Conflicts { get; private set; }

        private readonly Dictionary<string, (long Batches, long Readings)> _addedPerDevice = new(StringComparer.Ordinal);

        /// <summary>Every series of the file: blocks, rollups, counters' last points, merged with what the store holds.</summary>
        public void Points()
        {
            var series = new List<(long FileId, string Sensor, string Kind, string Field)>();
            using (var command = source.CreateCommand())
            {
                command.CommandText = "SELECT id, site, sensor, kind, field FROM series ORDER BY rowid";
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    if (reader.GetString(1) != site)
                    {
                        throw new SiteTransferException($"the file's series {reader.GetInt64(0)} belongs to site '{reader.GetString(1)}', not '{site}'");
                    }

                    // The file is checked whole, but it may have been made by hand: its names pass the contract's rules or nothing is merged.
                    var (sensor, kind, field) = (reader.GetString(2), reader.GetString(3), reader.GetString(4));
                    if (!Contracts.Identifiers.IsSlug(sensor) || !Contracts.Identifiers.IsSlug(kind) || !Contracts.Identifiers.IsValueName(field))
                    {
                        throw new SiteTransferException($"the file's series {reader.GetInt64(0)} is not a valid sensor, kind and value name ({Shown(sensor)}/{Shown(field)})");
                    }

                    if (series.Count == MaxSeries)
                    {
                        throw new SiteTransferException($"the file holds more than {MaxSeries:N0} series; a site has a few hundred");
                    }

                    series.Add((reader.GetInt64(0), reader.GetString(2), reader.GetString(3), reader.GetString(4)));
                }
            }

            long added = 0, skipped = 0, blocks = 0, rollupRows = 0;
            var done = 0;
            foreach (var (fileId, sensor, kind, field) in series)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var transaction = target.BeginTransaction();
                var (targetId, created) = SeriesId(transaction, sensor, kind, field);
                if (created)
                {
                    added++;
                }
                else
                {
                    skipped++;
                }

                var (b, r) = MergeSeries(transaction, fileId, targetId, field, kind == ReadingKinds.Door);
                transaction.Commit();
                blocks += b;
                rollupRows += r;
                if (++done % 10 == 0 || done == series.Count)
                {
                    progress?.Invoke($"series {done}/{series.Count}");
                }
            }

            Merges.Add(new("series", added, skipped));
            Merges.Add(new("point_blocks (written)", blocks, 0));
            Merges.Add(new("rollups (written)", rollupRows, 0));
        }

        private (long Id, bool Created) SeriesId(SqliteTransaction transaction, string sensor, string kind, string field)
        {
            using var find = target.CreateCommand();
            find.Transaction = transaction;
            find.CommandText = "SELECT id FROM series WHERE site = $site AND sensor = $sensor AND field = $field";
            find.Parameters.AddWithValue("$site", site);
            find.Parameters.AddWithValue("$sensor", sensor);
            find.Parameters.AddWithValue("$field", field);
            if (find.ExecuteScalar() is long id)
            {
                return (id, false);
            }

            using var insert = target.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = "INSERT INTO series (site, sensor, kind, field) VALUES ($site, $sensor, $kind, $field) RETURNING id";
            insert.Parameters.AddWithValue("$site", site);
            insert.Parameters.AddWithValue("$sensor", sensor);
            insert.Parameters.AddWithValue("$kind", kind);
            insert.Parameters.AddWithValue("$field", field);
            return ((long)insert.ExecuteScalar()!, true);
        }

        /// <summary>One series, in the caller's transaction; returns the blocks and rollup rows taken from the file.</summary>
        private (long Blocks, long Rollups) MergeSeries(SqliteTransaction transaction, long fileId, long targetId, string field, bool door)
        {
            Execute(target, "DELETE FROM temp.transfer_tail", transaction);
            var (fileFirst, fileLast) = FileRange(fileId);
            var targetFirst = SetAsideTail(transaction, fileId, targetId, fileFirst, fileLast);

            // The store's raw points of the series are now the file's plus the tail set aside: replace
            // the blocks, and the rollups those raw points fed (from the bucket of the first on).
            using (var delete = target.CreateCommand())
            {
                delete.Transaction = transaction;
                delete.CommandText = "DELETE FROM point_blocks WHERE series_id = $id";
                delete.Parameters.AddWithValue("$id", targetId);
                delete.ExecuteNonQuery();
                if (targetFirst is { } first)
                {
                    delete.CommandText = "DELETE FROM rollups WHERE series_id = $id AND res = $res AND bucket_ms >= $from";
                    var res = delete.Parameters.Add(new SqliteParameter { ParameterName = "$res" });
                    var from = delete.Parameters.Add(new SqliteParameter { ParameterName = "$from" });
                    foreach (var level in RollupState.Levels)
                    {
                        res.Value = (int)level;
                        from.Value = rollups.Buckets.Floor(level, first);
                        delete.ExecuteNonQuery();
                    }
                }
            }

            var blocks = CopyRows(transaction, "SELECT series_id, start_ms, end_ms, count, data FROM point_blocks WHERE series_id = $file ORDER BY start_ms", fileId, targetId,
                "INSERT INTO point_blocks (series_id, start_ms, end_ms, count, data) VALUES ($id, $c1, $c2, $c3, $c4)", 5, door ? DoorBlockDays : null);
            var rows = CopyRows(transaction, "SELECT series_id, res, bucket_ms, min, max, sum, count, inc, resets FROM rollups WHERE series_id = $file ORDER BY rowid", fileId, targetId,
                "INSERT OR REPLACE INTO rollups (series_id, res, bucket_ms, min, max, sum, count, inc, resets) VALUES ($id, $c1, $c2, $c3, $c4, $c5, $c6, $c7, $c8)", 9, null);
            CopyRows(transaction, "SELECT series_id, ts_ms, value FROM counter_last WHERE series_id = $file", fileId, targetId,
                "INSERT INTO counter_last (series_id, ts_ms, value) VALUES ($id, $c1, $c2) ON CONFLICT (series_id) DO UPDATE SET ts_ms = excluded.ts_ms, value = excluded.value WHERE excluded.ts_ms > counter_last.ts_ms", 3, null);
            rollups.LastCounterPoint.Remove(targetId);
            WriteTail(transaction, targetId, field, door);
            return (blocks, rows);
        }

        private void DoorBlockDays(SqliteDataReader block)
        {
            for (var day = ChangedDays.UtcDay(block.GetInt64(1)); day <= block.GetInt64(2); day += ChangedDays.DayMs)
            {
                DoorDays.Add(day);
            }
        }

        private (long? First, long? Last) FileRange(long fileId)
        {
            using var command = source.CreateCommand();
            command.CommandText = "SELECT min(start_ms), max(end_ms) FROM point_blocks WHERE series_id = $id";
            command.Parameters.AddWithValue("$id", fileId);
            using var reader = command.ExecuteReader();
            reader.Read();
            return reader.IsDBNull(0) ? (null, null) : (reader.GetInt64(0), reader.GetInt64(1));
        }

        /// <summary>
        /// Puts the store's points of the series that the file lacks into <c>temp.transfer_tail</c>;
        /// returns the store's first raw point of the series (null: none). A block the file holds
        /// byte for byte (an earlier import of the same data) is skipped undecoded; others are walked
        /// beside the file's points of their span, both in time order, so memory stays a block.
        /// </summary>
        private long? SetAsideTail(SqliteTransaction transaction, long fileId, long targetId, long? fileFirst, long? fileLast)
        {
            long? first = null;
            using var stash = target.CreateCommand();
            stash.Transaction = transaction;
            stash.CommandText = "INSERT INTO temp.transfer_tail (ts_ms, value) VALUES ($t, $v)";
            var t = stash.Parameters.Add(new SqliteParameter { ParameterName = "$t" });
            var v = stash.Parameters.Add(new SqliteParameter { ParameterName = "$v" });
            using var same = source.CreateCommand();
            same.CommandText = "SELECT EXISTS (SELECT 1 FROM point_blocks WHERE series_id = $id AND start_ms = $start AND end_ms = $end AND data = $data)";
            var sameId = same.Parameters.AddWithValue("$id", fileId);
            var sameStart = same.Parameters.Add(new SqliteParameter { ParameterName = "$start" });
            var sameEnd = same.Parameters.Add(new SqliteParameter { ParameterName = "$end" });
            var sameData = same.Parameters.Add(new SqliteParameter { ParameterName = "$data" });

            using var blocks = target.CreateCommand();
            blocks.Transaction = transaction;
            blocks.CommandText = "SELECT start_ms, end_ms, data FROM point_blocks WHERE series_id = $id ORDER BY start_ms";
            blocks.Parameters.AddWithValue("$id", targetId);
            using var reader = blocks.ExecuteReader();
            while (reader.Read())
            {
                var (start, end, data) = (reader.GetInt64(0), reader.GetInt64(1), (byte[])reader.GetValue(2));
                first ??= start;
                if (fileFirst is not null)
                {
                    (sameStart.Value, sameEnd.Value, sameData.Value) = (start, end, data);
                    if ((long)same.ExecuteScalar()! == 1)
                    {
                        Duplicates += PointCodec.Decode(data).Ts.Length;
                        continue;
                    }
                }

                var (times, values) = PointCodec.Decode(data);
                using var fileSide = (fileFirst is null || end < fileFirst || start > fileLast
                    ? Enumerable.Empty<RawPoint>()
                    : PointReader.Range(source, null, fileId, start, end + 1)).GetEnumerator();
                var hasFile = fileSide.MoveNext();
                for (var i = 0; i < times.Length; i++)
                {
                    while (hasFile && fileSide.Current.Ts < times[i])
                    {
                        hasFile = fileSide.MoveNext();
                    }

                    if (hasFile && fileSide.Current.Ts == times[i])
                    {
                        if (BitConverter.DoubleToInt64Bits(fileSide.Current.Value) == BitConverter.DoubleToInt64Bits(values[i]))
                        {
                            Duplicates++;
                        }
                        else
                        {
                            Conflicts++;
                        }

                        continue;
                    }

                    (t.Value, v.Value) = (times[i], values[i]);
                    stash.ExecuteNonQuery();
                    Tail++;
                }
            }

            return first;
        }

        /// <summary>The tail set aside, written again through the ingest's writers, a chunk at a time.</summary>
        private void WriteTail(SqliteTransaction transaction, long targetId, string field, bool door)
        {
            var after = long.MinValue;
            using var read = target.CreateCommand();
            read.Transaction = transaction;
            read.CommandText = "SELECT ts_ms, value FROM temp.transfer_tail WHERE ts_ms > $after ORDER BY ts_ms LIMIT $limit";
            var afterParameter = read.Parameters.AddWithValue("$after", after);
            read.Parameters.AddWithValue("$limit", TailChunk);
            var cache = new PointBlockCache();
            while (true)
            {
                afterParameter.Value = after;
                var chunk = new List<(long Ts, double Value)>();
                using (var reader = read.ExecuteReader())
                {
                    while (reader.Read())
                    {
                        chunk.Add((reader.GetInt64(0), reader.GetDouble(1)));
                    }
                }

                if (chunk.Count == 0)
                {
                    return;
                }

                using (var points = new PointBlockWriter(target, transaction, cache))
                using (var writer = new RollupWriter(target, transaction, rollups, points))
                {
                    foreach (var (ts, value) in chunk)
                    {
                        writer.Add(targetId, field, ts, value, points.Write(targetId, ts, value));
                        if (door)
                        {
                            DoorDays.Add(ChangedDays.UtcDay(ts));
                        }
                    }

                    points.Flush();
                    writer.Flush();
                }

                after = chunk[^1].Ts;
            }
        }

        /// <summary>Copies one series' rows of a file table with the series id remapped; returns the rows written.</summary>
        private long CopyRows(SqliteTransaction transaction, string select, long fileId, long targetId, string insertSql, int columns, Action<SqliteDataReader>? each)
        {
            using var read = source.CreateCommand();
            read.CommandText = select;
            read.Parameters.AddWithValue("$file", fileId);
            using var insert = target.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = insertSql;
            insert.Parameters.AddWithValue("$id", targetId);
            var parameters = Enumerable.Range(1, columns - 1).Select(i => insert.Parameters.Add(new SqliteParameter { ParameterName = $"$c{i}" })).ToArray();
            insert.Prepare();
            long rows = 0;
            using var reader = read.ExecuteReader();
            while (reader.Read())
            {
                for (var i = 0; i < parameters.Length; i++)
                {
                    parameters[i].Value = reader.GetValue(i + 1);
                }

                rows += insert.ExecuteNonQuery();
                each?.Invoke(reader);
            }

            return rows;
        }

        /// <summary>The tables keyed by site: each row added unless the store holds it.</summary>
        public void Ledger()
        {
            Merge("batches", "INSERT OR IGNORE INTO batches (site, device, seq, received_ms, readings) VALUES ($site, $device, $seq, $received_ms, $readings)",
                (row, added) =>
                {
                    if (added)
                    {
                        var device = row.GetString(1);
                        var (b, r) = _addedPerDevice.GetValueOrDefault(device);
                        _addedPerDevice[device] = (b + 1, r + row.GetInt64(4));
                    }
                });
            // A device the store did not know comes as it was; one it knew keeps its own counts plus
            // the batches this import added, and the newer status of the two.
            Merge("devices", """
                INSERT INTO devices (site, device, state, last_seen_ms, version, boot, outbox_pending, sensors_json, last_seq, batches, first_seq, readings, outbox_dropped, outbox_oldest_ms)
                VALUES ($site, $device, $state, $last_seen_ms, $version, $boot, $outbox_pending, $sensors_json, $last_seq, $batches, $first_seq, $readings, $outbox_dropped, $outbox_oldest_ms)
                ON CONFLICT (site, device) DO UPDATE SET
                    batches = devices.batches + $added_batches, readings = devices.readings + $added_readings,
                    first_seq = min(coalesce(devices.first_seq, excluded.first_seq), coalesce(excluded.first_seq, devices.first_seq)),
                    last_seq = max(coalesce(devices.last_seq, excluded.last_seq), coalesce(excluded.last_seq, devices.last_seq)),
                    state = CASE WHEN excluded.last_seen_ms > devices.last_seen_ms THEN excluded.state ELSE devices.state END,
                    version = CASE WHEN excluded.last_seen_ms > devices.last_seen_ms THEN coalesce(excluded.version, devices.version) ELSE coalesce(devices.version, excluded.version) END,
                    boot = CASE WHEN excluded.last_seen_ms > devices.last_seen_ms THEN coalesce(excluded.boot, devices.boot) ELSE coalesce(devices.boot, excluded.boot) END,
                    outbox_pending = CASE WHEN excluded.last_seen_ms > devices.last_seen_ms THEN excluded.outbox_pending ELSE devices.outbox_pending END,
                    sensors_json = CASE WHEN excluded.last_seen_ms > devices.last_seen_ms THEN coalesce(excluded.sensors_json, devices.sensors_json) ELSE coalesce(devices.sensors_json, excluded.sensors_json) END,
                    outbox_dropped = CASE WHEN excluded.last_seen_ms > devices.last_seen_ms THEN excluded.outbox_dropped ELSE devices.outbox_dropped END,
                    outbox_oldest_ms = CASE WHEN excluded.last_seen_ms > devices.last_seen_ms THEN excluded.outbox_oldest_ms ELSE devices.outbox_oldest_ms END,
                    last_seen_ms = max(devices.last_seen_ms, excluded.last_seen_ms)
                WHERE $added_batches > 0 OR excluded.last_seen_ms > devices.last_seen_ms
                """, before: (row, command) =>
                {
                    var (b, r) = _addedPerDevice.GetValueOrDefault(row.GetString(1));
                    command.Parameters["$added_batches"].Value = b;
                    command.Parameters["$added_readings"].Value = r;
                }, extra: ["$added_batches", "$added_readings"]);
            RebuildGaps();
            Merge("badge_scans", "INSERT OR IGNORE INTO badge_scans (site, sensor, ts_ms, visitor) VALUES ($site, $sensor, $ts_ms, $visitor)",
                (row, added) =>
                {
                    if (added)
                    {
                        BadgeDays.Add(ChangedDays.UtcDay(row.GetInt64(2)));
                    }
                });
            Merge("occupancy_corrections", """
                INSERT INTO occupancy_corrections (site, room, ts_ms, previous, count, reason, actor)
                SELECT $site, $room, $ts_ms, $previous, $count, $reason, $actor
                WHERE NOT EXISTS (SELECT 1 FROM occupancy_corrections WHERE site = $site AND room = $room AND ts_ms = $ts_ms
                    AND previous = $previous AND count = $count AND reason = $reason AND actor = $actor)
                """, (row, _) => DoorDays.Add(ChangedDays.UtcDay(row.GetInt64(3))));
            Merge("group_visits", """
                INSERT INTO group_visits (site, date, day_ms, programme, target_group, head_count, room, is_event, note, created_ms)
                SELECT $site, $date, $day_ms, $programme, $target_group, $head_count, $room, $is_event, $note, $created_ms
                WHERE NOT EXISTS (SELECT 1 FROM group_visits WHERE site = $site AND date = $date AND day_ms = $day_ms AND programme = $programme
                    AND target_group = $target_group AND head_count = $head_count AND room IS $room AND is_event = $is_event AND note IS $note AND created_ms = $created_ms)
                """);
            Merge("experiment_sessions", """
                INSERT INTO experiment_sessions (site, name, notes, sensor, started_ms, stopped_ms, started_by)
                SELECT $site, $name, $notes, $sensor, $started_ms, $stopped_ms, $started_by
                WHERE NOT EXISTS (SELECT 1 FROM experiment_sessions WHERE site = $site AND name = $name AND started_ms = $started_ms AND started_by = $started_by AND sensor IS $sensor)
                """);
            Merge("visitor_aggregates", """
                INSERT OR IGNORE INTO visitor_aggregates (site, bucket, start_ms, scans, unique_visitors, returning_visitors)
                VALUES ($site, $bucket, $start_ms, $scans, $unique_visitors, $returning_visitors)
                """);
            Merge("room_hours", """
                INSERT OR IGNORE INTO room_hours (site, room, hour_ms, occupied_ms, open_ms, occupied_open_ms, person_ms, max_count, entries)
                VALUES ($site, $room, $hour_ms, $occupied_ms, $open_ms, $occupied_open_ms, $person_ms, $max_count, $entries)
                """);
            Merge("room_days", """
                INSERT OR IGNORE INTO room_days (site, room, day_ms, occupied_ms, open_ms, occupied_open_ms, person_ms, max_count, entries)
                VALUES ($site, $room, $day_ms, $occupied_ms, $open_ms, $occupied_open_ms, $person_ms, $max_count, $entries)
                """);
            Merge("room_history_days", """
                INSERT OR IGNORE INTO room_history_days (site, start_ms, fingerprint, built_ms, aggregated)
                VALUES ($site, $start_ms, $fingerprint, $built_ms, $aggregated)
                """);
            Merge("changed_days", ChangedDays.MarkSql.Replace("$day", "$day_ms", StringComparison.Ordinal));
            Merge("dead_letters", """
                INSERT INTO dead_letters (received_ms, topic, rule, reason, payload, payload_length)
                SELECT $received_ms, $topic, $rule, $reason, $payload, $payload_length
                WHERE substr($topic, 1, length($prefix)) = $prefix
                    AND NOT EXISTS (SELECT 1 FROM dead_letters WHERE received_ms = $received_ms AND topic = $topic AND rule = $rule AND reason = $reason)
                """, before: (_, command) => command.Parameters["$prefix"].Value = SiteTransferFile.TopicPrefix(site), extra: ["$prefix"]);
        }

        /// <summary>
        /// Rows of a file table into the store, 50,000 per transaction; every row must belong to the
        /// site (a file whose rows name another site is refused, whatever its manifest says).
        /// </summary>
        private void Merge(string name, string insertSql, Action<SqliteDataReader, bool>? after = null,
            Action<SqliteDataReader, SqliteCommand>? before = null, string[]? extra = null)
        {
            var table = SiteTransferFile.Tables.Single(t => t.Name == name);
            var siteColumn = Array.IndexOf(table.Columns, "site");
            using var read = source.CreateCommand();
            read.CommandText = SiteTransferFile.ReadSql(table);
            var transaction = target.BeginTransaction();
            var insert = target.CreateCommand();
            long added = 0, skipped = 0, rows = 0;
            try
            {
                insert.Transaction = transaction;
                insert.CommandText = insertSql;
                var parameters = table.Columns.Select(c => insert.Parameters.Add(new SqliteParameter { ParameterName = "$" + c })).ToArray();
                foreach (var name_ in extra ?? [])
                {
                    insert.Parameters.Add(new SqliteParameter { ParameterName = name_ });
                }

                insert.Prepare();
                using var reader = read.ExecuteReader();
                while (reader.Read())
                {
                    if (siteColumn >= 0 && reader.GetString(siteColumn) != site)
                    {
                        throw new SiteTransferException($"a row of table {name} belongs to site '{reader.GetString(siteColumn)}', not '{site}'");
                    }

                    for (var i = 0; i < parameters.Length; i++)
                    {
                        parameters[i].Value = reader.GetValue(i);
                    }

                    before?.Invoke(reader, insert);
                    var wrote = insert.ExecuteNonQuery() > 0;
                    if (wrote)
                    {
                        added++;
                    }
                    else
                    {
                        skipped++;
                    }

                    after?.Invoke(reader, wrote);
                    if (++rows % RowsPerTransaction == 0)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        transaction.Commit();
                        transaction.Dispose();
                        transaction = target.BeginTransaction();
                        insert.Transaction = transaction;
                        progress?.Invoke($"{name} {rows:N0} rows");
                    }
                }

                transaction.Commit();
            }
            finally
            {
                insert.Dispose();
                transaction.Dispose();
            }

            Merges.Add(new(name, added, skipped));
        }

        /// <summary>The seq gaps of the file's devices, from the merged batch ledger (what the ingest's gap tracker keeps).</summary>
        private void RebuildGaps()
        {
            using var transaction = target.BeginTransaction();
            using var devices = source.CreateCommand();
            devices.CommandText = "SELECT DISTINCT device FROM batches UNION SELECT device FROM seq_gaps";
            using var delete = target.CreateCommand();
            delete.Transaction = transaction;
            delete.CommandText = "DELETE FROM seq_gaps WHERE site = $site AND device = $device";
            delete.Parameters.AddWithValue("$site", site);
            var deleteDevice = delete.Parameters.Add(new SqliteParameter { ParameterName = "$device" });
            using var insert = target.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = """
                INSERT INTO seq_gaps (site, device, from_seq, to_seq)
                SELECT $site, $device, seq + 1, next - 1 FROM (
                    SELECT seq, lead(seq) OVER (ORDER BY seq) AS next FROM batches WHERE site = $site AND device = $device AND seq >= 0)
                WHERE next > seq + 1
                """;
            insert.Parameters.AddWithValue("$site", site);
            var insertDevice = insert.Parameters.Add(new SqliteParameter { ParameterName = "$device" });
            using var reader = devices.ExecuteReader();
            while (reader.Read())
            {
                deleteDevice.Value = insertDevice.Value = reader.GetString(0);
                delete.ExecuteNonQuery();
                insert.ExecuteNonQuery();
            }

            transaction.Commit();
        }

        /// <summary>Marks the days whose derived figures the import changed, so the collector rebuilds them.</summary>
        public void MarkDays()
        {
            using var transaction = target.BeginTransaction();
            foreach (var day in DoorDays)
            {
                ChangedDays.Mark(target, transaction, site, ChangedDays.Door, day);
            }

            foreach (var day in BadgeDays)
            {
                ChangedDays.Mark(target, transaction, site, ChangedDays.Badge, day);
            }

            transaction.Commit();
        }
    }
}
