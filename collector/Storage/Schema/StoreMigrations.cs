namespace NewTechPark.Edge.Collector.Storage.Schema;

/// <summary>
/// The schema of the collector's store (<c>collector.db</c>), as numbered migrations. Append a new
/// migration for every change; never edit one that has shipped.
/// </summary>
public static class StoreMigrations
{
    public static readonly IReadOnlyList<Migration> All =
    [
        new(1, "baseline: the schema as of the ledger's introduction", Baseline),
        new(2, "raw points in compressed blocks per series (point_blocks); the rows of points are moved over at start", PointBlocks),
        new(3, "changed days and per-day aggregates for incremental page-load queries", ChangedDaysAndDayAggregates),
    ];

    /// <summary>The newest version this collector writes.</summary>
    public static int Current => All.Count;

    /// <summary>
    /// Migration 1 is the schema the collector made before the ledger, written with
    /// <c>IF NOT EXISTS</c> and column checks, so a store of that code (user_version 0, tables
    /// present, perhaps from before some columns were added) is brought up to date in place.
    /// </summary>
    private static void Baseline(MigrationContext db)
    {
        db.Execute("""
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
            """);

        // Stores made before dead-letter payloads were cut lack payload_length (there it is the payload's own length).
        db.AddColumnIfMissing("dead_letters", "payload_length", "INTEGER");

        // The delivery ledger: gaps in each device's seq, and the delivery columns of devices.
        db.Execute("""
            CREATE TABLE IF NOT EXISTS seq_gaps (
                site TEXT NOT NULL, device TEXT NOT NULL, from_seq INTEGER NOT NULL, to_seq INTEGER NOT NULL,
                PRIMARY KEY (site, device, from_seq)) WITHOUT ROWID;
            """);
        db.AddColumnIfMissing("devices", "first_seq", "INTEGER");
        db.AddColumnIfMissing("devices", "readings", "INTEGER NOT NULL DEFAULT 0");
        db.AddColumnIfMissing("devices", "outbox_dropped", "INTEGER");
        db.AddColumnIfMissing("devices", "outbox_oldest_ms", "INTEGER");

        // Rollups, and the last point of counters whose raw points are not kept (Influx Mode=Instead).
        db.Execute("""
            CREATE TABLE IF NOT EXISTS rollups (
                series_id INTEGER NOT NULL, res INTEGER NOT NULL, bucket_ms INTEGER NOT NULL,
                min REAL NOT NULL, max REAL NOT NULL, sum REAL NOT NULL, count INTEGER NOT NULL,
                inc REAL NOT NULL DEFAULT 0, resets INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (series_id, res, bucket_ms)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS counter_last (
                series_id INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL, value REAL NOT NULL);
            """);

        // Analytics beside the raw points: staff corrections (the audit trail), group visits, frozen
        // visitor aggregates (kept after the raw scans are purged), the per-room, per-hour history.
        db.Execute("""
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
            """);

        // DC-Lab experiment sessions.
        db.Execute("""
            CREATE TABLE IF NOT EXISTS experiment_sessions (
                id INTEGER PRIMARY KEY, site TEXT NOT NULL, name TEXT NOT NULL, notes TEXT, sensor TEXT,
                started_ms INTEGER NOT NULL, stopped_ms INTEGER, started_by TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS experiment_sessions_started ON experiment_sessions (site, started_ms);
            """);
    }

    /// <summary>
    /// Raw points as compressed blocks of one series (<c>Storage/Blocks/PointCodec.cs</c>); blocks of
    /// a series never overlap, <c>start_ms</c> and <c>end_ms</c> are the first and last point's time.
    /// The legacy <c>points</c> rows are moved by <c>LegacyPointsConversion</c> when the store opens
    /// (in bounded transactions, resumable), which drops that table once it is empty.
    /// </summary>
    private static void PointBlocks(MigrationContext db)
    {
        db.Execute("""
            CREATE TABLE IF NOT EXISTS point_blocks (
                series_id INTEGER NOT NULL, start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL, count INTEGER NOT NULL, data BLOB NOT NULL,
                PRIMARY KEY (series_id, start_ms)) WITHOUT ROWID;
            """);
    }

