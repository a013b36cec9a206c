using Microsoft.Data.Sqlite;
using NewTechPark.Edge.Collector.Storage.Blocks;

namespace NewTechPark.Edge.Collector.Storage.Rollups;

/// <summary>What writing one point did to the points table.</summary>
public enum PointWrite
{
    /// <summary>A new (series, time).</summary>
    Inserted,

    /// <summary>An existing (series, time) got another value.</summary>
    Replaced,

    /// <summary>An existing (series, time) with the same value: nothing changed.</summary>
    Unchanged,

    /// <summary>An existing (series, time) with another value: refused, the stored value stays.</summary>
    Conflict,

    /// <summary>
    /// Not written to the points table (<c>Collector:Influx:Mode=Instead</c>): the rollups cannot be
    /// recomputed from raw points, so the point is added as new, a counter's last point is kept in
    /// <c>counter_last</c>, and a counter point older than that books no increase (the increase
    /// over the whole span stays right; it is booked in the later point's minute).
    /// </summary>
    NotStored,
}

/// <summary>
/// The long-lived part of the rollups: the bucket boundaries and, per counter series,
/// its last point as of the last commit (so a new point's increase needs no query).
/// </summary>
public sealed class RollupState(TimeBuckets buckets)
{
    /// <summary>Higher resolutions kept from the minute buckets up.</summary>
    public static readonly Resolution[] Levels = [Resolution.Minute, Resolution.Hour, Resolution.Day, Resolution.Month, Resolution.Year];

    public TimeBuckets Buckets { get; } = buckets;

    private long _rawCutoffMs;

    /// <summary>Points older than this (Unix ms) may have been purged from the raw table; 0 = nothing purged. Set by the retention, read by the ingest (atomic on a 32-bit Pi too).</summary>
    public long RawCutoffMs
    {
        get => Interlocked.Read(ref _rawCutoffMs);
        set => Interlocked.Exchange(ref _rawCutoffMs, value);
    }

    internal Dictionary<long, (long Ts, double Value)> LastCounterPoint { get; } = [];

    /// <summary>
    /// The store may hold minute rows that raw points also cover (written by a collector from before
    /// minutes were computed): a commit then adds its points to the stored row of their minute, as
    /// before, so a stored row (which wins when read) never misses a point. Set when the store opens.
    /// </summary>
    public bool MayHoldCoveredMinuteRows { get; set; }

    /// <summary>Counters are the values whose name ends in <c>_total</c> (contract).</summary>
    public static bool IsCounter(string field) => field.EndsWith("_total", StringComparison.Ordinal);
}

/// <summary>
/// Keeps the hour, day, month and year rollups of the points written in one transaction (and the
/// minute rollups where no raw points cover them): min, max, sum and count of every series, plus
/// for counters (<c>*_total</c>) the increase and the number of resets (a counter that goes down
/// starts a new segment: nothing negative, no spike). New points are added incrementally: a
/// minute bucket per series and minute in memory, merged into one upsert per touched bucket of
/// each level; a replaced value or a counter point that arrives out of order marks its minute (and
/// the next point's minute) dirty, and dirty buckets are recomputed exactly from the level below,
/// up to the year. Minutes of a series whose raw points are stored are not written: they are
/// computed from the blocks when read (<see cref="MinuteBuckets"/>); only the points of minutes
/// before the raw cutoff and those not stored raw (<c>Collector:Influx:Mode=Instead</c>) get rows.
/// </summary>
public sealed class RollupWriter : IDisposable
{
    private readonly RollupState _state;
    private readonly TimeBuckets _buckets;
    private readonly Dictionary<(long Series, long Minute), Acc> _minutes = [];
    private readonly Dictionary<long, List<(long Ts, double Value)>> _counterPoints = [];
    private readonly Dictionary<long, (long Ts, double Value)?> _counterBefore = [];
    private readonly HashSet<long> _counterSeries = [];
    private readonly HashSet<(long Series, long Minute)> _dirty = [];
    private readonly Dictionary<long, (long Ts, double Value)> _pendingLast = [];
    private readonly HashSet<long> _notStored = [];
    private readonly HashSet<long> _minuteRows = [];
    private readonly PreparedStatements _statements;
    private readonly PointBlockWriter _points;
    private readonly SqliteConnection _connection;
    private readonly SqliteTransaction _transaction;
    private SqliteCommand? _upsert;
    private SqliteCommand? _addToMinute;

