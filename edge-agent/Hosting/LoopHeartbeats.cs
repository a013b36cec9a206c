using System.Collections.Concurrent;

namespace NewTechPark.Edge.Agent.Hosting;

/// <summary>
/// Whether the agent's long-running loops (one per sensor, the publisher's recorder and sender)
/// make progress, for the systemd watchdog (<see cref="SystemdWatchdog"/>).
/// <para>
/// Progress: a loop is alive while it waits normally (a timer between two reads, a GPIO edge, the
/// next reading, a broker that is down, a backoff before a retry), however long that lasts,
/// because a restart would not make any of that come sooner. It is also alive while it works, for
/// up to a limit: an I2C transfer, an outbox commit or an MQTT publish takes milliseconds to
/// seconds (MQTT gives up after 10 s). A loop that has been working, not waiting, for longer than
/// the limit is stuck (a read that hangs in the kernel, an SD card that never finishes an fsync,
/// a publish that never returns): then a restart is the cure, and the watchdog stops its pings.
/// </para>
/// </summary>
public sealed class LoopHeartbeats(TimeProvider clock)
{
    private static readonly AsyncLocal<Heartbeat?> Ambient = new();

    private readonly ConcurrentDictionary<Heartbeat, byte> _loops = new();

    /// <summary>
    /// The heartbeat of the sensor loop this code runs in; null outside one (tests, <c>check</c>).
    /// Ambient (per async flow, set by the supervisor) so that <c>ISensorReader</c> and the
    /// readers' constructors stay as they are.
    /// </summary>
    public static Heartbeat? Current
    {
        get => Ambient.Value;
        set => Ambient.Value = value;
    }

    /// <summary>Starts following a loop; dispose the heartbeat when the loop ends.</summary>
    public Heartbeat Register(string name)
    {
        var heartbeat = new Heartbeat(this, name, clock);
        _loops[heartbeat] = 0;
        return heartbeat;
    }

    /// <summary>The loops that have worked without waiting for longer than <paramref name="limit"/>, longest first.</summary>
    public IReadOnlyList<(string Loop, TimeSpan Busy)> Stale(TimeSpan limit) =>
        _loops.Keys
            .Select(h => (h.Name, Busy: h.BusyFor()))
            .Where(l => l.Busy is { } busy && busy > limit)
            .Select(l => (l.Name, l.Busy!.Value))
            .OrderByDescending(l => l.Value)
            .ToList();

    /// <summary>The loops followed now, for diagnostics and tests.</summary>
    public IReadOnlyList<string> Loops => _loops.Keys.Select(h => h.Name).Order(StringComparer.Ordinal).ToList();

    internal void Remove(Heartbeat heartbeat) => _loops.TryRemove(heartbeat, out _);
}

/// <summary>One loop's heartbeat: <see cref="Beat"/> after each step, <see cref="WaitAsync(Task)"/> around each normal wait.</summary>
public sealed class Heartbeat : IDisposable
{
    private readonly LoopHeartbeats _owner;
    private readonly TimeProvider _clock;
    private long _lastBeat;
    private int _waiting;

    internal Heartbeat(LoopHeartbeats owner, string name, TimeProvider clock)
    {
        _owner = owner;
        _clock = clock;
        Name = name;
        _lastBeat = clock.GetTimestamp();
    }

    public string Name { get; }

    /// <summary>The loop made a step.</summary>
    public void Beat() => Volatile.Write(ref _lastBeat, _clock.GetTimestamp());

    /// <summary>A normal wait: alive however long it takes; a beat when it ends.</summary>
    public async Task WaitAsync(Task wait)
    {
        Interlocked.Increment(ref _waiting);
        try
        {
            await wait.ConfigureAwait(false);
        }
        finally
        {
            Beat();
            Interlocked.Decrement(ref _waiting);
        }
    }

    /// <inheritdoc cref="WaitAsync(Task)"/>
    public async Task<T> WaitAsync<T>(Task<T> wait)
    {
        Interlocked.Increment(ref _waiting);
        try
        {
            return await wait.ConfigureAwait(false);
        }
        finally
        {
            Beat();
            Interlocked.Decrement(ref _waiting);
        }
    }

    /// <inheritdoc cref="WaitAsync(Task)"/>
    public Task<T> WaitAsync<T>(ValueTask<T> wait) => wait.IsCompleted ? BeatAndReturn(wait) : WaitAsync(wait.AsTask());

    /// <inheritdoc cref="WaitAsync(Task)"/>
    public Task WaitAsync(ValueTask wait) => wait.IsCompleted ? BeatAndReturn(wait) : WaitAsync(wait.AsTask());

    /// <summary>How long the loop has been working since its last step; null while it waits.</summary>
    public TimeSpan? BusyFor() =>
        Volatile.Read(ref _waiting) > 0 ? null : _clock.GetElapsedTime(Volatile.Read(ref _lastBeat));

    public void Dispose() => _owner.Remove(this);

    private Task<T> BeatAndReturn<T>(ValueTask<T> done)
    {
        Beat();
        return Task.FromResult(done.GetAwaiter().GetResult());
    }

    private Task BeatAndReturn(ValueTask done)
    {
        Beat();
        done.GetAwaiter().GetResult();
        return Task.CompletedTask;
    }
}

/// <summary>Waits of code that may run outside a followed loop (readers in tests, <c>check</c>).</summary>
public static class HeartbeatExtensions
{
    /// <summary><paramref name="wait"/>, counted as a normal wait of <paramref name="heartbeat"/> when there is one.</summary>
    public static Task<T> AliveWhile<T>(this Heartbeat? heartbeat, ValueTask<T> wait) => heartbeat is null ? wait.AsTask() : heartbeat.WaitAsync(wait);

    /// <inheritdoc cref="AliveWhile{T}(Heartbeat?, ValueTask{T})"/>
    public static Task<T> AliveWhile<T>(this Heartbeat? heartbeat, Task<T> wait) => heartbeat is null ? wait : heartbeat.WaitAsync(wait);

    /// <inheritdoc cref="AliveWhile{T}(Heartbeat?, ValueTask{T})"/>
    public static Task AliveWhile(this Heartbeat? heartbeat, Task wait) => heartbeat is null ? wait : heartbeat.WaitAsync(wait);

    /// <inheritdoc cref="AliveWhile{T}(Heartbeat?, ValueTask{T})"/>
    public static Task AliveWhile(this Heartbeat? heartbeat, ValueTask wait) => heartbeat is null ? wait.AsTask() : heartbeat.WaitAsync(wait);
}
