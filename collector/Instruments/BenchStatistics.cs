using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Collector.Storage.Instruments;
using NewTechPark.Edge.Collector.Storage.Rollups;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Collector.Instruments;

/// <summary>Min, max and mean of one value over a window; null figures when it has no point there.</summary>
public sealed record FieldStatistics(long Count, double? Min, double? Max, double? Mean, DateTimeOffset? First, DateTimeOffset? Last);

/// <summary>
/// A bench's figures over a window: per value name its min, max and mean, and the integrals of
/// power (Wh) and current (Ah). <see cref="Source"/> says what they were computed from: <c>raw</c>
/// (every stored point), <c>minute</c> (the minute rollups, beyond the raw retention or with the
/// raw points in InfluxDB only) or <c>minute+raw</c> (a window across the raw cutoff).
/// </summary>
public sealed record BenchStatisticsResult(
    string Sensor,
    string Kind,
    DateTimeOffset From,
    DateTimeOffset To,
    string Source,
    double MaxGapS,
    IReadOnlyDictionary<string, FieldStatistics> Fields,
    double? EnergyWh,
    double? ChargeAh,
    double CoveredS,
    long Gaps);

/// <summary>
/// Bench statistics over a window, computed from the stored raw points where the store keeps them
/// and from the minute rollups before the raw cutoff.
/// <list type="bullet">
/// <item>min, max, mean: over the points (the mean is the mean of the readings, as the series API's).</item>
/// <item>energy and charge: trapezoids between neighbouring raw points of <c>power_w</c> and
/// <c>current_a</c>; a pair further apart than <c>maxGap</c> is not bridged (counted in <c>gaps</c>),
/// so an unplugged bench is not booked as running at its last reading. Nothing is extrapolated to
/// the window's ends: the integral runs from the first to the last point inside it.</item>
/// <item>from minute rollups: each minute with readings counts as a whole minute at its mean.</item>
/// </list>
/// </summary>
public sealed class BenchStatistics(SqliteStore store, StoreQueries queries)
{
    public const string PowerField = ReadingKinds.DcValues.PowerW;
    public const string CurrentField = ReadingKinds.DcValues.CurrentA;

    /// <summary>
    /// The most raw points of one value a request may integrate: a week of a bench at 5 Hz is 3.0 M
    /// (about 1.5 s for its three values on a 2-core machine). Bounded in points, not days, since
    /// a 100 Hz bench stores twenty times as many readings per day.
    /// </summary>
    public const long DefaultMaxRawPoints = 4_000_000;

    /// <summary>The bound in force (<see cref="DefaultMaxRawPoints"/>; tests lower it).</summary>
    public long MaxRawPoints { get; set; } = DefaultMaxRawPoints;

    /// <summary>Windows up to this long use the decoded-block cache (the live windows, asked for every 2 s).</summary>
    private static readonly long CachedWindowMs = TimeBuckets.HourMs;

    private readonly InstrumentStore _db = new(store);

    /// <summary>The sensor's series, or empty when nothing of it was stored.</summary>
    public IReadOnlyList<SensorSeries> SeriesOf(string site, string sensor) => _db.SeriesOf(site, sensor);

    /// <summary>The value names a kind of reading carries, for a site sensor that has stored nothing yet.</summary>
    public static IReadOnlyList<string> ValuesOf(string kind) =>
        kind == ReadingKinds.Dc ? [ReadingKinds.DcValues.VoltageV, ReadingKinds.DcValues.CurrentA, ReadingKinds.DcValues.PowerW] : [];

    /// <summary>
    /// The figures of a sensor the site file names but that has stored no reading yet: counts of
    /// zero, not a 404, so a page that shows every bench of the site asks for each without an error.
    /// </summary>
    public BenchStatisticsResult Empty(string sensor, string kind, DateTimeOffset from, DateTimeOffset to, TimeSpan maxGap) =>
        new(sensor, kind, from, to, _db.KeepsRawPoints(kind) ? "raw" : "minute", maxGap.TotalSeconds,
            ValuesOf(kind).ToDictionary(v => v, _ => new FieldStatistics(0, null, null, null, null, null)), null, null, 0, 0);

    /// <summary>The raw points the busiest value of the window holds after the raw cutoff (what <see cref="Compute"/> would decode).</summary>
    public long RawPointsIn(IReadOnlyList<SensorSeries> series, DateTimeOffset from, DateTimeOffset to)
    {
        if (series.Count == 0)
        {
            return 0;
        }

        var (fromMs, toMs) = (from.ToUnixTimeMilliseconds(), to.ToUnixTimeMilliseconds());
        var cutoff = RawFrom(series[0].Kind, fromMs, toMs);
        return cutoff >= toMs ? 0 : series.Max(s => _db.CountPoints(s.Id, cutoff, toMs));
    }

