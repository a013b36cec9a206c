using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using NewTechPark.Edge.Collector.Sinks;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Collector.Storage.Blocks;
using NewTechPark.Edge.Collector.Storage.Schema;
using static NewTechPark.Edge.Collector.Tests.TestData;

namespace NewTechPark.Edge.Collector.Tests;

/// <summary>
/// The store's schema ledger (PRAGMA user_version): a store written before the ledger existed is
/// migrated in place with its data, a store of a newer collector is refused, each step runs once
/// and in a transaction.
/// </summary>
public sealed class StoreMigrationTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 28, 9, 15, 0, TimeSpan.Zero);

    private readonly TempDirectory _dir = new();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    /// <summary>The DDL the collector ran on every start before the ledger (no user_version), copied from that code.</summary>
    private const string PreviousSchema = """
        CREATE TABLE IF NOT EXISTS batches (
            site TEXT NOT NULL, device TEXT NOT NULL, seq INTEGER NOT NULL,
            received_ms INTEGER NOT NULL, readings INTEGER NOT NULL,
            PRIMARY KEY (site, device, seq)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS series (
            id INTEGER PRIMARY KEY, site TEXT NOT NULL, sensor TEXT NOT NULL, kind TEXT NOT NULL, field TEXT NOT NULL,
            UNIQUE (site, sensor, field));
        CREATE TABLE IF NOT EXISTS points (
            series_id INTEGER NOT NULL, ts_ms INTEGER NOT NULL, value REAL NOT NULL,
            PRIMARY KEY (series_id, ts_ms)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS badge_scans (
            site TEXT NOT NULL, sensor TEXT NOT NULL, ts_ms INTEGER NOT NULL, visitor TEXT NOT NULL,
            PRIMARY KEY (site, sensor, ts_ms, visitor)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS devices (
            site TEXT NOT NULL, device TEXT NOT NULL, state TEXT NOT NULL, last_seen_ms INTEGER NOT NULL,
            version TEXT, boot TEXT, outbox_pending INTEGER, sensors_json TEXT, last_seq INTEGER, batches INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (site, device)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS dead_letters (
            id INTEGER PRIMARY KEY, received_ms INTEGER NOT NULL, topic TEXT NOT NULL, rule TEXT NOT NULL, reason TEXT NOT NULL, payload BLOB NOT NULL,
            payload_length INTEGER);
        CREATE TABLE IF NOT EXISTS seq_gaps (
            site TEXT NOT NULL, device TEXT NOT NULL, from_seq INTEGER NOT NULL, to_seq INTEGER NOT NULL,
            PRIMARY KEY (site, device, from_seq)) WITHOUT ROWID;
        ALTER TABLE devices ADD COLUMN first_seq INTEGER;
        ALTER TABLE devices ADD COLUMN readings INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE devices ADD COLUMN outbox_dropped INTEGER;
        ALTER TABLE devices ADD COLUMN outbox_oldest_ms INTEGER;
        CREATE TABLE IF NOT EXISTS rollups (
            series_id INTEGER NOT NULL, res INTEGER NOT NULL, bucket_ms INTEGER NOT NULL,
            min REAL NOT NULL, max REAL NOT NULL, sum REAL NOT NULL, count INTEGER NOT NULL,
            inc REAL NOT NULL DEFAULT 0, resets INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (series_id, res, bucket_ms)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS counter_last (
            series_id INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL, value REAL NOT NULL);
        CREATE TABLE IF NOT EXISTS occupancy_corrections (
            id INTEGER PRIMARY KEY, site TEXT NOT NULL, room TEXT NOT NULL, ts_ms INTEGER NOT NULL,
            previous INTEGER NOT NULL, count INTEGER NOT NULL, reason TEXT NOT NULL, actor TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS occupancy_corrections_ts ON occupancy_corrections (site, ts_ms);
        CREATE TABLE IF NOT EXISTS group_visits (
            id INTEGER PRIMARY KEY, site TEXT NOT NULL, date TEXT NOT NULL, day_ms INTEGER NOT NULL,
            programme TEXT NOT NULL, target_group TEXT NOT NULL, head_count INTEGER NOT NULL,
            room TEXT, is_event INTEGER NOT NULL DEFAULT 0, note TEXT, created_ms INTEGER NOT NULL);
        CREATE INDEX IF NOT EXISTS group_visits_day ON group_visits (site, day_ms);
        CREATE TABLE IF NOT EXISTS visitor_aggregates (
            site TEXT NOT NULL, bucket TEXT NOT NULL, start_ms INTEGER NOT NULL,
            scans INTEGER NOT NULL, unique_visitors INTEGER NOT NULL, returning_visitors INTEGER NOT NULL,
            PRIMARY KEY (site, bucket, start_ms)) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS badge_scans_ts ON badge_scans (site, ts_ms);
        CREATE INDEX IF NOT EXISTS badge_scans_visitor ON badge_scans (site, visitor, ts_ms);
        CREATE TABLE IF NOT EXISTS room_hours (
            site TEXT NOT NULL, room TEXT NOT NULL, hour_ms INTEGER NOT NULL,
            occupied_ms INTEGER NOT NULL, open_ms INTEGER NOT NULL, occupied_open_ms INTEGER NOT NULL,
            person_ms REAL NOT NULL, max_count INTEGER NOT NULL, entries INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (site, room, hour_ms)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS room_history_days (
            site TEXT NOT NULL, start_ms INTEGER NOT NULL, fingerprint TEXT NOT NULL, built_ms INTEGER NOT NULL,
            PRIMARY KEY (site, start_ms)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS experiment_sessions (
            id INTEGER PRIMARY KEY, site TEXT NOT NULL, name TEXT NOT NULL, notes TEXT, sensor TEXT,
            started_ms INTEGER NOT NULL, stopped_ms INTEGER, started_by TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS experiment_sessions_started ON experiment_sessions (site, started_ms);
        """;

    /// <summary>Rows in every area, as the previous code wrote them.</summary>
    private const string PreviousData = """
        INSERT INTO batches VALUES ('test-site', 'pi-entrance', 7, 1764321302000, 1);
        INSERT INTO series (id, site, sensor, kind, field) VALUES (1, 'test-site', 'meter-grid', 'energy', 'power_w');
        INSERT INTO points VALUES (1, 1764321300000, 2310.5);
        INSERT INTO rollups (series_id, res, bucket_ms, min, max, sum, count) VALUES (1, 1, 1764321300000, 2310.5, 2310.5, 2310.5, 1);
        INSERT INTO devices (site, device, state, last_seen_ms, last_seq, batches, first_seq, readings) VALUES ('test-site', 'pi-entrance', 'online', 1764321302000, 7, 1, 7, 1);
        INSERT INTO dead_letters (received_ms, topic, rule, reason, payload, payload_length) VALUES (1764321302000, 'ntp/v1/test-site/pi-x/readings', 'MalformedJson', 'not JSON', x'00', 1);
        INSERT INTO badge_scans VALUES ('test-site', 'badge-entrance', 1764321300000, 'Zk3J9aQ2mX0pR7tV1wY4bC');
        INSERT INTO occupancy_corrections (site, room, ts_ms, previous, count, reason, actor) VALUES ('test-site', 'hall', 1764321300000, 3, 0, 'empty', 'facility');
        INSERT INTO group_visits (site, date, day_ms, programme, target_group, head_count, created_ms) VALUES ('test-site', '2026-11-28', 1764284400000, 'Technodiscovery', 'PO', 28, 1764321300000);
        INSERT INTO experiment_sessions (site, name, started_ms, started_by) VALUES ('test-site', 'bench test', 1764321300000, 'admin');
        """;

    private string DbPath => _dir.File("collector.db");

    private void Run(string sql, string? path = null)
    {
        using var connection = new SqliteConnection($"Data Source={path ?? DbPath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private long Scalar(string sql, string? path = null)
    {
        using var connection = new SqliteConnection($"Data Source={path ?? DbPath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public void A_new_store_gets_the_current_version()
    {
        using (Store(_dir))
        {
        }

        Assert.Equal(StoreMigrations.Current, Scalar("PRAGMA user_version"));
    }

    [Fact]
    public void A_store_of_the_previous_code_migrates_in_place_with_its_data()
    {
        Run(PreviousSchema + PreviousData);
        Assert.Equal(0, Scalar("PRAGMA user_version"));

        using (var store = Store(_dir))
        {
            var queries = new StoreQueries(store);
            Assert.Equal((1L, 1L, 1L), queries.Counts());
            // The dedupe ledger survived: the batch stored before is a duplicate, the next one is new.
            Assert.Equal([CommitOutcome.Duplicate, CommitOutcome.Stored], store.Commit([
                Batch("pi-entrance", 7, T0, Door(DoorMain, T0, 1, 0)),
                Batch("pi-entrance", 8, T0.AddSeconds(1), Door(DoorMain, T0.AddSeconds(1), 1, 0)),
            ]));
            var device = Assert.Single(queries.Devices());
            Assert.Equal((8UL, 2L), (device.LastSeq, device.Batches));
        }

        Assert.Equal(StoreMigrations.Current, Scalar("PRAGMA user_version"));
        using (var connection = new SqliteConnection($"Data Source={DbPath};Pooling=False"))
        {
            connection.Open();
            Assert.Equal(new RawPoint(1764321300000, 2310.5), Assert.Single(PointReader.Range(connection, null, 1, long.MinValue, long.MaxValue)));
        }

        Assert.Equal(0, Scalar("SELECT count(*) FROM sqlite_master WHERE name = 'points'"));
        foreach (var table in new[] { "rollups", "dead_letters", "badge_scans", "occupancy_corrections", "group_visits", "experiment_sessions" })
        {
            Assert.True(Scalar($"SELECT count(*) FROM {table}") >= 1, $"{table} lost its rows");
        }

        Assert.Equal("ok", ScalarText("PRAGMA integrity_check"));
    }

    [Fact]
    public void An_older_store_without_later_columns_gets_them_and_keeps_its_rows()
    {
        // Before the delivery ledger and the cut dead-letter payloads: no seq_gaps, fewer columns.
        Run("""
            CREATE TABLE devices (
                site TEXT NOT NULL, device TEXT NOT NULL, state TEXT NOT NULL, last_seen_ms INTEGER NOT NULL,
                version TEXT, boot TEXT, outbox_pending INTEGER, sensors_json TEXT, last_seq INTEGER, batches INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (site, device)) WITHOUT ROWID;
            CREATE TABLE dead_letters (
                id INTEGER PRIMARY KEY, received_ms INTEGER NOT NULL, topic TEXT NOT NULL, rule TEXT NOT NULL, reason TEXT NOT NULL, payload BLOB NOT NULL);
            INSERT INTO devices (site, device, state, last_seen_ms, last_seq, batches) VALUES ('test-site', 'pi-entrance', 'online', 1764321302000, 41, 41);
            INSERT INTO dead_letters (received_ms, topic, rule, reason, payload) VALUES (1764321302000, 't', 'MalformedJson', 'not JSON', x'0102');
            """);

        using (var store = Store(_dir))
        {
            var device = Assert.Single(new StoreQueries(store).Devices());
            Assert.Equal((41UL, 41L), (device.LastSeq, device.Batches));
            Assert.Equal([CommitOutcome.Stored], store.Commit([Batch("pi-entrance", 44, T0, Door(DoorMain, T0, 1, 0))]));
            var delivery = Assert.Single(new StoreQueries(store).Deliveries());
            Assert.Equal(2UL, delivery.MissingBatches); // 42 and 43: the gap table was made and used
        }

        Assert.Equal(StoreMigrations.Current, Scalar("PRAGMA user_version"));
        Assert.Equal(1, Scalar("SELECT count(*) FROM dead_letters WHERE payload_length IS NULL"));
    }

    [Fact]
    public void A_store_of_a_newer_collector_is_refused_and_left_alone()
    {
        var newer = StoreMigrations.Current + 1;
        Run($"CREATE TABLE future (x INTEGER); PRAGMA user_version = {newer};");

        var refused = Assert.Throws<StoreVersionException>(() => Store(_dir));

        Assert.Contains($"schema version {newer}", refused.Message, StringComparison.Ordinal);
        Assert.Contains($"versions up to {StoreMigrations.Current}", refused.Message, StringComparison.Ordinal);
        Assert.Contains(DbPath, refused.Message, StringComparison.Ordinal);
        Assert.Equal(newer, Scalar("PRAGMA user_version"));
        Assert.Equal(0, Scalar("SELECT count(*) FROM sqlite_master WHERE name = 'batches'"));
    }

    [Fact]
    public void Each_migration_runs_once_and_a_failed_one_leaves_nothing_behind()
    {
        var runs = 0;
        Migration[] ledger =
        [
            new(1, "one", db =>
            {
                runs++;
                db.Execute("CREATE TABLE one (x INTEGER)");
            }),
            new(2, "two fails halfway", db =>
            {
                db.Execute("CREATE TABLE two (x INTEGER)");
                throw new InvalidOperationException("disk on fire");
            }),
        ];
        using (var connection = new SqliteConnection($"Data Source={DbPath};Pooling=False"))
        {
            connection.Open();
            Assert.Throws<InvalidOperationException>(() => SchemaLedger.Migrate(connection, DbPath, ledger));
            Assert.Equal(1, SchemaLedger.Version(connection));
            Assert.Equal(0, SchemaLedger.Migrate(connection, DbPath, ledger[..1]));
        }

        Assert.Equal(1, runs);
        Assert.Equal(1, Scalar("SELECT count(*) FROM sqlite_master WHERE name = 'one'"));
        Assert.Equal(0, Scalar("SELECT count(*) FROM sqlite_master WHERE name = 'two'"));
    }

    [Fact]
    public void A_ledger_must_count_from_one_without_holes()
    {
        using var connection = new SqliteConnection($"Data Source={DbPath};Pooling=False");
        connection.Open();

        Assert.Throws<InvalidOperationException>(() => SchemaLedger.Migrate(connection, DbPath, [new Migration(2, "no first", _ => { })]));
    }

    [Fact]
    public void The_sink_queue_file_of_the_previous_code_migrates_in_place()
    {
        var path = _dir.File("influx-queue.db");
        Run("""
            CREATE TABLE chunks (id INTEGER PRIMARY KEY AUTOINCREMENT, created_ms INTEGER NOT NULL, points INTEGER NOT NULL, bytes INTEGER NOT NULL, body BLOB NOT NULL);
            CREATE TABLE rejected (id INTEGER PRIMARY KEY, rejected_ms INTEGER NOT NULL, reason TEXT NOT NULL, body BLOB NOT NULL);
            CREATE TABLE counters (id INTEGER PRIMARY KEY CHECK (id = 1), dropped_points INTEGER NOT NULL);
            INSERT INTO counters (id, dropped_points) VALUES (1, 5);
            INSERT INTO chunks (created_ms, points, bytes, body) VALUES (1, 2, 3, CAST('a b' AS BLOB));
            """, path);

        using (var queue = new DurableQueue(path, 1 << 20, 1000, NullLogger.Instance))
        {
            Assert.Equal((1L, 2L, 5L), (queue.Chunks, queue.Points, queue.DroppedPoints));
        }

        // 1: the chunk tables' ledger; 2: the region feed's watermarks.
        Assert.Equal(2, Scalar("PRAGMA user_version", path));
        Assert.Equal(1, Scalar("SELECT count(*) FROM sqlite_master WHERE name = 'region_watermarks'", path));
    }

    private string ScalarText(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={DbPath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (string)command.ExecuteScalar()!;
    }
}
