namespace NewTechPark.Edge.Contracts.Resilience;

/// <summary>
/// Exponential backoff with jitter and a cap, for retry loops (broker connects, disk writes, sink
/// writes, failing sensors). Each wait is the current delay less a random share of up to
/// <see cref="Jitter"/> of it, so many clients that failed together do not retry in lockstep and
/// no wait is longer than <see cref="Max"/>; after each wait the delay doubles up to <see cref="Max"/>.
/// One instance per loop: it is not thread-safe.
/// </summary>
public sealed class Backoff
{
    private readonly TimeProvider _clock;
    private readonly Random _random;

    /// <param name="initial">First delay, and the delay after <see cref="Reset"/>; above zero.</param>
    /// <param name="max">Largest delay; at least <paramref name="initial"/>.</param>
    /// <param name="clock">Whose timers the waits use (a fake one in tests).</param>
    /// <param name="jitter">Share of the delay taken off at random, 0 (none) to 1.</param>
    /// <param name="random">Source of the jitter; <see cref="Random.Shared"/> unless a test seeds one.</param>
    public Backoff(TimeSpan initial, TimeSpan max, TimeProvider? clock = null, double jitter = 0.5, Random? random = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(initial, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(max, initial);
        if (!(jitter >= 0 && jitter <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(jitter), jitter, "jitter must be between 0 and 1");
        }

        Initial = initial;
        Max = max;
        Jitter = jitter;
        Current = initial;
        _clock = clock ?? TimeProvider.System;
        _random = random ?? Random.Shared;
    }

    public TimeSpan Initial { get; }

    public TimeSpan Max { get; }

    public double Jitter { get; }

    /// <summary>The delay before jitter that the next wait is drawn from.</summary>
    public TimeSpan Current { get; private set; }

    /// <summary>The next wait (jittered), and doubles <see cref="Current"/> up to <see cref="Max"/>.</summary>
    public TimeSpan Next()
    {
        var wait = Current * (1 - (Jitter * _random.NextDouble()));
        // Doubling a TimeSpan near its maximum would overflow; the cap is reached long before.
        Current = Current > Max / 2 ? Max : Current * 2;
        return wait;
    }

    /// <summary>Back to <see cref="Initial"/>: the operation succeeded.</summary>
    public void Reset() => Current = Initial;

    /// <summary>Waits <see cref="Next"/> on the clock; throws <see cref="OperationCanceledException"/> when cancelled.</summary>
    public Task WaitAsync(CancellationToken cancellationToken) => Task.Delay(Next(), _clock, cancellationToken);
}