    // Raw points from the cutoff on, on whole minutes so the minute rows and the raw points never share a minute.
    private long RawFrom(string kind, long fromMs, long toMs) =>
        !_db.KeepsRawPoints(kind) ? toMs : Math.Clamp(TimeBuckets.FloorTo(_db.RawCutoffMs, TimeBuckets.MinuteMs), fromMs, toMs);

    public BenchStatisticsResult Compute(string sensor, IReadOnlyList<SensorSeries> series, DateTimeOffset from, DateTimeOffset to, TimeSpan maxGap)
    {
        var fromMs = from.ToUnixTimeMilliseconds();
        var toMs = to.ToUnixTimeMilliseconds();
        var kind = series[0].Kind;
        var raw = _db.KeepsRawPoints(kind);
        var cutoff = RawFrom(kind, fromMs, toMs);
        var cached = toMs - fromMs <= CachedWindowMs;
        var usedMinutes = false;
        var usedRaw = false;
        var fields = new Dictionary<string, FieldStatistics>();
        Integral? energy = null, charge = null;
        var gapMs = (long)maxGap.TotalMilliseconds;
        foreach (var s in series)
        {
            var acc = new Accumulator();
            var integral = new Integral(gapMs);
            if (cutoff > fromMs)
            {
                foreach (var row in queries.Rollups(s.Id, Resolution.Minute, fromMs, cutoff))
                {
                    usedMinutes = true;
                    acc.AddRollup(row);
                    integral.AddMinute(row.Sum / row.Count);
                }
            }

            if (cutoff < toMs)
            {
                foreach (var (ts, values) in _db.Blocks(s.Id, cutoff, toMs, cached))
                {
                    for (var i = 0; i < ts.Length; i++)
                    {
                        if (ts[i] >= cutoff && ts[i] < toMs)
                        {
                            usedRaw = true;
                            acc.Add(ts[i], values[i]);
                            integral.Add(ts[i], values[i]);
                        }
                    }
                }
            }

            fields[s.Field] = acc.ToStatistics();
            if (s.Field == PowerField)
            {
                energy = integral;
            }
            else if (s.Field == CurrentField)
            {
                charge = integral;
            }
        }

        var source = usedMinutes && usedRaw ? "minute+raw" : usedMinutes || !raw ? "minute" : "raw";
        var basis = energy ?? charge;
        return new BenchStatisticsResult(sensor, kind, from, to, source, maxGap.TotalSeconds, fields,
            energy is { CoveredMs: > 0 } ? energy.Hours : null,
            charge is { CoveredMs: > 0 } ? charge.Hours : null,
            (basis?.CoveredMs ?? 0) / 1000.0,
            basis?.Gaps ?? 0);
    }

    /// <summary>Count, min, max, sum of one value; the first and last point's time.</summary>
    private sealed class Accumulator
    {
        private long _count;
        private double _min = double.PositiveInfinity, _max = double.NegativeInfinity, _sum;
        private long? _first, _last;

        public void Add(long ts, double value)
        {
            _count++;
            _min = Math.Min(_min, value);
            _max = Math.Max(_max, value);
            _sum += value;
            _first ??= ts;
            _last = ts;
        }

        public void AddRollup(RollupRow row)
        {
            if (row.Count == 0)
            {
                return;
            }

            _count += row.Count;
            _min = Math.Min(_min, row.Min);
            _max = Math.Max(_max, row.Max);
            _sum += row.Sum;
            // A minute row knows its minute, not its points' times.
            _first ??= row.BucketMs;
            _last = row.BucketMs + TimeBuckets.MinuteMs - 1;
        }

        public FieldStatistics ToStatistics() => _count == 0
            ? new FieldStatistics(0, null, null, null, null, null)
            : new FieldStatistics(_count, _min, _max, _sum / _count, Time(_first), Time(_last));

        private static DateTimeOffset? Time(long? ms) => ms is { } m ? DateTimeOffset.FromUnixTimeMilliseconds(m) : null;
    }

    /// <summary>The trapezoid integral of a value over time, in value-hours, not bridging gaps longer than the bound.</summary>
    private sealed class Integral(long maxGapMs)
    {
        private long? _lastTs;
        private double _lastValue;
        private double _valueMs;

        public long CoveredMs { get; private set; }

        public long Gaps { get; private set; }

        public double Hours => _valueMs / TimeBuckets.HourMs;

        public void Add(long ts, double value)
        {
            if (_lastTs is { } previous)
            {
                var dt = ts - previous;
                if (dt > maxGapMs)
                {
                    Gaps++;
                }
                else
                {
                    _valueMs += (_lastValue + value) / 2 * dt;
                    CoveredMs += dt;
                }
            }

            _lastTs = ts;
            _lastValue = value;
        }

        public void AddMinute(double mean)
        {
            _valueMs += mean * TimeBuckets.MinuteMs;
            CoveredMs += TimeBuckets.MinuteMs;
        }
    }
}
