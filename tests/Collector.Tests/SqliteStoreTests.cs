using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Contracts.Payloads;
using static NewTechPark.Edge.Collector.Tests.TestData;

namespace NewTechPark.Edge.Collector.Tests;

public sealed class SqliteStoreTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 28, 9, 15, 0, TimeSpan.Zero);

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static ReadingsItem MixedBatch(string device, ulong seq) => Batch(device, seq, T0.AddSeconds(2),
        Door(DoorMain, T0, 1, 0, 5321, 5310),
        new Reading
        {
            Ts = T0.AddMilliseconds(10),
            Sensor = "meter-grid",
            Kind = ReadingKinds.Energy,
            Values = new() { ["power_w"] = 2310.5, ["energy_wh_total"] = 1234567.0 },
        });

    [Fact]
    public void Committing_a_batch_stores_its_points()
    {
        using var store = Store(_dir);
        var queries = new StoreQueries(store);

        var outcomes = store.Commit([MixedBatch("pi-entrance", 1)]);

        Assert.Equal([CommitOutcome.Stored], outcomes);
        Assert.Equal((1L, 6L, 0L), queries.Counts());
        var power = queries.Series(SiteId, "meter-grid", "power_w", T0, T0.AddMinutes(1), 10);
        Assert.NotNull(power);
        Assert.Equal(ReadingKinds.Energy, power.Kind);
        var point = Assert.Single(power.Points);
        Assert.Equal(2310.5, point.Min);
        Assert.Equal(2310.5, point.Max);
        Assert.Equal(1, point.Count);
    }

    [Fact]
    public void The_same_batch_again_is_a_duplicate_and_stores_nothing_more()
    {
        using var store = Store(_dir);
        var queries = new StoreQueries(store);
        store.Commit([MixedBatch("pi-entrance", 7)]);
        var before = queries.Counts();

        // Sent again with a later reading time: still the same (site, device, seq), so nothing is written.
        var again = Batch("pi-entrance", 7, T0.AddMinutes(5), Door(DoorMain, T0.AddMinutes(5), 1, 0));
        Assert.Equal([CommitOutcome.Duplicate], store.Commit([again]));
        Assert.Equal(before, queries.Counts());
        Assert.Equal(1, queries.Devices().Single().Batches);

        // Twice within one commit: the second is the duplicate.
        var twice = store.Commit([MixedBatch("pi-entrance", 8), MixedBatch("pi-entrance", 8)]);
        Assert.Equal([CommitOutcome.Stored, CommitOutcome.Duplicate], twice);
        Assert.Equal(2, queries.Counts().Batches);
    }

    [Fact]
    public void The_same_seq_from_another_device_or_site_is_stored()
    {
        using var store = Store(_dir);
        var queries = new StoreQueries(store);
        store.Commit([Batch("pi-a", 42, T0, Value("climate-a", ReadingKinds.Climate, T0, "temperature_c", 21.5))]);

        var other = Batch("pi-b", 42, T0, Value("climate-b", ReadingKinds.Climate, T0, "temperature_c", 19.0));
        Assert.Equal([CommitOutcome.Stored], store.Commit([other]));

        var otherSite = new ReadingsItem(Readings("pi-a", site: "other-site"), new ReadingsBatch
        {
            Seq = 42,
            Sent = T0,
            Readings = [Value("climate-a", ReadingKinds.Climate, T0, "temperature_c", 18.0)],
        }, T0);
        Assert.Equal([CommitOutcome.Stored], store.Commit([otherSite]));

        Assert.Equal((3L, 3L, 0L), queries.Counts());
        Assert.Equal(18.0, queries.Series("other-site", "climate-a", "temperature_c", T0, T0.AddSeconds(1), 1)!.Points.Single().Mean);
        Assert.Equal(21.5, queries.Series(SiteId, "climate-a", "temperature_c", T0, T0.AddSeconds(1), 1)!.Points.Single().Mean);
    }

    [Fact]
    public void Status_items_upsert_the_devices_table()
    {
        using var store = Store(_dir);
        var queries = new StoreQueries(store);
        var birth = new StatusItem(Status("pi-entrance"), new StatusMessage
        {
            State = StatusMessage.Online,
            Ts = T0,
            Version = "1.0.0",
            Boot = "boot-1",
            UptimeS = 10,
            Outbox = new OutboxStatus { Pending = 17 },
            Sensors = new() { ["door-main"] = "ok", ["dc-bench-1"] = "error: no ACK at 0x40" },
        }, T0);

        Assert.Equal([CommitOutcome.Stored], store.Commit([birth]));
        var row = Assert.Single(queries.Devices());
        Assert.Equal(SiteId, row.Site);
        Assert.Equal("pi-entrance", row.Device);
        Assert.Equal("online", row.State);
        Assert.Equal("1.0.0", row.Version);
        Assert.Equal("boot-1", row.Boot);
        Assert.Equal(17, row.OutboxPending);
        Assert.Equal(T0, row.LastSeen);
        Assert.NotNull(row.Sensors);
        Assert.Equal("ok", row.Sensors["door-main"]);
        Assert.Equal("error: no ACK at 0x40", row.Sensors["dc-bench-1"]);

        // A batch marks the device seen and counts it.
        store.Commit([Batch("pi-entrance", 5, T0.AddSeconds(30), Door(DoorMain, T0.AddSeconds(30), 1, 0))]);
        row = Assert.Single(queries.Devices());
        Assert.Equal(5UL, row.LastSeq);
        Assert.Equal(1, row.Batches);
        Assert.Equal(T0.AddSeconds(30), row.LastSeen);

        // The last will changes the state and keeps what it does not say.
        var will = new StatusItem(Status("pi-entrance"), StatusMessage.LastWill, T0.AddMinutes(1));
        store.Commit([will]);
        row = Assert.Single(queries.Devices());
        Assert.Equal("offline", row.State);
        Assert.Equal("1.0.0", row.Version);
        Assert.Equal(17, row.OutboxPending);
        Assert.Equal("ok", row.Sensors!["door-main"]);
        Assert.Equal(T0.AddMinutes(1), row.LastSeen);
        Assert.Equal(5UL, row.LastSeq);

        // A new heartbeat with other values replaces them.
        store.Commit([new StatusItem(Status("pi-entrance"), new StatusMessage
        {
            State = StatusMessage.Online,
            Version = "1.1.0",
            Outbox = new OutboxStatus { Pending = 0 },
            Sensors = new() { ["door-main"] = "ok", ["dc-bench-1"] = "ok" },
        }, T0.AddMinutes(2))]);
        row = Assert.Single(queries.Devices());
        Assert.Equal("online", row.State);
        Assert.Equal("1.1.0", row.Version);
        Assert.Equal(0, row.OutboxPending);
        Assert.Equal("ok", row.Sensors!["dc-bench-1"]);
    }

    [Fact]
    public void Dead_letters_are_stored_with_rule_and_reason()
    {
        using var store = Store(_dir);
        var queries = new StoreQueries(store);
        byte[] payload = [0x7b, 0x22, 0x76, 0x22, 0x3a, 0x32, 0x7d]; // {"v":2}
        var item = new DeadLetterItem("ntp/v1/test-site/pi-entrance/readings", "version", "v must be 1", payload, T0);

        Assert.Equal([CommitOutcome.Stored], store.Commit([item]));

        Assert.Equal((0L, 0L, 1L), queries.Counts());
        using var connection = store.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT received_ms, topic, rule, reason, payload FROM dead_letters";
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read());
        Assert.Equal(T0.ToUnixTimeMilliseconds(), reader.GetInt64(0));
        Assert.Equal("ntp/v1/test-site/pi-entrance/readings", reader.GetString(1));
        Assert.Equal("version", reader.GetString(2));
        Assert.Equal("v must be 1", reader.GetString(3));
        Assert.Equal(payload, (byte[])reader.GetValue(4));
        Assert.False(reader.Read());
    }

    [Fact]
    public void The_store_file_is_in_wal_mode()
    {
        using var store = Store(_dir);
        using var connection = store.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";

        Assert.Equal("wal", (string)command.ExecuteScalar()!, ignoreCase: true);
        Assert.Equal(Path.GetFullPath(_dir.File("collector.db")), Path.GetFullPath(store.FilePath));
    }

    [Fact]
    public void Data_survives_reopening_the_store()
    {
        var path = _dir.File("collector.db");
        using (var store = new SqliteStore(path, NullLogger<SqliteStore>.Instance))
        {
            store.Commit([MixedBatch("pi-entrance", 1), new StatusItem(Status("pi-entrance"), new StatusMessage { Version = "1.0.0" }, T0)]);
        }

        using (var reopened = new SqliteStore(path, NullLogger<SqliteStore>.Instance))
        {
            var queries = new StoreQueries(reopened);
            Assert.Equal((1L, 6L, 0L), queries.Counts());
            Assert.Equal("1.0.0", queries.Devices().Single().Version);

            // The batch is still known, and the known series are reused for new points.
            Assert.Equal([CommitOutcome.Duplicate], reopened.Commit([MixedBatch("pi-entrance", 1)]));
            Assert.Equal([CommitOutcome.Stored], reopened.Commit([Batch("pi-entrance", 2, T0.AddSeconds(1),
                Value("meter-grid", ReadingKinds.Energy, T0.AddSeconds(1), "power_w", 100))]));
            var power = queries.Series(SiteId, "meter-grid", "power_w", T0, T0.AddSeconds(2), 2)!;
            Assert.Equal(2, power.Points.Sum(p => p.Count));
            using var connection = reopened.OpenReader();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT count(*) FROM series WHERE sensor = 'meter-grid' AND field = 'power_w'";
            Assert.Equal(1L, (long)command.ExecuteScalar()!);
        }
    }

    [Fact]
    public void A_badge_reading_stores_its_visitor()
    {
        using var store = Store(_dir);
        var scan = new Reading { Ts = T0, Sensor = "badge-entrance", Kind = ReadingKinds.Badge, Visitor = "Zk3J9aQ2mX0pR7tV1wY4bC" };

        Assert.Equal([CommitOutcome.Stored], store.Commit([Batch("pi-entrance", 1, T0, scan)]));

        using var connection = store.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT site, sensor, ts_ms, visitor FROM badge_scans";
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read());
        Assert.Equal(SiteId, reader.GetString(0));
        Assert.Equal("badge-entrance", reader.GetString(1));
        Assert.Equal(T0.ToUnixTimeMilliseconds(), reader.GetInt64(2));
        Assert.Equal("Zk3J9aQ2mX0pR7tV1wY4bC", reader.GetString(3));
        Assert.False(reader.Read());
        Assert.Equal(0, new StoreQueries(store).Counts().Points);
    }

    public static TheoryData<int, int, int> SeriesWindows => new()
    {
        // window start offset (ms from the first point), window end offset (ms after the last point), points
        { 0, 1, 100 },        // exactly the data: buckets of 100 s
        { -500, 4_321, 100 }, // buckets not aligned with the points
        { -3_600_000, 3_600_000, 100 }, // an hour of nothing on either side
        { 0, 1, 7 },          // buckets that do not divide the data evenly
        { 0, 1, 1 },          // one bucket
        { -250, 250, 10_000 }, // as many buckets as points
    };

    [Theory]
    [MemberData(nameof(SeriesWindows))]
    public void Series_is_downsampled_to_at_most_the_requested_buckets(int startOffsetMs, int endOffsetMs, int points)
    {
        const int n = 10_000;
        using var store = Store(_dir);
        var queries = new StoreQueries(store);
        var raw = new List<(long Ts, double Value)>(n);
        for (var b = 0; b < n / 1000; b++)
        {
            var readings = new Reading[1000];
            for (var j = 0; j < 1000; j++)
            {
                var i = (b * 1000) + j;
                var ts = T0.AddSeconds(i);
                readings[j] = Value("dc-bench-1", ReadingKinds.Dc, ts, "power_w", i);
                raw.Add((ts.ToUnixTimeMilliseconds(), i));
            }

            Assert.Equal([CommitOutcome.Stored], store.Commit([Batch("pi-dc-lab", (ulong)b + 1, T0.AddSeconds((b + 1) * 1000), readings)]));
        }

        var from = T0.AddMilliseconds(startOffsetMs);
        var to = T0.AddSeconds(n - 1).AddMilliseconds(endOffsetMs);
        var result = queries.Series(SiteId, "dc-bench-1", "power_w", from, to, points);

        Assert.NotNull(result);
        Assert.Equal(ReadingKinds.Dc, result.Kind);
        Assert.InRange(result.Points.Count, 1, points);
        Assert.True(result.BucketMs * points >= (to - from).TotalMilliseconds, "the buckets must cover the window");
        Assert.Equal(n, result.Points.Sum(p => p.Count));
        DateTimeOffset? previous = null;
        foreach (var bucket in result.Points)
        {
            // Buckets of a minute or more lie on the UTC grid (as InfluxDB's GROUP BY time): the first
            // can start before the window, but holds only the window's points.
            Assert.True(bucket.Ts.AddMilliseconds(result.BucketMs) > from && bucket.Ts < to, $"bucket {bucket.Ts:O} is outside the window");
            if (previous is { } p)
            {
                Assert.True(bucket.Ts >= p.AddMilliseconds(result.BucketMs), "buckets overlap or are out of order");
            }

            previous = bucket.Ts;
            var start = Math.Max(bucket.Ts.ToUnixTimeMilliseconds(), from.ToUnixTimeMilliseconds());
            var end = Math.Min(bucket.Ts.ToUnixTimeMilliseconds() + result.BucketMs, to.ToUnixTimeMilliseconds());
            var inBucket = raw.Where(r => r.Ts >= start && r.Ts < end).Select(r => r.Value).ToList();
            Assert.NotEmpty(inBucket);
            Assert.Equal(inBucket.Count, bucket.Count);
            Assert.Equal(inBucket.Min(), bucket.Min);
            Assert.Equal(inBucket.Max(), bucket.Max);
            Assert.Equal(inBucket.Average(), bucket.Mean, 9);
        }
    }

    [Fact]
    public void Series_window_holds_only_its_points()
    {
        using var store = Store(_dir);
        var readings = Enumerable.Range(0, 100).Select(i => Value("dc-bench-1", ReadingKinds.Dc, T0.AddSeconds(i), "power_w", i)).ToArray();
        store.Commit([Batch("pi-dc-lab", 1, T0, readings)]);

        // [10 s, 20 s): the points 10..19, the end excluded.
        var result = new StoreQueries(store).Series(SiteId, "dc-bench-1", "power_w", T0.AddSeconds(10), T0.AddSeconds(20), 5)!;

        Assert.Equal(10, result.Points.Sum(p => p.Count));
        Assert.Equal(10, result.Points.Min(p => p.Min));
        Assert.Equal(19, result.Points.Max(p => p.Max));
    }

    [Fact]
    public void A_series_that_does_not_exist_is_null()
    {
        using var store = Store(_dir);
        var queries = new StoreQueries(store);
        store.Commit([Batch("pi-dc-lab", 1, T0, Value("dc-bench-1", ReadingKinds.Dc, T0, "power_w", 1))]);

        Assert.Null(queries.Series(SiteId, "dc-bench-9", "power_w", T0.AddHours(-1), T0.AddHours(1), 100));
        Assert.Null(queries.Series(SiteId, "dc-bench-1", "voltage_v", T0.AddHours(-1), T0.AddHours(1), 100));
        Assert.Null(queries.Series("other-site", "dc-bench-1", "power_w", T0.AddHours(-1), T0.AddHours(1), 100));
        Assert.NotNull(queries.Series(SiteId, "dc-bench-1", "power_w", T0.AddHours(-1), T0.AddHours(1), 100));
    }
}
