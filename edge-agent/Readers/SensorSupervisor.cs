using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Hardware;
using NewTechPark.Edge.Agent.Hosting;
using NewTechPark.Edge.Agent.Publishing;
using NewTechPark.Edge.Agent.Readers.Filters;
using NewTechPark.Edge.Contracts.Resilience;

namespace NewTechPark.Edge.Agent.Readers;

/// <summary>
/// Runs every configured sensor side by side. A sensor that fails is reported in the status and
/// restarted with backoff; it never stops the others.
/// </summary>
public sealed class SensorSupervisor(
    IOptions<AgentOptions> options,
    IServiceProvider services,
    ReadingQueue queue,
    SensorHealth health,
    TimeProvider clock,
    LoopHeartbeats heartbeats,
    ILogger<SensorSupervisor> logger) : BackgroundService
{
    public static readonly TimeSpan FirstRetryDelay = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxRetryDelay = TimeSpan.FromMinutes(1);

    /// <summary>How the clock's synchronisation is read; a test sets its own.</summary>
    public Func<bool?> ClockSynchronised { get; init; } = ClockSync.IsSynchronised;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var agent = options.Value;
        if (services.GetService<AgentHardware>()?.RequiresGpioChip == true && agent.ClockSyncTimeout > TimeSpan.Zero
            && ClockSynchronised() == false)
        {
            // A Pi without RTC boots with the time of its last shutdown: readings stamped now would
            // be hours or days off. systemd's time-sync.target normally waits already (pi-setup.md).
            logger.LogWarning("The system clock is not synchronised yet; sensors start once it is (at most {Timeout})", agent.ClockSyncTimeout);
            if (!await ClockSync.WaitAsync(ClockSynchronised, agent.ClockSyncTimeout, clock, stoppingToken).ConfigureAwait(false))
            {
                logger.LogWarning("The system clock is still not synchronised after {Timeout}: starting the sensors, their times may be wrong", agent.ClockSyncTimeout);
            }
        }

        await RunAllAsync(stoppingToken).ConfigureAwait(false);
    }

    private Task RunAllAsync(CancellationToken stoppingToken)
    {
        foreach (var sensor in options.Value.Sensors.Where(s => s.Filters.Any))
        {
            // Fewer readings than samples is then expected, not a fault: say so once at start.
            var filters = sensor.Filters;
            logger.LogInformation("Sensor {Sensor} publishes through filters: deadband {Delta}, throttle {Throttle}, heartbeat {Heartbeat}",
                sensor.Id,
                filters.Delta.Count == 0 ? "none" : string.Join(", ", filters.Delta.Select(d => $"{d.Key} {d.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)}")),
                filters.Throttle?.ToString() ?? "none",
                filters.HeartbeatInForce?.ToString() ?? "none");
        }

        var runs = options.Value.Sensors
            .Select(sensor => SuperviseAsync(SensorTypes.All[sensor.Type].Create(sensor, services), ReadingFilter.For(sensor, queue), stoppingToken))
            .ToArray();
        return Task.WhenAll(runs);
    }

    /// <summary>
    /// Runs one reader into <paramref name="sink"/> (the queue, or the sensor's publish filter
    /// before it), restarting it after a failure. A filter gives what it holds back whenever a run
    /// ends, so a failing or stopping sensor does not keep its last window.
    /// </summary>
    private async Task SuperviseAsync(ISensorReader reader, IReadingSink sink, CancellationToken stoppingToken)
    {
        var backoff = new Backoff(FirstRetryDelay, MaxRetryDelay, clock, jitter: 0.2);
        // One heartbeat for the sensor's whole life, across restarts; the reader marks its waits.
        using var heartbeat = heartbeats.Register($"sensor {reader.SensorId} ({reader.Kind})");
        health.ReportStarting(reader.SensorId);
        while (!stoppingToken.IsCancellationRequested)
        {
            var started = clock.GetTimestamp();
            try
            {
                await Task.Run(
                    () =>
                    {
                        LoopHeartbeats.Current = heartbeat;
                        return reader.RunAsync(sink, stoppingToken);
                    },
                    stoppingToken).ConfigureAwait(false);
                return;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                if (clock.GetElapsedTime(started) > MaxRetryDelay)
                {
                    // It ran well for a while: this is a new failure, not the same one again.
                    backoff.Reset();
                }

                health.ReportError(reader.SensorId, e.Message);
                logger.LogWarning(e, "Sensor {Sensor} ({Kind}) failed; retrying in about {Delay}", reader.SensorId, reader.Kind, backoff.Current);
            }
            finally
            {
                (sink as ReadingFilter)?.Flush();
            }

            try
            {
                // Jitter keeps many failing sensors from retrying in lockstep.
                await heartbeat.WaitAsync(backoff.WaitAsync(stoppingToken)).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
