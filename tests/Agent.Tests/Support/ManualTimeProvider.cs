namespace NewTechPark.Edge.Agent.Tests.Support;

/// <summary>
/// A clock the test moves by hand. <see cref="GetTimestamp"/> follows <see cref="GetUtcNow"/>, so
/// elapsed-time measurements agree with the wall clock. Timers are the system's (the tests that use
/// this clock never depend on a timer firing).
/// </summary>
public sealed class ManualTimeProvider : TimeProvider
{
    public static readonly DateTimeOffset DefaultStart = new(2026, 11, 28, 9, 15, 0, TimeSpan.Zero);

    private readonly Lock _gate = new();
    private readonly DateTimeOffset _origin;
    private DateTimeOffset _now;

    public ManualTimeProvider()
        : this(DefaultStart)
    {
    }

    public ManualTimeProvider(DateTimeOffset start)
    {
        _origin = start;
        _now = start;
    }

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate)
        {
            return _now;
        }
    }

    public override long GetTimestamp()
    {
        lock (_gate)
        {
            return (_now - _origin).Ticks;
        }
    }

    /// <summary>Sets the clock; it never goes backwards.</summary>
    public void SetUtcNow(DateTimeOffset now)
    {
        lock (_gate)
        {
            if (now < _now)
            {
                throw new ArgumentOutOfRangeException(nameof(now), now, "the clock does not go backwards");
            }

            _now = now;
        }
    }

    public DateTimeOffset Advance(TimeSpan by)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(by, TimeSpan.Zero);
        lock (_gate)
        {
            _now += by;
            return _now;
        }
    }
}
