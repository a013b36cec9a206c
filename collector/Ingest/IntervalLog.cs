namespace NewTechPark.Edge.Collector.Ingest;

/// <summary>
/// At most one log line per interval, with how many were held back since the last one: a flood of
/// refusals must not flood the log (the metrics count every one).
/// </summary>
public sealed class IntervalLog(TimeProvider clock, TimeSpan interval)
{
    private readonly Lock _gate = new();
    private DateTimeOffset _last = DateTimeOffset.MinValue;
    private long _held;

    /// <summary>True when a line may be written now; <paramref name="held"/> is how many were not logged since the last line.</summary>
    public bool TryTake(out long held)
    {
        var now = clock.GetUtcNow();
        lock (_gate)
        {
            if (now - _last < interval)
            {
                _held++;
                held = 0;
                return false;
            }

            held = _held;
            _held = 0;
            _last = now;
            return true;
        }
    }
}
