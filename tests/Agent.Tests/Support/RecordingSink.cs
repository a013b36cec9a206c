using NewTechPark.Edge.Agent.Readers;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Agent.Tests.Support;

/// <summary>A reading sink that keeps everything and lets a test wait for the n-th reading.</summary>
public sealed class RecordingSink : IReadingSink
{
    private readonly Lock _gate = new();
    private readonly List<Reading> _readings = [];
    private readonly List<(int Count, TaskCompletionSource Signal)> _waiters = [];

    public IReadOnlyList<Reading> Readings
    {
        get
        {
            lock (_gate)
            {
                return [.. _readings];
            }
        }
    }

    public bool TryAdd(Reading reading)
    {
        lock (_gate)
        {
            _readings.Add(reading);
            foreach (var waiter in _waiters.Where(w => _readings.Count >= w.Count).ToArray())
            {
                waiter.Signal.TrySetResult();
                _waiters.Remove(waiter);
            }
        }

        return true;
    }

    /// <summary>Completes when at least <paramref name="count"/> readings arrived; fails after <paramref name="timeout"/>.</summary>
    public async Task<IReadOnlyList<Reading>> WaitForAsync(int count, TimeSpan timeout)
    {
        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (_readings.Count >= count)
            {
                return [.. _readings];
            }

            _waiters.Add((count, signal));
        }

        try
        {
            await signal.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"expected {count} readings within {timeout}, got {Readings.Count}");
        }

        return Readings;
    }
}
