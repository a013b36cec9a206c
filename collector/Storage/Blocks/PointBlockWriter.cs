using Microsoft.Data.Sqlite;
using NewTechPark.Edge.Collector.Storage.Rollups;

namespace NewTechPark.Edge.Collector.Storage.Blocks;

/// <summary>
/// The single writer's knowledge of each series' newest block, kept between commits so that an
/// in-order point is appended without reading its block back. It belongs to the transactions: after
/// a rollback it must be <see cref="Clear"/>ed (the next commit reads the committed blocks again),
/// so nothing unacknowledged is kept and nothing acknowledged is lost.
/// </summary>
public sealed class PointBlockCache
{
    /// <summary>A block is sealed (and compressed) at this many points.</summary>
    public const int DefaultCapPoints = 1024;

    /// <summary>
    /// ... or at this many encoded (uncompressed) bytes: the first cap of a series. SQLite keeps a
    /// row of up to about 1,000 bytes in its b-tree page (4 KiB pages); a longer one spills into an
    /// overflow page that stays mostly empty. After each sealed block the cap of its series follows
    /// its compression, so that the next sealed block lands near <see cref="TargetSealedBytes"/>.
    /// (Measured on the year bench: 47 % of the blocks' pages unused with a fixed 3,000-byte cap,
    /// 42 % with this one; the rest is the B-tree's fill, every series appending at its own place.)
    /// </summary>
    public const int DefaultCapBytes = 1_000;

    /// <summary>The size a sealed (compressed) block aims at: within one page's local payload.</summary>
    public const int TargetSealedBytes = 900;

    /// <summary>The largest open block in encoded bytes, however well its series compresses.</summary>
    public const int MaxCapBytes = 16_000;

    /// <summary>The next cap of a series whose last block took <paramref name="sealedBytes"/> sealed for <paramref name="encodedBytes"/> encoded.</summary>
    public static int NextCapBytes(long encodedBytes, int sealedBytes, int floor) =>
        (int)Math.Clamp(TargetSealedBytes * (double)encodedBytes / Math.Max(1, sealedBytes), floor, MaxCapBytes);

    // Bounded (an open block is at most a few KB in memory): past this many series the cache
    // starts over, and each series' open block is read back once when it is next written.
    private const int MaxSeries = 10_000;

    internal Dictionary<long, SeriesTail> Tails { get; } = [];

    public int CapPoints { get; init; } = DefaultCapPoints;

    public int CapBytes { get; init; } = DefaultCapBytes;

    public void Clear() => Tails.Clear();

    internal void Bound()
    {
        if (Tails.Count > MaxSeries)
        {
            Tails.Clear();
        }
    }

    /// <summary>The newest point of a series, and its open block if the newest block is not sealed.</summary>
    internal sealed class SeriesTail
    {
        public long LastTs = long.MinValue;
        public double LastValue;
        public OpenBlock? Open;
        public int CapBytes;
    }

    internal sealed class OpenBlock
    {
        public required PointEncoder Encoder;
        public long? StoredStart;
        public bool Dirty;

        public long Start => Encoder.FirstTs;
    }
}

