using System.Device.Gpio;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Hardware;
using NewTechPark.Edge.Agent.State;
using NewTechPark.Edge.Contracts.Payloads;
using NewTechPark.Edge.Agent.Hosting;

namespace NewTechPark.Edge.Agent.Readers.Energy;

/// <summary>
/// An energy meter's S0 pulse output on a GPIO. Edges arrive as GPIO events (kernel edge events
/// with their kernel timestamps on a Pi), never by polling; debounce and intervals are measured
/// between the edges' own times; an <see cref="S0PulseCounter"/> counts them. Every
/// <see cref="SensorOptions.SampleInterval"/> an <c>energy</c> reading reports
/// <c>energy_wh_total</c> (from the pulse total, persisted so it survives restarts) and
/// <c>power_w</c> (from the interval between pulses, once known).
/// </summary>
public sealed class S0MeterReader(
    SensorOptions options,
    GpioController gpio,
    AgentStateStore state,
    SensorHealth health,
    TimeProvider clock,
    ILogger<S0MeterReader> logger,
    IEdgeEventHealth? edges = null) : ISensorReader
{
    /// <summary>The persisted counter: pulses, not Wh, so a changed pulses-per-kWh setting is not rewritten into the past.</summary>
    public const string PulsesCounter = "pulses_total";

    private readonly Lock _gate = new();
    private S0PulseCounter? _counter;

    public string SensorId => options.Id;

    public string Kind => ReadingKinds.Energy;

    public static ISensorReader Create(SensorOptions options, IServiceProvider services) =>
        ActivatorUtilities.CreateInstance<S0MeterReader>(services, options);

    public static void Check(SensorOptions sensor, AgentOptions agent, string at, List<string> errors)
    {
        if (!(sensor.PulsesPerKwh is > 0 and <= 100_000))
        {
            errors.Add($"{at}:PulsesPerKwh {sensor.PulsesPerKwh} must be above 0 and at most 100000 (it is printed on the meter as imp/kWh)");
        }

        if (sensor.PowerTimeout < TimeSpan.FromSeconds(10) || sensor.PowerTimeout > TimeSpan.FromHours(24))
        {
            errors.Add($"{at}:PowerTimeout {sensor.PowerTimeout} must be between 10 seconds and 24 hours");
        }
    }

    public async Task RunAsync(IReadingSink sink, CancellationToken cancellationToken)
    {
        var pin = options.PulsePin ?? throw new ArgumentException($"{SensorId}: PulsePin is missing");
        var type = SensorTypes.All[SensorTypes.S0Meter];
        var counter = new S0PulseCounter(options.PulsesPerKwh, type.DebounceOf(options), options.PowerTimeout, state.GetCounter(SensorId, PulsesCounter));
        lock (_gate)
        {
            _counter = counter;
        }

        // The S0 output is an open collector (opto-coupler) that pulls the line low during a pulse.
        gpio.OpenPin(pin, PinMode.InputPullUp);
        try
        {
            lock (_gate)
            {
                counter.OnLevel(gpio.Read(pin) == PinValue.Low, clock.GetUtcNow());
            }

            gpio.RegisterCallbackForPinValueChangedEvent(pin, PinEventTypes.Rising | PinEventTypes.Falling, OnEdge);
            health.ReportOk(SensorId);
            logger.LogInformation("S0 meter {Sensor} on GPIO {Pin}: {Ppk} pulses/kWh, {Wh} Wh so far", SensorId, pin, options.PulsesPerKwh, counter.EnergyWhTotal);

            using var timer = new PeriodicTimer(type.IntervalOf(options), clock);
            var heartbeat = LoopHeartbeats.Current;
            while (await heartbeat.AliveWhile(timer.WaitForNextTickAsync(cancellationToken)).ConfigureAwait(false))
            {
                // Pulses no longer arrive: say so instead of reporting a meter that stands still.
                if (edges?.Problem is { } problem)
                {
                    throw new IOException(problem);
                }

                sink.TryAdd(Snapshot(clock.GetUtcNow()));
            }
        }
        finally
        {
            gpio.UnregisterCallbackForPinValueChangedEvent(pin, OnEdge);
            gpio.ClosePin(pin);
        }
    }

    /// <summary>The meter's reading now: total energy, and power once it is known.</summary>
    public Reading Snapshot(DateTimeOffset now)
    {
        lock (_gate)
        {
            var counter = _counter ?? throw new InvalidOperationException("the meter is not running");
            var values = new Dictionary<string, double>(2, StringComparer.Ordinal)
            {
                [ReadingKinds.EnergyValues.EnergyWhTotal] = Math.Round(counter.EnergyWhTotal, 3),
            };
            if (counter.PowerW(now) is { } watts)
            {
                values[ReadingKinds.EnergyValues.PowerW] = Math.Round(watts, 1);
            }

            state.SetCounter(SensorId, PulsesCounter, counter.Pulses);
            return new Reading { Ts = now, Sensor = SensorId, Kind = ReadingKinds.Energy, Values = values };
        }
    }

    private void OnEdge(object sender, PinValueChangedEventArgs e)
    {
        lock (_gate)
        {
            // The edge's own time: a falling and a rising edge that arrive together (a late event
            // loop) still span the pulse's real width, so the debounce does not swallow it.
            _counter?.OnLevel(e.ChangeType == PinEventTypes.Falling, TimedPinValueChangedEventArgs.TimeOf(e, clock));
        }
    }
}
