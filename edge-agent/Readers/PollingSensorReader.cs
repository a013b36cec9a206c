using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Contracts.Payloads;
using NewTechPark.Edge.Agent.Hosting;

namespace NewTechPark.Edge.Agent.Readers;

/// <summary>
/// The one loop of every periodic reader (BME280, SHT4x, SCD4x, DS18B20, INA2xx): open the part,
/// then on every tick stamp the time, read, report the sensor ok and hand the reading on. A read
/// that throws ends the run (the supervisor reports it and retries with backoff); a read that
/// returns null has nothing new this tick (an SCD4x between measurements), never a stale value.
/// </summary>
public abstract class PollingSensorReader(SensorOptions options, SensorHealth health, TimeProvider clock) : ISensorReader
{
    public string SensorId => options.Id;

    public abstract string Kind { get; }

    protected SensorOptions Options => options;

    protected SensorHealth Health => health;

    protected TimeProvider Clock => clock;

    /// <summary>Opens and sets up the part (a missing one throws here, before any reading).</summary>
    protected abstract Poll Open();

    public async Task RunAsync(IReadingSink sink, CancellationToken cancellationToken)
    {
        var poll = Open();
        try
        {
            // The cadence starts before the first read: a clock that moves while that read reports
            // (a fake one in tests, a slow part on a Pi) must not push every later tick back.
            using var timer = new PeriodicTimer(poll.Tick, clock);
            if (poll.ReadAtStart)
            {
                Publish(poll, sink);
            }

            // The wait for the next tick is progress for the watchdog; a read that hangs is not.
            var heartbeat = LoopHeartbeats.Current;
            while (await heartbeat.AliveWhile(timer.WaitForNextTickAsync(cancellationToken)).ConfigureAwait(false))
            {
                Publish(poll, sink);
            }
        }
        finally
        {
            poll.Close?.Invoke();
        }
    }

    private void Publish(Poll poll, IReadingSink sink)
    {
        if (poll.Read(clock.GetUtcNow()) is { } reading)
        {
            health.ReportOk(SensorId);
            sink.TryAdd(reading);
        }
    }

    /// <summary>
    /// An opened part: <paramref name="Read"/> makes the reading stamped with the time it is given
    /// (or null: nothing new), every <paramref name="Tick"/>; <paramref name="Close"/> runs once at
    /// the end, even after a failure (stop the part, release the bus).
    /// </summary>
    protected sealed record Poll(TimeSpan Tick, Func<DateTimeOffset, Reading?> Read, Action? Close = null)
    {
        /// <summary>Read once right away instead of waiting for the first tick.</summary>
        public bool ReadAtStart { get; init; } = true;
    }
}
