using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Storage.Blocks;
using NewTechPark.Edge.Collector.Storage.Schema;
using NewTechPark.Edge.Collector.Storage.Rollups;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Collector.Storage;

/// <summary>
/// The embedded store: every accepted reading as a point keyed by (series, time), the batches seen
/// per (site, device, seq) so a batch that arrives twice is stored once, the devices' status, and
/// the dead letters. SQLite in WAL mode; one writer (the ingest), many readers (the API).
/// </summary>
public sealed class SqliteStore : IDisposable
{
    private readonly string _connectionString;
    private readonly SqliteConnection _writer;
    private readonly Dictionary<(string Site, string Sensor, string Field), long> _seriesIds = [];
    // New series per (site, device) in the current hour, counted from the items' arrival time.
    private readonly Dictionary<(string Site, string Device), (long HourMs, int Count)> _newSeriesThisHour = [];
    private long _conflictingPoints;
    private long _conflictsLogged;
    private long _lastConflictLogMs;
    private readonly ILogger<SqliteStore> _logger;
    private readonly RollupState _rollups;
    private readonly PointBlockCache _blocks = new();
    private int _blocksStale;
    private readonly Timer _checkpoints;
    private readonly WalCheckpointer _checkpointer;
    private int _checkpointing;

    /// <summary>How often the WAL is copied back into the database, beside the ingest rather than inside one of its commits.</summary>
    public static readonly TimeSpan CheckpointInterval = TimeSpan.FromMilliseconds(250);

    public SqliteStore(IOptions<CollectorOptions> options, ILogger<SqliteStore> logger)
        : this(Path.Combine(options.Value.DataDirectory, "collector.db"), logger)
    {
        RawPointsInInfluxOnly = options.Value.Influx.RawPointsInInfluxOnly;
        SeriesLimits = options.Value.SeriesLimits;
    }

    /// <summary>The store of a site: day, month and year rollups follow the site's time zone.</summary>
    public SqliteStore(IOptions<CollectorOptions> options, ILogger<SqliteStore> logger, SiteModel site)
        : this(Path.Combine(options.Value.DataDirectory, "collector.db"), logger, TimeZoneInfo.FindSystemTimeZoneById(site.TimeZone))
    {
        RawPointsInInfluxOnly = options.Value.Influx.RawPointsInInfluxOnly;
        SeriesLimits = options.Value.SeriesLimits;
    }

