namespace NewTechPark.Edge.Agent.Readers.Energy;

/// <summary>
/// Turns the edges of an S0 pulse output (EN 62053-31: the meter closes an opto-coupler for at
/// least 30 ms per pulse) into a pulse count and a power. Pure logic over timestamped levels, so it
/// is tested without hardware and without a clock.
/// </summary>
/// <remarks>
/// <para>Debounce: a pulse counts when the line has been active for the debounce time; it is
/// stamped at its start. Contact bounce at either end (active-inactive-active within the debounce
/// time) does not start a new pulse.</para>
/// <para>Power: from the interval between the starts of the last two pulses,
/// P = 3 600 000 / (pulses per kWh × interval in seconds) W. When no pulse comes, the power
/// cannot be higher than one pulse's energy over the time since the last one, so it falls as
/// that bound falls, and it is 0 after the power timeout. Until two pulses were seen it is
/// unknown (null), never invented.</para>
/// </remarks>
public sealed class S0PulseCounter
{
    private readonly double _whPerPulse;
    private DateTimeOffset? _activeSince;
    private bool _counted;
    private DateTimeOffset? _lastPulse;
    private TimeSpan? _lastInterval;

    public S0PulseCounter(double pulsesPerKwh, TimeSpan debounce, TimeSpan powerTimeout, long pulses = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pulsesPerKwh);
        _whPerPulse = 1000.0 / pulsesPerKwh;
        Debounce = debounce;
        PowerTimeout = powerTimeout;
        Pulses = pulses;
    }

    public TimeSpan Debounce { get; }

    public TimeSpan PowerTimeout { get; }

    /// <summary>Pulses counted in the meter's life on this agent (persisted by the reader).</summary>
    public long Pulses { get; private set; }

    public double EnergyWhTotal => Pulses * _whPerPulse;

    /// <summary>Feeds a level change of the S0 line; true when a pulse was counted by it.</summary>
    public bool OnLevel(bool active, DateTimeOffset at)
    {
        var counted = Settle(at);
        if (active)
        {
            _activeSince ??= at;
        }
        else
        {
            _activeSince = null;
            _counted = false;
        }

        return counted;
    }

    /// <summary>Counts a pulse whose active level has lasted the debounce time by <paramref name="now"/>.</summary>
    public bool Settle(DateTimeOffset now)
    {
        if (_activeSince is not { } start || _counted || now - start < Debounce)
        {
            return false;
        }

        _counted = true;
        Pulses++;
        if (_lastPulse is { } previous && start > previous)
        {
            _lastInterval = start - previous;
        }

        _lastPulse = start;
        return true;
    }

    /// <summary>The power at <paramref name="now"/> in watts; null while it is not known yet.</summary>
    public double? PowerW(DateTimeOffset now)
    {
        Settle(now);
        if (_lastPulse is not { } last)
        {
            return null;
        }

        var since = now - last;
        if (since >= PowerTimeout)
        {
            return 0;
        }

        if (_lastInterval is not { } interval)
        {
            return null;
        }

        var measured = _whPerPulse * 3600.0 / interval.TotalSeconds;
        // No pulse for longer than the last interval: the load has dropped at least that much.
        var bound = since > interval ? _whPerPulse * 3600.0 / since.TotalSeconds : double.PositiveInfinity;
        return Math.Min(measured, bound);
    }
}
