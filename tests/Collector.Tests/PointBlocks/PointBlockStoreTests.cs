using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Collector.Storage.Blocks;
using NewTechPark.Edge.Collector.Storage.Rollups;
using NewTechPark.Edge.Contracts.Payloads;
using static NewTechPark.Edge.Collector.Tests.TestData;

namespace NewTechPark.Edge.Collector.Tests.PointBlocks;

/// <summary>Raw points in blocks through the real writer: the open block, late data, rollback, retention, the reader.</summary>
public sealed class PointBlockStoreTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 2, 9, 0, 0, TimeSpan.Zero);
    private const string Bench = "dc-bench-1";
    private const string Field = "power_w";
    private const string Counter = "energy_wh_total";

    private readonly TempDirectory _dir = new();
    private ulong _seq;

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void In_order_points_across_commits_fill_blocks_that_are_sealed_at_the_cap_and_survive_a_restart()
    {
        var expected = new SortedDictionary<long, double>();
        using (var store = Store(_dir))
        {
            WriteInOrder(store, expected, 0, 3000);
        }

        using (var store = Store(_dir))
        {
            // The open block is read back once and appended to.
            WriteInOrder(store, expected, 3000, 500);
            var id = SeriesId(store, Field);
            AssertStored(store, id, expected);
            var blocks = Blocks(store, id);
            Assert.All(blocks[..^1], b => Assert.True(b.Sealed));
            Assert.False(blocks[^1].Sealed);
            Assert.All(blocks, b => Assert.True(b.Count <= PointBlockCache.DefaultCapPoints));
            Assert.Equal(3500, new StoreQueries(store).Counts().Points);
        }
    }

    [Fact]
    public void Late_duplicate_and_conflicting_points_keep_the_first_value_and_rollups_stay_exact()
    {
        var expected = new SortedDictionary<long, double>();
        var counter = new SortedDictionary<long, double>();
        using var store = Store(_dir);
        WriteInOrder(store, expected, 0, 3000, counter);
        var id = SeriesId(store, Field);
        var counterId = SeriesId(store, Counter);
        var ms = T0.ToUnixTimeMilliseconds();
        var first = Blocks(store, id)[0];
        Assert.True(first.Sealed);

        // Into the first sealed block, between points; the same value again; another value; before everything; inside the open block.
        var late = new (long Ts, double Value)[]
        {
            (ms + 10_500, 7.25), (ms + 11_000, expected[ms + 11_000]), (ms + 12_000, 999), (ms - 60_000, 1.5), (ms + 2_999_500, 3.75),
        };
        Commit(store, late.Select(p => Value(Bench, ReadingKinds.Dc, DateTimeOffset.FromUnixTimeMilliseconds(p.Ts), Field, p.Value)).ToArray());
        expected[ms + 10_500] = 7.25;
        expected[ms - 60_000] = 1.5;
        expected[ms + 2_999_500] = 3.75;
        Assert.Equal(1, store.ConflictingPoints);

        // A counter goes back in time: its increases are recomputed from the raw points.
        Commit(store, Value(Bench, ReadingKinds.Dc, DateTimeOffset.FromUnixTimeMilliseconds(ms + 20_500), Counter, counter[ms + 20_000] + 0.5),
            Value(Bench, ReadingKinds.Dc, DateTimeOffset.FromUnixTimeMilliseconds(ms + 21_000), Counter, 12345)); // conflict
        counter[ms + 20_500] = counter[ms + 20_000] + 0.5;
        Assert.Equal(2, store.ConflictingPoints);

        AssertStored(store, id, expected);
        AssertStored(store, counterId, counter);
        var rollups = new StoreQueries(store).Rollups(id, Resolution.Minute, long.MinValue, long.MaxValue);
        Assert.Equal(expected.Count, rollups.Sum(r => r.Count));
        Assert.Equal(expected.Values.Sum(), rollups.Sum(r => r.Sum), 6);
        var counterRollups = new StoreQueries(store).Rollups(counterId, Resolution.Minute, long.MinValue, long.MaxValue);
        var increase = counter.Values.Zip(counter.Values.Skip(1), (a, b) => Math.Max(0, b - a)).Sum();
        Assert.Equal(increase, counterRollups.Sum(r => r.Increase), 6);
        Assert.Equal(0, counterRollups.Sum(r => r.Resets));
    }

    [Fact]
    public void A_sealed_block_that_takes_many_late_points_splits_and_nothing_overlaps()
    {
        var expected = new SortedDictionary<long, double>();
        using var store = Store(_dir);
        var ms = T0.ToUnixTimeMilliseconds();
        for (var batch = 0; batch < 60; batch++)
        {
            Commit(store, Enumerable.Range(batch * 50, 50).Select(i => Point(expected, ms + (i * 2), i)).ToArray());
        }

        for (var batch = 0; batch < 60; batch++)
        {
            Commit(store, Enumerable.Range(batch * 50, 50).Select(i => Point(expected, ms + (i * 2) + 1, -i)).ToArray());
        }

        var id = SeriesId(store, Field);
        AssertStored(store, id, expected);
        Assert.All(Blocks(store, id), b => Assert.True(b.Count <= 2 * PointBlockCache.DefaultCapPoints));
    }

    [Fact]
    public void A_failed_commit_keeps_none_of_its_points_and_the_next_commit_carries_on()
    {
        var expected = new SortedDictionary<long, double>();
        using var store = Store(_dir);
        WriteInOrder(store, expected, 0, 1500);
        var ms = T0.ToUnixTimeMilliseconds();
        var lost = Enumerable.Range(1500, 50).Select(i => Value(Bench, ReadingKinds.Dc, DateTimeOffset.FromUnixTimeMilliseconds(ms + (i * 1000L)), Field, 0.25)).ToArray();

        Assert.Throws<ArgumentException>(() => store.Commit([Batch("pi-dc-lab", ++_seq, T0, lost), new Broken(T0)]));

        var id = SeriesId(store, Field);
        AssertStored(store, id, expected);
        WriteInOrder(store, expected, 1500, 700);
        AssertStored(store, id, expected);
    }

    [Fact]
    public void Retention_drops_whole_blocks_trims_the_one_across_the_cutoff_and_the_writer_goes_on()
    {
        var expected = new SortedDictionary<long, double>();
        using var store = Store(_dir);
        WriteInOrder(store, expected, 0, 5000);
        var id = SeriesId(store, Field);
        var cutoff = T0.ToUnixTimeMilliseconds() + 2_345_500;

        var deleted = new RetentionStore(store).PurgePoints(cutoff);

        Assert.Equal(expected.Keys.Count(t => t < cutoff), deleted);
        foreach (var old in expected.Keys.Where(t => t < cutoff).ToList())
        {
            expected.Remove(old);
        }

        AssertStored(store, id, expected);
        WriteInOrder(store, expected, 5000, 100);
        AssertStored(store, id, expected);

        // Everything past the cutoff, the open block too: all gone, and the writer starts afresh.
        Assert.Equal(expected.Count, new RetentionStore(store).PurgePoints(long.MaxValue));
        expected.Clear();
        WriteInOrder(store, expected, 6000, 10);
        AssertStored(store, id, expected);
    }

    [Fact]
    public void The_reader_answers_as_the_table_of_rows_did()
    {
        var expected = new SortedDictionary<long, double>();
        using var store = Store(_dir);
        var random = new Random(15);
        var ms = T0.ToUnixTimeMilliseconds();
        for (var batch = 0; batch < 80; batch++)
        {
            // Mostly in order, some late, some repeated.
            var readings = Enumerable.Range(0, 50).Select(i =>
            {
                var ts = random.Next(5) == 0 ? ms + random.NextInt64(0, (batch + 1) * 50_000L) : ms + (batch * 50_000L) + (i * 1000L);
                var value = Math.Round(random.NextDouble() * 100, 2);
                if (!expected.ContainsKey(ts))
                {
                    expected[ts] = value;
                }

                return Value(Bench, ReadingKinds.Dc, DateTimeOffset.FromUnixTimeMilliseconds(ts), Field, value);
            }).ToArray();
            Commit(store, readings);
        }

        var id = SeriesId(store, Field);
        AssertStored(store, id, expected);
        using var connection = store.OpenReader();
        var keys = expected.Keys.ToArray();
        Assert.Equal(keys[0], PointReader.FirstTs(connection, id));
        for (var k = 0; k < 300; k++)
        {
            var a = ms + random.NextInt64(-100_000, 4_100_000);
            var b = a + random.NextInt64(0, 300_000);
            Assert.Equal(expected.Where(p => p.Key >= a && p.Key < b).Select(p => new RawPoint(p.Key, p.Value)), PointReader.Range(connection, null, id, a, b));
            var before = expected.LastOrDefault(p => p.Key < a);
            Assert.Equal(before.Key == 0 ? null : new RawPoint(before.Key, before.Value), PointReader.LastBefore(connection, null, id, a));
            var after = expected.FirstOrDefault(p => p.Key > a);
            Assert.Equal(after.Key == 0 ? null : new RawPoint(after.Key, after.Value), PointReader.NextAfter(connection, null, id, a));
        }
    }

    [Fact]
    public void A_store_of_the_row_per_value_code_is_converted_in_place_and_answers_the_same()
    {
        var path = _dir.File("collector.db");
        var expected = new Dictionary<long, SortedDictionary<long, double>>();
        var random = new Random(7);
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            SchemaLedger(connection, path);
            using var transaction = connection.BeginTransaction();
            using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = """
                INSERT OR IGNORE INTO series (id, site, sensor, kind, field) VALUES ($s, 'test-site', 'sensor-' || $s, 'dc', 'power_w');
                INSERT INTO points (series_id, ts_ms, value) VALUES ($s, $t, $v);
                """;
            var (s, t, v) = (insert.Parameters.Add("$s", SqliteType.Integer), insert.Parameters.Add("$t", SqliteType.Integer), insert.Parameters.Add("$v", SqliteType.Real));
            for (var series = 1L; series <= 4; series++)
            {
                var points = expected[series] = [];
                var ts = T0.ToUnixTimeMilliseconds();
                for (var i = 0; i < 2500 * series; i++)
                {
                    ts += random.Next(1, 4) * 1000;
                    var value = series == 3 ? random.NextDouble() : Math.Round(random.NextDouble() * 50, (int)series);
                    points[ts] = value;
                    (s.Value, t.Value, v.Value) = (series, ts, value);
                    insert.ExecuteNonQuery();
                }
            }

            transaction.Commit();

            // The new code opens it: migration 2, then the conversion, killed after three transactions of the conversion (small blocks here: 64 × 16 points each).
            Storage.Schema.SchemaLedger.Migrate(connection, path, Storage.Schema.StoreMigrations.All);
            Assert.False(LegacyPointsConversion.Run(connection, path, NullLogger.Instance, capPoints: 16, maxSlices: 3));
            Assert.Equal(2500, PointReader.Count(connection)); // series 1 in three slices (1,024 + 1,024 + 452)
        }

        using var store = Store(_dir);
        using (var connection = store.OpenReader())
        {
            foreach (var (series, points) in expected)
            {
                Assert.Equal(points.Select(p => new RawPoint(p.Key, p.Value)), PointReader.Range(connection, null, series, long.MinValue, long.MaxValue));
                AssertBlocksSound(connection, series);
            }
        }

        Assert.Equal(expected.Values.Sum(p => p.Count), new StoreQueries(store).Counts().Points);
        using var check = new SqliteConnection($"Data Source={path};Pooling=False");
        check.Open();
        using var command = check.CreateCommand();
        command.CommandText = "SELECT count(*) FROM sqlite_master WHERE name = 'points'";
        Assert.Equal(0L, command.ExecuteScalar());
    }

    private static void SchemaLedger(SqliteConnection connection, string path) =>
        Storage.Schema.SchemaLedger.Migrate(connection, path, Storage.Schema.StoreMigrations.All.Take(1).ToList());

    private sealed record Broken(DateTimeOffset Received) : IngestItem(Received);

    private sealed record Block(long Start, long End, long Count, bool Sealed);

    private Reading Point(SortedDictionary<long, double> expected, long ts, double value)
    {
        expected[ts] = value;
        return Value(Bench, ReadingKinds.Dc, DateTimeOffset.FromUnixTimeMilliseconds(ts), Field, value);
    }

    /// <summary>Points i = from … from + count - 1 at one a second, 50 to a batch, a power and (optionally) an energy counter.</summary>
    private void WriteInOrder(SqliteStore store, SortedDictionary<long, double> expected, int from, int count, SortedDictionary<long, double>? counter = null)
    {
        var ms = T0.ToUnixTimeMilliseconds();
        for (var start = from; start < from + count; start += 50)
        {
            var readings = new List<Reading>();
            for (var i = start; i < Math.Min(start + 50, from + count); i++)
            {
                var ts = ms + (i * 1000L);
                readings.Add(Point(expected, ts, Math.Round(100 + (10 * Math.Sin(i / 30.0)), 1)));
                if (counter is not null)
                {
                    counter[ts] = i * 2.5;
                    readings.Add(Value(Bench, ReadingKinds.Dc, DateTimeOffset.FromUnixTimeMilliseconds(ts), Counter, i * 2.5));
                }
            }

            Commit(store, [.. readings]);
        }
    }

    private void Commit(SqliteStore store, params Reading[] readings) =>
        Assert.Equal([CommitOutcome.Stored], store.Commit([Batch("pi-dc-lab", ++_seq, T0, readings)]));

    private static long SeriesId(SqliteStore store, string field) => new StoreQueries(store).SeriesId(SiteId, Bench, field)!.Value;

    private static void AssertStored(SqliteStore store, long id, SortedDictionary<long, double> expected)
    {
        using var connection = store.OpenReader();
        Assert.Equal(expected.Select(p => new RawPoint(p.Key, p.Value)), PointReader.Range(connection, null, id, long.MinValue, long.MaxValue));
        AssertBlocksSound(connection, id);
    }

    /// <summary>Blocks of a series never overlap, and their columns say what their data holds.</summary>
    private static void AssertBlocksSound(SqliteConnection connection, long id)
    {
        var last = long.MinValue;
        foreach (var (start, end, count, data) in Rows(connection, id))
        {
            var (ts, _) = PointCodec.Decode(data);
            Assert.Equal((start, end, count), (ts[0], ts[^1], (long)ts.Length));
            Assert.True(start > last, $"block at {start} overlaps the one before (ends {last})");
            last = end;
        }
    }

    private static List<Block> Blocks(SqliteStore store, long id)
    {
        using var connection = store.OpenReader();
        return Rows(connection, id).Select(r => new Block(r.Start, r.End, r.Count, PointCodec.IsSealed(r.Data))).ToList();
    }

    private static List<(long Start, long End, long Count, byte[] Data)> Rows(SqliteConnection connection, long id)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT start_ms, end_ms, count, data FROM point_blocks WHERE series_id = $id ORDER BY start_ms";
        command.Parameters.AddWithValue("$id", id);
        using var reader = command.ExecuteReader();
        var rows = new List<(long, long, long, byte[])>();
        while (reader.Read())
        {
            rows.Add((reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), (byte[])reader.GetValue(3)));
        }

        return rows;
    }
}