    public SqliteStore(string path, ILogger<SqliteStore> logger, TimeZoneInfo? zone = null)
    {
        _logger = logger;
        _rollups = new RollupState(zone is null ? TimeBuckets.Amsterdam : new TimeBuckets(zone));
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        FilePath = path;
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ToString();
        _writer = new SqliteConnection(_connectionString);
        _writer.Open();
        // synchronous=FULL: a message is acknowledged to the broker only after its commit, so the
        // commit must survive a power cut, or an acknowledged reading could vanish.
        Execute(_writer, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
        // The commit that crosses 1,000 WAL pages would run the checkpoint itself (copy and fsync
        // the database file) while every message of the next group waits. The writer leaves that
        // to a timer on its own connection instead; commits stay just as durable (they are fsynced
        // in the WAL either way).
        Execute(_writer, "PRAGMA wal_autocheckpoint=0;");
        WalCheckpointer.LimitJournal(_writer);
        // Every table and column comes from the numbered migrations (Schema/StoreMigrations.cs).
        try
        {
            SchemaLedger.Migrate(_writer, path, StoreMigrations.All);
        }
        catch
        {
            _writer.Dispose();
            throw;
        }

        try
        {
            // Raw points of a store written before point blocks: moved over before any ingest.
            LegacyPointsConversion.Run(_writer, path, logger);
        }
        catch
        {
            _writer.Dispose();
            throw;
        }

        LoadSeries();
        _rollups.MayHoldCoveredMinuteRows = HasCoveredMinuteRows();
        _checkpointer = new WalCheckpointer(_connectionString, path, logger);
        _checkpoints = new Timer(_ => Checkpoint(), null, CheckpointInterval, CheckpointInterval);
    }

    public string FilePath { get; }

    /// <summary>
    /// <c>Collector:Influx:Mode=Instead</c>: raw points other than door readings are not written to
    /// the points table (they reach InfluxDB through the sink's durable queue); their rollups are.
    /// </summary>
    public bool RawPointsInInfluxOnly { get; init; }

    /// <summary>How many series devices may create (<c>Collector:SeriesLimits</c>); a batch past a cap is dead-lettered whole.</summary>
    public SeriesLimitOptions SeriesLimits { get; init; } = new();

    /// <summary>
    /// Points refused since start because their (series, time) already held another value: the
    /// first value stored stays (a stored point is never overwritten by another batch).
    /// </summary>
    public long ConflictingPoints => Interlocked.Read(ref _conflictingPoints);

    /// <summary>Whether the raw points of a series are in the points table (door readings always are: occupancy replay and history read them).</summary>
    public bool KeepsRawPoints(string kind) => !RawPointsInInfluxOnly || kind == ReadingKinds.Door;

    /// <summary>Decoded sealed point blocks for the read side (charts in minute buckets).</summary>
    public DecodedBlockCache DecodedBlocks { get; } = new();

    /// <summary>The rollups' bucket boundaries (site time zone) and counter state.</summary>
    public RollupState Rollups => _rollups;

    /// <summary>
    /// Writes the items in one transaction and returns what happened to each. Throws when the
    /// transaction cannot be committed (disk full, I/O error); then nothing of it was written.
    /// </summary>
    public CommitOutcome[] Commit(IReadOnlyList<IngestItem> items)
    {
        var outcomes = new CommitOutcome[items.Count];
        var newSeries = new Dictionary<(string, string, string), long>();
        var newPerDevice = new Dictionary<(string, string), int>();
        var conflicts = new List<Conflict>();
        using var transaction = _writer.BeginTransaction();
        if (Interlocked.Exchange(ref _blocksStale, 0) == 1)
        {
            // A second writer changed point blocks (retention) before this transaction got the write lock.
            _blocks.Clear();
        }

        try
        {
            using var points = new PointBlockWriter(_writer, transaction, _blocks);
            using var writer = new BatchWriter(_writer, transaction, points);
            using var rollups = new RollupWriter(_writer, transaction, _rollups, points);
            for (var i = 0; i < items.Count; i++)
            {
                outcomes[i] = items[i] switch
                {
                    ReadingsItem r => WriteReadings(writer, rollups, r, newSeries, newPerDevice, conflicts),
                    StatusItem s => writer.UpsertStatus(s),
                    DeadLetterItem d => writer.AddDeadLetter(d),
                    _ => throw new ArgumentException($"unknown ingest item {items[i].GetType().Name}"),
                };
            }

            points.Flush();
            writer.MarkChangedDays();
            rollups.Flush();
            transaction.Commit();
            rollups.Committed();
        }
        catch
        {
            // The open blocks in memory hold this transaction's points: read them again from the store.
            _blocks.Clear();
            transaction.Rollback();
            throw;
        }

        // Series created in the transaction are known only once it committed.
        foreach (var (key, id) in newSeries)
        {
            _seriesIds[key] = id;
        }

        foreach (var (device, count) in newPerDevice)
        {
            _newSeriesThisHour[device] = (HourOf(items), NewThisHour(device, HourOf(items)) + count);
        }

        if (conflicts.Count > 0)
        {
            LogConflicts(conflicts);
        }

        return outcomes;
    }

    /// <summary>A point refused because its (series, time) already held another value, and who sent it.</summary>
    private readonly record struct Conflict(string Device, ulong Seq, string Sensor, string Field, long TsMs, double Value);

    private static long HourOf(IReadOnlyList<IngestItem> items) =>
        items.Count == 0 ? 0 : items[^1].Received.ToUnixTimeMilliseconds() / 3_600_000 * 3_600_000;

    private int NewThisHour((string, string) device, long hourMs) =>
        _newSeriesThisHour.TryGetValue(device, out var seen) && seen.HourMs == hourMs ? seen.Count : 0;

    /// <summary>Counts refused points and says so at most once a minute, naming the device, so a flood cannot flood the log.</summary>
    private void LogConflicts(List<Conflict> conflicts)
    {
        Interlocked.Add(ref _conflictingPoints, conflicts.Count);
        var now = Environment.TickCount64;
        if (_lastConflictLogMs != 0 && now - _lastConflictLogMs < 60_000)
        {
            return;
        }

        var first = conflicts[0];
        var total = ConflictingPoints;
        _logger.LogWarning(
            "Kept {Count} stored point(s) (and {Since} since the last message) that a batch tried to give another value, e.g. device {Device} seq {Seq} sensor {Sensor} {Field} at {Ts:O}: {Value}; the first value stays",
            conflicts.Count, total - _conflictsLogged - conflicts.Count, first.Device, first.Seq, first.Sensor, first.Field, DateTimeOffset.FromUnixTimeMilliseconds(first.TsMs), first.Value);
        _conflictsLogged = total;
        _lastConflictLogMs = now;
    }

    private CommitOutcome WriteReadings(BatchWriter writer, RollupWriter rollups, ReadingsItem item, Dictionary<(string, string, string), long> newSeries,
        Dictionary<(string, string), int> newPerDevice, List<Conflict> conflicts)
    {
        var site = item.Address.Site;
        if (SeriesLimitProblem(item, newSeries, newPerDevice) is { } problem)
        {
            // Checked before the batch is recorded: refused whole, so nothing of it is half stored.
            writer.AddDeadLetter(new DeadLetterItem(item.Address.ToString(), SeriesLimitRule, problem, [], item.Received));
            return CommitOutcome.Refused;
        }

        if (!writer.AddBatch(item))
        {
            return CommitOutcome.Duplicate;
        }

        foreach (var reading in item.Batch.Readings)
        {
            var ts = reading.Ts.ToUnixTimeMilliseconds();
            if (reading.Visitor is { } visitor)
            {
                writer.AddBadgeScan(site, reading.Sensor, ts, visitor);
            }

            if (reading.Values is null)
            {
                continue;
            }

            if (reading.Kind == ReadingKinds.Door)
            {
                writer.Changed(site, ChangedDays.Door, ts);
            }

            var keepRaw = KeepsRawPoints(reading.Kind);
            foreach (var (field, value) in reading.Values)
            {
                var key = (site, reading.Sensor, field);
                if (!_seriesIds.TryGetValue(key, out var seriesId) && !newSeries.TryGetValue(key, out seriesId))
                {
                    seriesId = writer.CreateSeries(site, reading.Sensor, reading.Kind, field);
                    newSeries.Add(key, seriesId);
                    var device = (site, item.Address.Device);
                    newPerDevice[device] = newPerDevice.GetValueOrDefault(device) + 1;
                }

                var write = keepRaw ? writer.AddPoint(seriesId, ts, value) : PointWrite.NotStored;
                if (write == PointWrite.Conflict)
                {
                    conflicts.Add(new Conflict(item.Address.Device, item.Batch.Seq, reading.Sensor, field, ts, value));
                }

                rollups.Add(seriesId, field, ts, value, write);
            }
        }

        return CommitOutcome.Stored;
    }

    /// <summary>The dead-letter rule of a batch that would pass a series cap.</summary>
    public const string SeriesLimitRule = "SeriesLimit";

    /// <summary>Why the batch would create more series than its device (or the store) may have, or null.</summary>
    private string? SeriesLimitProblem(ReadingsItem item, Dictionary<(string, string, string), long> newSeries, Dictionary<(string, string), int> newPerDevice)
    {
        var site = item.Address.Site;
        HashSet<(string, string, string)>? fresh = null;
        foreach (var reading in item.Batch.Readings)
        {
            if (reading.Values is null)
            {
                continue;
            }

            foreach (var field in reading.Values.Keys)
            {
                var key = (site, reading.Sensor, field);
                if (!_seriesIds.ContainsKey(key) && !newSeries.ContainsKey(key))
                {
                    (fresh ??= []).Add(key);
                }
            }
        }

        if (fresh is null)
        {
            return null;
        }

        var device = (site, item.Address.Device);
        var thisHour = NewThisHour(device, item.Received.ToUnixTimeMilliseconds() / 3_600_000 * 3_600_000) + newPerDevice.GetValueOrDefault(device);
        if (thisHour + fresh.Count > SeriesLimits.MaxNewSeriesPerDevicePerHour)
        {
            return $"device '{item.Address.Device}' would create {fresh.Count} new series, {thisHour} already this hour; at most {SeriesLimits.MaxNewSeriesPerDevicePerHour} per hour (Collector:SeriesLimits:MaxNewSeriesPerDevicePerHour)";
        }

        var total = _seriesIds.Count + newSeries.Count;
        if (total + fresh.Count > SeriesLimits.MaxSeries)
        {
            return $"device '{item.Address.Device}' would create {fresh.Count} new series; the store holds {total} of at most {SeriesLimits.MaxSeries} (Collector:SeriesLimits:MaxSeries)";
        }

        return null;
    }

    /// <summary>
    /// A second writer changed point blocks: the single writer reads them again in its next
    /// transaction. Call it inside that writer's transaction, before it commits: the ingest's
    /// transactions (BEGIN IMMEDIATE) cannot start until then.
    /// </summary>
    internal void InvalidatePointCache() => Interlocked.Exchange(ref _blocksStale, 1);

    /// <summary>Opens a read connection (pooled); WAL lets readers run beside the writer.</summary>
    public SqliteConnection OpenReader()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }

