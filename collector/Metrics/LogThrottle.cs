using System.Collections.Concurrent;

namespace NewTechPark.Edge.Collector.Metrics;

/// <summary>
/// At most one log line per key (a client, an address) per interval, with how many were held back
/// since the last one: a hostile or misconfigured client can be refused thousands of times a
/// second, and the log must not flood with it (the metrics count every one). Keys are often the
/// client's to choose, so past <paramref name="maxKeys"/> the ones not logged within an interval are forgotten.
/// </summary>
public sealed class LogThrottle<TKey>(TimeProvider clock, TimeSpan interval, int maxKeys = 10_000) where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, Entry> _entries = new();

    /// <summary>True when a line about <paramref name="key"/> may be written now; <paramref name="held"/> is how many were not written since its last line.</summary>
    public bool TryTake(TKey key, out long held)
    {
        var now = clock.GetUtcNow();
        var entry = _entries.GetOrAdd(key, _ => new Entry());
        lock (entry)
        {
            if (now - entry.LastLogged < interval)
            {
                entry.Held++;
                held = 0;
                return false;
            }

            held = entry.Held;
            entry.Held = 0;
            entry.LastLogged = now;
        }

        if (_entries.Count > maxKeys)
        {
            foreach (var (old, known) in _entries)
            {
                if (now - known.LastLogged >= interval)
                {
                    _entries.TryRemove(old, out _);
                }
            }
        }

        return true;
    }

    private sealed class Entry
    {
        public DateTimeOffset LastLogged { get; set; } = DateTimeOffset.MinValue;

        public long Held { get; set; }
    }
}

/// <summary>One line per interval for one kind of event (<see cref="LogThrottle{TKey}"/> with a single key).</summary>
public sealed class LogThrottle(TimeProvider clock, TimeSpan interval)
{
    private readonly LogThrottle<bool> _single = new(clock, interval);

    public bool TryTake(out long held) => _single.TryTake(true, out held);
}
