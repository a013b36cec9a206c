using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Readers.Climate;
using NewTechPark.Edge.Agent.Readers.Dc;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Agent.Readers.Filters;

/// <summary>
/// The publish filters of one sensor (<see cref="FilterOptions"/>), between its reader and the
/// publish queue. Driven only by the readings' own timestamps, never by a timer or the wall clock,
/// so the same readings always give the same output:
/// <list type="number">
/// <item><b>Throttle</b> (ESPHome's <c>throttle_average</c>): readings are held per window
/// (<c>floor(ts / Throttle)</c>); when a reading of another window arrives, or at
/// <see cref="Flush"/>, the held window goes on as one reading with the mean of each field and the
/// time of its last reading. A window is closed by the next reading, so it leaves at most one
/// sample interval after its end.</item>
/// <item><b>Delta</b> (ESPHome's <c>delta</c>): a reading goes on only when some field named in
/// the deadband differs from the last published reading by more than its delta.</item>
/// <item><b>Heartbeat</b>: with a deadband, a reading goes on anyway once the last published one is
/// <c>Heartbeat</c> old (or the clock went back), so a steady sensor keeps showing it is alive;
/// a dead one sends nothing.</item>
/// </list>
/// Non-finite values are dropped on entry (the contract allows finite numbers only): they count
/// as no movement, join no mean and never become the baseline.
/// </summary>
public sealed class ReadingFilter : IReadingSink
{
    // Values are rounded to at most 5 decimals: a difference within this share of their size is
    // floating-point noise, so "exactly the delta" means the same on every platform.
    private const double Tolerance = 1e-9;

    private readonly IReadingSink _next;
    private readonly Dictionary<string, double> _delta;
    private readonly long _throttleTicks;
    private readonly TimeSpan? _heartbeat;
    private readonly Lock _gate = new();

    private long _window;
    private readonly Dictionary<string, (double Sum, int Count)> _sums = new(StringComparer.Ordinal);
    private Reading? _lastOfWindow;
    private int _held;

    private Dictionary<string, double>? _baseline;
    private DateTimeOffset _lastPublished;

    private long _received;
    private long _published;

    public ReadingFilter(FilterOptions options, IReadingSink next)
    {
        _next = next;
        _delta = new Dictionary<string, double>(options.Delta, StringComparer.Ordinal);
        _throttleTicks = options.Throttle is { Ticks: > 0 } throttle ? throttle.Ticks : 0;
        _heartbeat = options.HeartbeatInForce;
    }

    /// <summary>The sink a sensor's reader writes to: <paramref name="next"/> itself when the sensor has no filter.</summary>
    public static IReadingSink For(SensorOptions sensor, IReadingSink next) =>
        sensor.Filters.Any ? new ReadingFilter(sensor.Filters, next) : next;

    /// <summary>Readings the reader gave.</summary>
    public long Received => Interlocked.Read(ref _received);

    /// <summary>Readings handed on to the queue (means count once).</summary>
    public long Published => Interlocked.Read(ref _published);

    /// <summary>
    /// Takes a reading. True when it was handled (held, dropped by the deadband, or handed on);
    /// false only when the queue after the filter refused what was handed on.
    /// </summary>
    public bool TryAdd(Reading reading)
    {
        ArgumentNullException.ThrowIfNull(reading);
        lock (_gate)
        {
            Interlocked.Increment(ref _received);
            var values = Finite(reading.Values);
            if (values.Count == 0)
            {
                // Nothing publishable (a badge scan or a reading of non-finite values only).
                return reading.Values is null ? Pass(reading) : true;
            }

            if (_throttleTicks == 0)
            {
                return Pass(values.Count == reading.Values!.Count ? reading : reading with { Values = values });
            }

            var window = reading.Ts.UtcTicks / _throttleTicks;
            var handed = true;
            if (_held > 0 && window != _window)
            {
                handed = CloseWindow();
            }

            _window = window;
            foreach (var (field, value) in values)
            {
                var (sum, count) = _sums.GetValueOrDefault(field);
                _sums[field] = (sum + value, count + 1);
            }

            _lastOfWindow = reading;
            _held++;
            return handed;
        }
    }

    /// <summary>
    /// Hands on the window the throttle holds, if any: called when the reader stops or fails, so
    /// its last readings are not kept back until it runs again.
    /// </summary>
    public bool Flush()
    {
        lock (_gate)
        {
            return _held == 0 || CloseWindow();
        }
    }

    private bool CloseWindow()
    {
        var last = _lastOfWindow!;
        var means = new Dictionary<string, double>(_sums.Count, StringComparer.Ordinal);
        foreach (var (field, (sum, count)) in _sums)
        {
            means[field] = Round(field, sum / count);
        }

        _sums.Clear();
        _held = 0;
        _lastOfWindow = null;
        return Pass(last with { Values = means });
    }

    private bool Pass(Reading reading)
    {
        if (_delta.Count > 0 && reading.Values is { } values)
        {
            var elapsed = reading.Ts - _lastPublished;
            var due = _baseline is null || elapsed >= _heartbeat || elapsed < TimeSpan.Zero;
            if (!due && !Moved(values, _baseline!))
            {
                return true;
            }

            // The last published value of each field, even when this reading lacks some of them.
            _baseline ??= new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var (field, value) in values)
            {
                _baseline[field] = value;
            }

            _lastPublished = reading.Ts;
        }

        Interlocked.Increment(ref _published);
        return _next.TryAdd(reading);
    }

    private bool Moved(Dictionary<string, double> values, Dictionary<string, double> baseline)
    {
        foreach (var (field, delta) in _delta)
        {
            if (!values.TryGetValue(field, out var value))
            {
                continue;
            }

            if (!baseline.TryGetValue(field, out var before))
            {
                return true;
            }

            var scale = Math.Max(1, Math.Max(Math.Abs(value), Math.Abs(before)));
            if (Math.Abs(value - before) - delta > Tolerance * scale)
            {
                return true;
            }
        }

        return false;
    }

    private static Dictionary<string, double> Finite(Dictionary<string, double>? values)
    {
        var finite = new Dictionary<string, double>(values?.Count ?? 0, StringComparer.Ordinal);
        foreach (var (field, value) in values ?? [])
        {
            if (double.IsFinite(value))
            {
                finite[field] = value;
            }
        }

        return finite;
    }

    /// <summary>A mean keeps one decimal more than the readings it averages (a tenth of their step).</summary>
    private static double Round(string field, double mean) =>
        ClimateValues.Decimals.TryGetValue(field, out var decimals) || DcReadings.Decimals.TryGetValue(field, out decimals)
            ? Math.Round(mean, decimals + 1)
            : mean;
}