    /// <summary>
    /// Copies committed WAL pages into the database (PASSIVE), and truncates the WAL when it grew
    /// large or the writer is idle (<see cref="WalCheckpointer"/>).
    /// </summary>
    private void Checkpoint()
    {
        if (Interlocked.Exchange(ref _checkpointing, 1) == 1)
        {
            return;
        }

        try
        {
            _checkpointer.Tick();
        }
        catch (SqliteException e)
        {
            _logger.LogWarning(e, "WAL checkpoint of {Store} failed; the next one tries again", FilePath);
        }
        finally
        {
            Volatile.Write(ref _checkpointing, 0);
        }
    }

    public void Dispose()
    {
        using (var stopped = new ManualResetEvent(false))
        {
            // Wait for a running checkpoint, so the pool is cleared after its connection is back.
            if (_checkpoints.Dispose(stopped))
            {
                stopped.WaitOne();
            }
        }

        _checkpointer.Dispose();
        _writer.Dispose();
        SqliteConnection.ClearPool(new SqliteConnection(_connectionString));
    }

    private void LoadSeries()
    {
        using var command = _writer.CreateCommand();
        command.CommandText = "SELECT id, site, sensor, field FROM series";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            _seriesIds[(reader.GetString(1), reader.GetString(2), reader.GetString(3))] = reader.GetInt64(0);
        }