    /// <summary>The rollups of one transaction; <paramref name="points"/> is the same transaction's raw points (read for late data and counters).</summary>
    public RollupWriter(SqliteConnection connection, SqliteTransaction transaction, RollupState state, PointBlockWriter points)
    {
        _statements = new PreparedStatements(connection, transaction);
        _connection = connection;
        _transaction = transaction;
        _points = points;
        _state = state;
        _buckets = state.Buckets;
    }

    /// <summary>Notes a point that the transaction wrote to the points table.</summary>
    public void Add(long seriesId, string field, long ts, double value, PointWrite write)
    {
        if (write is PointWrite.Unchanged or PointWrite.Conflict)
        {
            return;
        }

        var counter = RollupState.IsCounter(field);
        var minute = TimeBuckets.FloorTo(ts, TimeBuckets.MinuteMs);
        if (write == PointWrite.NotStored)
        {
            _minuteRows.Add(seriesId); // no raw points to compute its minutes from
        }

        if (counter)
        {
            _counterSeries.Add(seriesId);
            if (write == PointWrite.NotStored)
            {
                _notStored.Add(seriesId);
            }

            if (!_counterBefore.ContainsKey(seriesId))
            {
                // The last point before this commit: from memory, or the newest other point stored.
                _counterBefore[seriesId] = _state.LastCounterPoint.TryGetValue(seriesId, out var known) ? known : LastPoint(seriesId, excludeTs: ts);
            }
        }

        if (write == PointWrite.Replaced)
        {
            _dirty.Add((seriesId, minute));
            if (counter && NextPoint(seriesId, ts) is { } next)
            {
                _dirty.Add((seriesId, TimeBuckets.FloorTo(next, TimeBuckets.MinuteMs)));
            }

            return;
        }

        ref var acc = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_minutes, (seriesId, minute), out var exists);
        acc = exists ? acc.With(value) : Acc.Of(value);
        if (counter)
        {
            if (!_counterPoints.TryGetValue(seriesId, out var list))
            {
                _counterPoints[seriesId] = list = [];
            }

            list.Add((ts, value));
        }
    }

    /// <summary>Writes the rollups of everything added; call before the transaction commits.</summary>
    public void Flush()
    {
        BookCounterIncreases();
        foreach (var key in _dirty)
        {
            _minutes.Remove(key);
        }

        // Incremental: aggregate per bucket of every level, then one upsert each. A minute is
        // written only where no raw points will answer for it (see MinuteBuckets).
        var levels = new Dictionary<(long Series, Resolution Res, long Bucket), Acc>();
        var cutoff = _state.RawCutoffMs;
        foreach (var ((series, minute), acc) in _minutes)
        {
            foreach (var level in RollupState.Levels)
            {
                if (level == Resolution.Minute && minute >= cutoff && !_minuteRows.Contains(series))
                {
                    if (_state.MayHoldCoveredMinuteRows)
                    {
                        AddToMinuteRow(series, minute, acc);
                    }

                    continue;
                }

                var key = (series, level, level == Resolution.Minute ? minute : _buckets.Floor(level, minute));
                levels[key] = levels.TryGetValue(key, out var sum) ? sum.Merge(acc) : acc;
            }
        }

        foreach (var ((series, res, bucket), acc) in levels)
        {
            Upsert(series, res, bucket, acc, replace: false);
        }

        if (_dirty.Count > 0)
        {
            RecomputeDirty();
        }

        foreach (var series in _counterSeries)
        {
            if (_notStored.Contains(series))
            {
                _pendingLast[series] = NewestNotStored(series);
                continue;
            }

            // After out-of-order or replaced counter points, the newest stored point is the truth.
            _pendingLast[series] = _points.Last(series) is { } newest ? (newest.Ts, newest.Value) : default;
        }
    }

    /// <summary>The transaction committed: remember each counter's last point.</summary>
    public void Committed()
    {
        foreach (var (series, last) in _pendingLast)
        {
            if (last.Ts != 0 || last.Value != 0)
            {
                _state.LastCounterPoint[series] = last;
            }
        }
    }

    public void Dispose()
    {
        _statements.Dispose();
    }

    /// <summary>The increase of a counter from one point to the next: a drop starts a new segment and books nothing.</summary>
    public static (double Increase, int Resets) Step(double? previous, double value) => previous switch
    {
        null => (0, 0),
        { } p when value >= p => (value - p, 0),
        _ => (0, 1),
    };

    private void BookCounterIncreases()
    {
        foreach (var (series, points) in _counterPoints)
        {
            points.Sort((a, b) => a.Ts.CompareTo(b.Ts));
            var before = _counterBefore.GetValueOrDefault(series);
            var current = before;
            foreach (var (ts, value) in points)
            {
                if (current is { } c && ts <= c.Ts)
                {
                    if (_notStored.Contains(series))
                    {
                        continue; // no raw points to recompute from: counted, but its increase stays with the later point
                    }

                    // Out of order: this point and the one after it change their increases.
                    _dirty.Add((series, TimeBuckets.FloorTo(ts, TimeBuckets.MinuteMs)));
                    if (NextPoint(series, ts) is { } next)
                    {
                        _dirty.Add((series, TimeBuckets.FloorTo(next, TimeBuckets.MinuteMs)));
                    }

                    continue;
                }

                var (increase, resets) = Step(current?.Value, value);
                var key = (series, TimeBuckets.FloorTo(ts, TimeBuckets.MinuteMs));
                if (_minutes.TryGetValue(key, out var acc))
                {
                    _minutes[key] = acc with { Inc = acc.Inc + increase, Resets = acc.Resets + resets };
                }

                current = (ts, value);
            }
        }
    }

    private void RecomputeDirty()
    {
        // Minute buckets from the raw points, then each level from the one below it.
        var touched = new HashSet<(long Series, long Bucket)>();
        foreach (var (series, minute) in _dirty)
        {
            if (minute < _state.RawCutoffMs)
            {
                continue; // the raw points of that minute are gone; its rollup stays as it was
            }

            RecomputeMinute(series, minute);
            touched.Add((series, minute));
        }

        foreach (var level in RollupState.Levels.Skip(1))
        {
            var parents = touched.Select(t => (t.Series, _buckets.Floor(level, t.Bucket))).ToHashSet();
            var child = _buckets.Child(level);
            foreach (var (series, bucket) in parents)
            {
                RecomputeFromChildren(series, level, child, bucket, _buckets.Next(level, bucket));
            }

            touched = parents;
        }
    }

    /// <summary>
    /// A dirty minute of a series with raw points: its raw points are the truth, so a stored row
    /// (from before the raw minutes were computed) goes; the levels above read the minute from the blocks.
    /// </summary>
    private void RecomputeMinute(long series, long minute) => Store(series, Resolution.Minute, minute, null);

    private void RecomputeFromChildren(long series, Resolution level, Resolution child, long from, long to)
    {
        if (child == Resolution.Minute)
        {
            // Minutes: the stored rows, and the others from the raw points (this transaction's included).
            Acc? sum = null;
            foreach (var (_, minute) in MinuteBuckets.Read(_connection, _transaction, series, _counterSeries.Contains(series), from, to,
                (a, b) => _points.Range(series, a, b), t => _points.LastBefore(series, t)))
            {
                sum = sum is { } s ? s.Merge(minute) : minute;
            }

            Store(series, level, from, sum);
            return;
        }

        using var command = Command("""
            SELECT min(min), max(max), sum(sum), sum(count), sum(inc), sum(resets) FROM rollups
            WHERE series_id = $s AND res = $r AND bucket_ms >= $a AND bucket_ms < $b HAVING count(*) > 0
            """, "$s", "$r", "$a", "$b");
        command.Parameters[0].Value = series;
        command.Parameters[1].Value = (int)child;
        command.Parameters[2].Value = from;
        command.Parameters[3].Value = to;
        Acc? acc = null;
        using (var reader = command.ExecuteReader())
        {
            if (reader.Read())
            {
                acc = new Acc(reader.GetDouble(0), reader.GetDouble(1), reader.GetDouble(2), reader.GetInt64(3), reader.GetDouble(4), reader.GetInt64(5));
            }
        }

        Store(series, level, from, acc);
    }

    private void Store(long series, Resolution res, long bucket, Acc? acc)
    {
        if (acc is { } a)
        {
            Upsert(series, res, bucket, a, replace: true);
            return;
        }

        using var delete = Command("DELETE FROM rollups WHERE series_id = $s AND res = $r AND bucket_ms = $b", "$s", "$r", "$b");
        delete.Parameters[0].Value = series;
        delete.Parameters[1].Value = (int)res;
        delete.Parameters[2].Value = bucket;
        delete.ExecuteNonQuery();
    }

    /// <summary>
    /// Adds the minute's new points to its stored row, if it has one (a store from before computed
    /// minutes; the row wins when read, so it must not miss them); makes no row.
    /// </summary>
    private void AddToMinuteRow(long series, long minute, Acc acc)
    {
        _addToMinute ??= Prepare("""
            UPDATE rollups SET min = min(min, $min), max = max(max, $max), sum = sum + $sum, count = count + $n, inc = inc + $inc, resets = resets + $resets
            WHERE series_id = $s AND res = $r AND bucket_ms = $b
            """, RollupRowParameters.ParameterNames);
        RollupRowParameters.Bind(_addToMinute, series, Resolution.Minute, minute, acc);
        _addToMinute.ExecuteNonQuery();
    }

    private void Upsert(long series, Resolution res, long bucket, Acc acc, bool replace)
    {
        SqliteCommand command;
        if (replace)
        {
            command = Command("INSERT OR REPLACE INTO rollups (series_id, res, bucket_ms, min, max, sum, count, inc, resets) VALUES ($s, $r, $b, $min, $max, $sum, $n, $inc, $resets)",
                RollupRowParameters.ParameterNames);
        }
        else
        {
            command = _upsert ??= Prepare("""
                INSERT INTO rollups (series_id, res, bucket_ms, min, max, sum, count, inc, resets) VALUES ($s, $r, $b, $min, $max, $sum, $n, $inc, $resets)
                ON CONFLICT (series_id, res, bucket_ms) DO UPDATE SET
                    min = min(rollups.min, excluded.min), max = max(rollups.max, excluded.max),
                    sum = rollups.sum + excluded.sum, count = rollups.count + excluded.count,
                    inc = rollups.inc + excluded.inc, resets = rollups.resets + excluded.resets
                """, RollupRowParameters.ParameterNames);
        }

        RollupRowParameters.Bind(command, series, res, bucket, acc);
        command.ExecuteNonQuery();
        if (replace)
        {
            command.Dispose();
        }
    }

    private (long Ts, double Value)? LastPoint(long series, long? excludeTs)
    {
        var stored = excludeTs is { } x ? _points.LastExcept(series, x) : _points.Last(series);
        (long Ts, double Value)? last = stored is { } p ? (p.Ts, p.Value) : null;
        if (excludeTs is null)
        {
            return last;
        }

        // Points not stored raw (Influx Mode=Instead) leave their counter's last point here.
        using var kept = Command("SELECT ts_ms, value FROM counter_last WHERE series_id = $s AND ts_ms <> $x", "$s", "$x");
        kept.Parameters[0].Value = series;
        kept.Parameters[1].Value = excludeTs.Value;
        using var row = kept.ExecuteReader();
        return row.Read() && (last is null || row.GetInt64(0) > last.Value.Ts) ? (row.GetInt64(0), row.GetDouble(1)) : last;
    }

    /// <summary>The newest point of a counter whose points are not stored raw, saved in <c>counter_last</c> in this transaction.</summary>
    private (long Ts, double Value) NewestNotStored(long series)
    {
        var newest = _counterBefore.GetValueOrDefault(series);
        foreach (var point in _counterPoints.GetValueOrDefault(series) ?? [])
        {
            if (newest is not { } n || point.Ts > n.Ts)
            {
                newest = point;
            }
        }

        if (newest is not { } last)
        {
            return default;
        }

        using var save = Command("INSERT INTO counter_last (series_id, ts_ms, value) VALUES ($s, $t, $v) ON CONFLICT (series_id) DO UPDATE SET ts_ms = excluded.ts_ms, value = excluded.value",
            "$s", "$t", "$v");
        save.Parameters[0].Value = series;
        save.Parameters[1].Value = last.Ts;
        save.Parameters[2].Value = last.Value;
        save.ExecuteNonQuery();
        return last;
    }

    private long? NextPoint(long series, long after) => _points.NextAfter(series, after)?.Ts;

    private SqliteCommand Command(string sql, params string[] parameters) => _statements.Command(sql, parameters);

    private SqliteCommand Prepare(string sql, params string[] parameters) => _statements.Prepare(sql, parameters);

    /// <summary>The aggregate of one bucket.</summary>
    public readonly record struct Acc(double Min, double Max, double Sum, long Count, double Inc, long Resets)
    {
        public static Acc Of(double value) => new(value, value, value, 1, 0, 0);

        public Acc With(double value) => new(Math.Min(Min, value), Math.Max(Max, value), Sum + value, Count + 1, Inc, Resets);

        public Acc Merge(Acc other) => new(Math.Min(Min, other.Min), Math.Max(Max, other.Max), Sum + other.Sum, Count + other.Count, Inc + other.Inc, Resets + other.Resets);
    }
}