/// <summary>
/// Writes raw points into <c>point_blocks</c> inside one transaction of the single writer. A point
/// newer than its series' newest is appended to the open block in memory, and each changed open
/// block is written once per commit (<see cref="Flush"/>). A late, out-of-order or repeated point
/// goes the slow way: the block that covers its time is decoded, the first value stored stays
/// (<see cref="PointWrite.Unchanged"/> or <see cref="PointWrite.Conflict"/>, as with one row per
/// value), a new time is put in order and the block re-encoded (split in two past twice the cap).
/// </summary>
public sealed class PointBlockWriter : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly SqliteTransaction _transaction;
    private readonly PointBlockCache _cache;
    private readonly PreparedStatements _statements;
    private readonly Dictionary<PointBlockCache.SeriesTail, long> _dirtySeries = [];
    private SqliteCommand? _upsert;
    private SqliteCommand? _delete;

    public PointBlockWriter(SqliteConnection connection, SqliteTransaction transaction, PointBlockCache cache)
    {
        _connection = connection;
        _transaction = transaction;
        _cache = cache;
        _statements = new PreparedStatements(connection, transaction);
        cache.Bound();
    }

    /// <summary>Stores one point; what happened to it.</summary>
    public PointWrite Write(long seriesId, long ts, double value)
    {
        var tail = Tail(seriesId);
        if (ts > tail.LastTs)
        {
            var open = tail.Open;
            if (open is null)
            {
                open = tail.Open = new PointBlockCache.OpenBlock { Encoder = new PointEncoder() };
            }

            open.Encoder.Append(ts, value);
            tail.LastTs = ts;
            tail.LastValue = value;
            MarkDirty(seriesId, tail);
            return PointWrite.Inserted;
        }

        return WriteLate(seriesId, tail, ts, value);
    }

    /// <summary>Writes every changed open block (sealing the full ones); call before reading raw points in the transaction, and before it commits.</summary>
    public void Flush()
    {
        foreach (var (tail, seriesId) in _dirtySeries)
        {
            FlushOne(seriesId, tail);
        }

        _dirtySeries.Clear();
    }

    private void FlushOne(long seriesId, PointBlockCache.SeriesTail tail)
    {
        if (tail.Open is not { Dirty: true } open)
        {
            return;
        }

        var full = open.Encoder.Count >= _cache.CapPoints || open.Encoder.Length >= tail.CapBytes;
        var written = WriteBlock(seriesId, open.StoredStart, open.Encoder, seal: full);
        open.StoredStart = open.Start;
        open.Dirty = false;
        if (full)
        {
            tail.CapBytes = PointBlockCache.NextCapBytes(open.Encoder.Length, written, _cache.CapBytes);
            tail.Open = null;
        }
    }

    /// <summary>The newest stored point of a series (this transaction's included), or null.</summary>
    public RawPoint? Last(long seriesId)
    {
        var tail = Tail(seriesId);
        return tail.LastTs == long.MinValue ? null : new RawPoint(tail.LastTs, tail.LastValue);
    }

    /// <summary>The newest point other than at <paramref name="excludeTs"/> (this transaction's included).</summary>
    public RawPoint? LastExcept(long seriesId, long excludeTs)
    {
        Flush();
        return PointReader.Last(_connection, _transaction, seriesId, excludeTs);
    }

    public RawPoint? LastBefore(long seriesId, long beforeMs)
    {
        Flush();
        return PointReader.LastBefore(_connection, _transaction, seriesId, beforeMs);
    }

    public RawPoint? NextAfter(long seriesId, long afterMs)
    {
        Flush();
        return PointReader.NextAfter(_connection, _transaction, seriesId, afterMs);
    }

    public List<RawPoint> Range(long seriesId, long fromMs, long toMs)
    {
        Flush();
        return PointReader.Range(_connection, _transaction, seriesId, fromMs, toMs).ToList();
    }

    public void Dispose() => _statements.Dispose();

    private void MarkDirty(long seriesId, PointBlockCache.SeriesTail tail)
    {
        tail.Open!.Dirty = true;
        _dirtySeries.TryAdd(tail, seriesId);
        if (tail.Open.Encoder.Count >= _cache.CapPoints || tail.Open.Encoder.Length >= tail.CapBytes)
        {
            // Full: write it sealed now, so a long commit of one series does not grow one block past the cap.
            FlushOne(seriesId, tail);
        }
    }

    private PointBlockCache.SeriesTail Tail(long seriesId)
    {
        if (_cache.Tails.TryGetValue(seriesId, out var tail))
        {
            return tail;
        }

        tail = new PointBlockCache.SeriesTail { CapBytes = _cache.CapBytes };
        using var command = _statements.Command("SELECT start_ms, data FROM point_blocks WHERE series_id = $s ORDER BY start_ms DESC LIMIT 1", "$s");
        command.Parameters[0].Value = seriesId;
        using (var reader = command.ExecuteReader())
        {
            if (reader.Read())
            {
                var data = (byte[])reader.GetValue(1);
                var (ts, values) = PointCodec.Decode(data);
                tail.LastTs = ts[^1];
                tail.LastValue = values[^1];
                if (!PointCodec.IsSealed(data))
                {
                    tail.Open = new PointBlockCache.OpenBlock { Encoder = PointEncoder.From(ts, values), StoredStart = reader.GetInt64(0) };
                }
            }
        }

        _cache.Tails[seriesId] = tail;
        return tail;
    }

    private PointWrite WriteLate(long seriesId, PointBlockCache.SeriesTail tail, long ts, double value)
    {
        if (tail.Open is { } open && open.Encoder.Count > 0 && ts >= open.Start)
        {
            return InsertIntoOpen(seriesId, tail, ts, value);
        }

        // A sealed block: the one that starts at or before ts, else the first one.
        Flush();
        var block = ReadBlock(seriesId, "SELECT start_ms, data FROM point_blocks WHERE series_id = $s AND start_ms <= $t ORDER BY start_ms DESC LIMIT 1", ts)
            ?? ReadBlock(seriesId, "SELECT start_ms, data FROM point_blocks WHERE series_id = $s ORDER BY start_ms LIMIT 1", ts);
        if (block is null || (tail.Open is { } o && block.Value.Start == o.StoredStart))
        {
            // No block at all (the cache outlived them), or the first block is the open one.
            if (tail.Open is null)
            {
                tail.Open = new PointBlockCache.OpenBlock { Encoder = new PointEncoder() };
            }

            return InsertIntoOpen(seriesId, tail, ts, value);
        }

        var (start, data) = block.Value;
        var (times, values) = PointCodec.Decode(data);
        var (write, newTimes, newValues) = Insert(times, values, ts, value);
        if (write != PointWrite.Inserted)
        {
            return write;
        }

        if (newTimes.Length > 2 * _cache.CapPoints)
        {
            var half = newTimes.Length / 2;
            DeleteBlock(seriesId, start);
            WriteBlock(seriesId, null, PointEncoder.From(newTimes.AsSpan(0, half), newValues.AsSpan(0, half)), seal: true);
            WriteBlock(seriesId, null, PointEncoder.From(newTimes.AsSpan(half), newValues.AsSpan(half)), seal: true);
        }
        else
        {
            WriteBlock(seriesId, start, PointEncoder.From(newTimes, newValues), seal: true);
        }

        return PointWrite.Inserted;
    }

    private PointWrite InsertIntoOpen(long seriesId, PointBlockCache.SeriesTail tail, long ts, double value)
    {
        var open = tail.Open!;
        if (open.Encoder.Count == 0)
        {
            open.Encoder.Append(ts, value);
        }
        else
        {
            var (times, values) = PointCodec.Decode(open.Encoder.ToBlock(seal: false));
            var (write, newTimes, newValues) = Insert(times, values, ts, value);
            if (write != PointWrite.Inserted)
            {
                return write;
            }

            open.Encoder = PointEncoder.From(newTimes, newValues);
        }

        if (open.Encoder.LastTs >= tail.LastTs)
        {
            tail.LastTs = open.Encoder.LastTs;
            tail.LastValue = open.Encoder.LastValue;
        }

        MarkDirty(seriesId, tail);
        return PointWrite.Inserted;
    }

    /// <summary>The point put in order; or, when its time is there, the stored value stays.</summary>
    private static (PointWrite, long[], double[]) Insert(long[] times, double[] values, long ts, double value)
    {
        var at = Array.BinarySearch(times, ts);
        if (at >= 0)
        {
            // As SQL's "value = ?" did: equal numbers are the same value (0.0 and -0.0 too).
            return (values[at] == value ? PointWrite.Unchanged : PointWrite.Conflict, times, values);
        }

        at = ~at;
        var newTimes = new long[times.Length + 1];
        var newValues = new double[values.Length + 1];
        Array.Copy(times, newTimes, at);
        Array.Copy(values, newValues, at);
        newTimes[at] = ts;
        newValues[at] = value;
        Array.Copy(times, at, newTimes, at + 1, times.Length - at);
        Array.Copy(values, at, newValues, at + 1, values.Length - at);
        return (PointWrite.Inserted, newTimes, newValues);
    }

    private (long Start, byte[] Data)? ReadBlock(long seriesId, string sql, long ts)
    {
        using var command = _statements.Command(sql, "$s", "$t");
        command.Parameters[0].Value = seriesId;
        command.Parameters[1].Value = ts;
        using var reader = command.ExecuteReader();
        return reader.Read() ? (reader.GetInt64(0), (byte[])reader.GetValue(1)) : null;
    }

    /// <summary>Writes a block (moving it when its first time changed); its length in bytes.</summary>
    private int WriteBlock(long seriesId, long? storedStart, PointEncoder encoder, bool seal)
    {
        if (storedStart is { } old && old != encoder.FirstTs)
        {
            DeleteBlock(seriesId, old);
        }

        _upsert ??= _statements.Prepare("""
            INSERT INTO point_blocks (series_id, start_ms, end_ms, count, data) VALUES ($s, $start, $end, $count, $data)
            ON CONFLICT (series_id, start_ms) DO UPDATE SET end_ms = excluded.end_ms, count = excluded.count, data = excluded.data
            """, "$s", "$start", "$end", "$count", "$data");
        var p = _upsert.Parameters;
        p[0].Value = seriesId;
        p[1].Value = encoder.FirstTs;
        p[2].Value = encoder.LastTs;
        p[3].Value = encoder.Count;
        var data = encoder.ToBlock(seal);
        p[4].Value = data;
        _upsert.ExecuteNonQuery();
        return data.Length;
    }

    private void DeleteBlock(long seriesId, long start)
    {
        _delete ??= _statements.Prepare("DELETE FROM point_blocks WHERE series_id = $s AND start_ms = $start", "$s", "$start");
        _delete.Parameters[0].Value = seriesId;
        _delete.Parameters[1].Value = start;
        _delete.ExecuteNonQuery();
    }
}