        _logger.LogDebug("Store {Path} holds {Series} series", FilePath, _seriesIds.Count);
    }

    /// <summary>
    /// Whether a series has a minute rollup row at or after its first raw point: a store written
    /// before minutes were computed from the raw points (one index probe per series).
    /// </summary>
    private bool HasCoveredMinuteRows()
    {
        using var command = _writer.CreateCommand();
        command.CommandText = """
            SELECT EXISTS (SELECT 1 FROM series s
                WHERE (SELECT max(bucket_ms) FROM rollups WHERE series_id = s.id AND res = $minute) >= (SELECT min(start_ms) FROM point_blocks WHERE series_id = s.id))
            """;
        command.Parameters.AddWithValue("$minute", (int)Resolution.Minute);
        return (long)command.ExecuteScalar()! == 1;
    }

    internal static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>The prepared statements of one transaction, each made once and reused for every row.</summary>
    private sealed class BatchWriter : IDisposable
    {
        private readonly SqliteConnection _connection;
        private readonly SqliteTransaction _transaction;
        private readonly PreparedStatements _statements;
        private readonly PointBlockWriter _points;
        private SqliteCommand? _batch;
        private SqliteCommand? _series;
        private SqliteCommand? _scan;
        private SqliteCommand? _deviceSeen;
        private DeliveryLedger.GapTracker? _gaps;
        private SqliteCommand? _status;
        private SqliteCommand? _deadLetter;
        private readonly HashSet<(string Site, string Kind, long Day)> _changed = [];

        public BatchWriter(SqliteConnection connection, SqliteTransaction transaction, PointBlockWriter points)
        {
            _points = points;
            _connection = connection;
            _transaction = transaction;
            _statements = new PreparedStatements(connection, transaction);
        }

        /// <summary>Records the batch; false when (site, device, seq) was stored before.</summary>
        public bool AddBatch(ReadingsItem item)
        {
            _batch ??= Prepare("INSERT OR IGNORE INTO batches (site, device, seq, received_ms, readings) VALUES ($site, $device, $seq, $received, $readings)",
                "$site", "$device", "$seq", "$received", "$readings");
            var p = _batch.Parameters;
            p[0].Value = item.Address.Site;
            p[1].Value = item.Address.Device;
            p[2].Value = unchecked((long)item.Batch.Seq);
            p[3].Value = item.Received.ToUnixTimeMilliseconds();
            p[4].Value = item.Batch.Readings.Count;
            if (_batch.ExecuteNonQuery() == 0)
            {
                return false;
            }

            // Gaps in seq (DeliveryLedger) move before last_seq does.
            (_gaps ??= new DeliveryLedger.GapTracker(_connection, _transaction)).Record(item.Address.Site, item.Address.Device, item.Batch.Seq);
            _deviceSeen ??= Prepare("""
                INSERT INTO devices (site, device, state, last_seen_ms, last_seq, batches, first_seq, readings) VALUES ($site, $device, 'online', $seen, $seq, 1, $seq, $readings)
                ON CONFLICT (site, device) DO UPDATE SET last_seen_ms = max(last_seen_ms, excluded.last_seen_ms),
                    last_seq = max(coalesce(last_seq, 0), excluded.last_seq), batches = batches + 1,
                    first_seq = min(coalesce(first_seq, excluded.first_seq), excluded.first_seq), readings = readings + excluded.readings
                """, "$site", "$device", "$seen", "$seq", "$readings");
            p = _deviceSeen.Parameters;
            p[0].Value = item.Address.Site;
            p[1].Value = item.Address.Device;
            p[2].Value = item.Received.ToUnixTimeMilliseconds();
            p[3].Value = unchecked((long)item.Batch.Seq);
            p[4].Value = item.Batch.Readings.Count;
            _deviceSeen.ExecuteNonQuery();
            return true;
        }

        public long CreateSeries(string site, string sensor, string kind, string field)
        {
            _series ??= Prepare("INSERT INTO series (site, sensor, kind, field) VALUES ($site, $sensor, $kind, $field) RETURNING id",
                "$site", "$sensor", "$kind", "$field");
            var p = _series.Parameters;
            p[0].Value = site;
            p[1].Value = sensor;
            p[2].Value = kind;
            p[3].Value = field;
            return (long)_series.ExecuteScalar()!;
        }

        public PointWrite AddPoint(long seriesId, long tsMs, double value) => _points.Write(seriesId, tsMs, value);

        public void AddBadgeScan(string site, string sensor, long tsMs, string visitor)
        {
            _scan ??= Prepare("INSERT OR IGNORE INTO badge_scans (site, sensor, ts_ms, visitor) VALUES ($site, $sensor, $t, $visitor)",
                "$site", "$sensor", "$t", "$visitor");
            var p = _scan.Parameters;
            p[0].Value = site;
            p[1].Value = sensor;
            p[2].Value = tsMs;
            p[3].Value = visitor;
            if (_scan.ExecuteNonQuery() > 0)
            {
                Changed(site, ChangedDays.Badge, tsMs);
            }
        }

        /// <summary>Notes that a day got new data; written once per day by <see cref="MarkChangedDays"/>.</summary>
        public void Changed(string site, string kind, long tsMs) => _changed.Add((site, kind, ChangedDays.UtcDay(tsMs)));

        /// <summary>Marks the noted days in <c>changed_days</c>, in the commit's transaction.</summary>
        public void MarkChangedDays()
        {
            if (_changed.Count == 0)
            {
                return;
            }

            var mark = Prepare(ChangedDays.MarkSql, "$site", "$kind", "$day");
            foreach (var (site, kind, day) in _changed)
            {
                mark.Parameters[0].Value = site;
                mark.Parameters[1].Value = kind;
                mark.Parameters[2].Value = day;
                mark.ExecuteNonQuery();
            }
        }

        public CommitOutcome UpsertStatus(StatusItem item)
        {
            _status ??= Prepare("""
                INSERT INTO devices (site, device, state, last_seen_ms, version, boot, outbox_pending, sensors_json, outbox_dropped, outbox_oldest_ms)
                VALUES ($site, $device, $state, $seen, $version, $boot, $pending, $sensors, $dropped, $oldest)
                ON CONFLICT (site, device) DO UPDATE SET state = excluded.state, last_seen_ms = max(last_seen_ms, excluded.last_seen_ms),
                    version = coalesce(excluded.version, version), boot = coalesce(excluded.boot, boot),
                    outbox_pending = coalesce(excluded.outbox_pending, outbox_pending), sensors_json = coalesce(excluded.sensors_json, sensors_json),
                    outbox_dropped = coalesce(excluded.outbox_dropped, outbox_dropped),
                    outbox_oldest_ms = CASE WHEN excluded.outbox_pending IS NULL THEN outbox_oldest_ms ELSE excluded.outbox_oldest_ms END
                """, "$site", "$device", "$state", "$seen", "$version", "$boot", "$pending", "$sensors", "$dropped", "$oldest");
            var status = item.Status;
            var p = _status.Parameters;
            p[0].Value = item.Address.Site;
            p[1].Value = item.Address.Device;
            p[2].Value = status.State;
            p[3].Value = item.Received.ToUnixTimeMilliseconds();
            p[4].Value = (object?)status.Version ?? DBNull.Value;
            p[5].Value = (object?)status.Boot ?? DBNull.Value;
            p[6].Value = (object?)status.Outbox?.Pending ?? DBNull.Value;
            p[7].Value = status.Sensors is null ? DBNull.Value : System.Text.Json.JsonSerializer.Serialize(status.Sensors, StoreJsonContext.Default.DictionaryStringString);
            p[8].Value = (object?)status.Outbox?.Dropped ?? DBNull.Value;
            p[9].Value = (object?)status.Outbox?.Oldest?.ToUnixTimeMilliseconds() ?? DBNull.Value;
            _status.ExecuteNonQuery();
            return CommitOutcome.Stored;
        }

        public CommitOutcome AddDeadLetter(DeadLetterItem item)
        {
            _deadLetter ??= Prepare("INSERT INTO dead_letters (received_ms, topic, rule, reason, payload, payload_length) VALUES ($r, $topic, $rule, $reason, $payload, $length)",
                "$r", "$topic", "$rule", "$reason", "$payload", "$length");
            var p = _deadLetter.Parameters;
            p[0].Value = item.Received.ToUnixTimeMilliseconds();
            p[1].Value = item.Topic;
            p[2].Value = item.Rule;
            p[3].Value = item.Reason;
            p[4].Value = item.Payload;
            p[5].Value = item.PayloadLength;
            _deadLetter.ExecuteNonQuery();
            return CommitOutcome.Stored;
        }

        public void Dispose()
        {
            _gaps?.Dispose();
            _statements.Dispose();
        }

        private SqliteCommand Prepare(string sql, params string[] parameters) => _statements.Prepare(sql, parameters);
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class StoreJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
