namespace NewTechPark.Edge.Collector.Storage;

/// <summary>
/// Tables of the analytics beside the raw points: staff corrections of occupancy (the audit
/// trail), registered group visits, frozen visitor aggregates (kept after the raw badge scans are
/// purged), and the per-room, per-hour occupancy history that utilisation is computed from.
/// </summary>
public static class AnalyticsSchema
{
    public const string Sql = """
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
        """;
}
