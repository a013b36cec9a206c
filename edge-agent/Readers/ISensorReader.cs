using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Agent.Readers;

/// <summary>
/// One sensor. A reader gets its bus from the container, never opens hardware on its own, and
/// runs until cancelled. A failure is thrown; the supervisor reports it and retries with backoff.
/// </summary>
public interface ISensorReader
{
    string SensorId { get; }

    /// <summary>The contract's reading kind this reader produces (<c>door</c>, <c>dc</c>, …).</summary>
    string Kind { get; }

    /// <summary>Opens the sensor and produces readings into <paramref name="sink"/> until cancelled.</summary>
    Task RunAsync(IReadingSink sink, CancellationToken cancellationToken);
}

/// <summary>Where readers put their readings; the publisher drains it.</summary>
public interface IReadingSink
{
    /// <summary>Adds a reading; false when it could not be kept (the queue is full).</summary>
    bool TryAdd(Reading reading);
}
