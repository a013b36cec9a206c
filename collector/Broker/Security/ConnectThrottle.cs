using System.Collections.Concurrent;
using System.Net;

namespace NewTechPark.Edge.Collector.Broker.Security;

/// <summary>
/// Slows password guessing: an address with too many failed logins in a minute is refused at
/// once, without a password check, until its minute is over. Each check costs a PBKDF2 run, so
/// this also keeps a flood of bad logins from eating the collector's CPU. It throttles failures,
/// not successes: devices behind one NAT address share it with a guesser, so a blocked address
/// still gets a full check now and then (<see cref="TryTakeSlowCheck"/>), and a password that
/// already logged in is recognised without one.
/// </summary>
public sealed class ConnectThrottle(TimeProvider clock, int maxFailuresPerMinute = 10)
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    /// <summary>A blocked address gets one full password check per this time: a guesser gains little, a real device gets in.</summary>
    public static readonly TimeSpan SlowCheckInterval = TimeSpan.FromSeconds(6);
    private readonly ConcurrentDictionary<IPAddress, Entry> _failures = new();

    public bool IsBlocked(EndPoint? remote)
    {
        if (Address(remote) is not { } address || !_failures.TryGetValue(address, out var entry))
        {
            return false;
        }

        lock (entry)
        {
            return clock.GetUtcNow() - entry.Started < Window && entry.Count >= maxFailuresPerMinute;
        }
    }

    /// <summary>
    /// True at most once per <see cref="SlowCheckInterval"/> for a blocked address: the caller may
    /// then run the full password check, so a correct password is not locked out for the minute.
    /// </summary>
    public bool TryTakeSlowCheck(EndPoint? remote)
    {
        if (Address(remote) is not { } address || !_failures.TryGetValue(address, out var entry))
        {
            return true;
        }

        var now = clock.GetUtcNow();
        lock (entry)
        {
            if (now - entry.LastSlowCheck < SlowCheckInterval)
            {
                return false;
            }

            entry.LastSlowCheck = now;
            return true;
        }
    }

    public void Failed(EndPoint? remote)
    {
        if (Address(remote) is not { } address)
        {
            return;
        }

        var now = clock.GetUtcNow();
        var entry = _failures.GetOrAdd(address, _ => new Entry { Started = now });
        lock (entry)
        {
            if (now - entry.Started >= Window)
            {
                entry.Started = now;
                entry.Count = 0;
            }

            entry.Count++;
        }

        if (_failures.Count > 10_000)
        {
            // Many addresses: forget the ones whose minute is over.
            foreach (var (key, old) in _failures)
            {
                if (now - old.Started >= Window)
                {
                    _failures.TryRemove(key, out _);
                }
            }
        }
    }

    private static IPAddress? Address(EndPoint? remote) => (remote as IPEndPoint)?.Address;

    private sealed class Entry
    {
        public DateTimeOffset Started { get; set; }

        public int Count { get; set; }

        public DateTimeOffset LastSlowCheck { get; set; } = DateTimeOffset.MinValue;
    }
}