    /// <summary>
    /// Page-load queries read precomputed rows instead of redoing a year per request:
    /// <c>changed_days</c> is written by the single writer (door readings, badge scans) and by staff
    /// corrections in the same transaction as the data, so no change is missed across a crash;
    /// housekeeping rebuilds only the days it names. <c>room_days</c> sums <c>room_hours</c> per
    /// local day (and <c>room_hours</c> gets an index by time, for every room's rows of a window); <c>visitor_days</c> is each pseudonym's scans per local day, flagged when the day is after the
    /// pseudonym's first kept day (the privacy purge removes them with the scans). Existing badge scans are marked changed, so their days are built
    /// once; existing room history gets its day sums from <c>room_hours</c> (<c>aggregated</c> = 0), and its days
    /// that late data changed since they were built are marked (their fingerprint, the earlier way to find them).
    /// </summary>
    private static void ChangedDaysAndDayAggregates(MigrationContext db)
    {
        db.Execute("""
            CREATE TABLE changed_days (
                site TEXT NOT NULL, kind TEXT NOT NULL, day_ms INTEGER NOT NULL, version INTEGER NOT NULL,
                PRIMARY KEY (site, kind, day_ms)) WITHOUT ROWID;
            CREATE TABLE room_days (
                site TEXT NOT NULL, room TEXT NOT NULL, day_ms INTEGER NOT NULL,
                occupied_ms INTEGER NOT NULL, open_ms INTEGER NOT NULL, occupied_open_ms INTEGER NOT NULL,
                person_ms REAL NOT NULL, max_count INTEGER NOT NULL, entries INTEGER NOT NULL,
                PRIMARY KEY (site, room, day_ms)) WITHOUT ROWID;
            CREATE INDEX room_days_day ON room_days (site, day_ms);
            CREATE INDEX room_hours_hour ON room_hours (site, hour_ms);
            CREATE TABLE visitor_days (
                site TEXT NOT NULL, day_ms INTEGER NOT NULL, visitor TEXT NOT NULL, scans INTEGER NOT NULL,
                is_returning INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (site, day_ms, visitor)) WITHOUT ROWID;
            CREATE INDEX visitor_days_visitor ON visitor_days (site, visitor, day_ms);
            ALTER TABLE room_history_days ADD COLUMN aggregated INTEGER NOT NULL DEFAULT 0;
            INSERT OR IGNORE INTO changed_days (site, kind, day_ms, version)
                SELECT DISTINCT site, 'badge', ts_ms - (((ts_ms % 86400000) + 86400000) % 86400000), 1 FROM badge_scans;
            """);

        if (db.TableExists("points"))
        {
            // The collector before this step rebuilt an occupancy day on a page load when its door
            // readings or corrections no longer added up to the day's fingerprint (late data since it
            // was built). Those days are marked changed here, with the same text as that collector
            // computed, once; from now on the writer marks them as data arrives. The rows of points
            // are still there: they move into blocks after the migrations.
            db.Execute("""
                WITH days AS (
                    SELECT d.site, d.start_ms, d.fingerprint,
                           coalesce((SELECT min(n.start_ms) FROM room_history_days n WHERE n.site = d.site AND n.start_ms > d.start_ms), d.start_ms + 86400000) AS end_ms
                    FROM room_history_days d)
                INSERT OR IGNORE INTO changed_days (site, kind, day_ms, version)
                    SELECT site, 'door', start_ms - (((start_ms % 86400000) + 86400000) % 86400000), 1 FROM days
                    WHERE fingerprint <> (SELECT count(*) || ':' || coalesce(sum(p.value), 0) FROM series s JOIN points p ON p.series_id = s.id
                                          WHERE s.site = days.site AND s.kind = 'door' AND p.ts_ms >= days.start_ms AND p.ts_ms < days.end_ms)
                        || '/' || (SELECT count(*) || ':' || coalesce(max(id), 0) FROM occupancy_corrections c
                                   WHERE c.site = days.site AND c.ts_ms >= days.start_ms AND c.ts_ms < days.end_ms);
                """);
        }
    }
}
