using System.Device.Gpio;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using NewTechPark.Edge.Agent.Readers;
using NewTechPark.Edge.Agent.Hosting;
using NewTechPark.Edge.Simulation;

namespace NewTechPark.Edge.EndToEnd.Tests.Infrastructure;

/// <summary>
/// A real edge agent (its readers, publisher and MQTT connection) on simulated buses: two door
/// counters and an INA219 DC bench, wired like the default site's entrance and DC-Lab.
/// </summary>
public sealed class SimulatedPi : IAsyncDisposable
{
    public const string Device = "pi-test";
    public const int MainOuter = 5;
    public const int MainInner = 6;
    public const int LabOuter = 13;
    public const int LabInner = 19;
    public const int BenchAddress = 0x40;

    private readonly IHost _host;
    private readonly string _dataDirectory;
    private bool _ownsData;

    private SimulatedPi(IHost host, SimulatedHardware hardware, SimulatedIna219 bench, string dataDirectory, bool ownsData)
    {
        _ownsData = ownsData;
        _host = host;
        Hardware = hardware;
        Bench = bench;
        _dataDirectory = dataDirectory;
    }

    public SimulatedHardware Hardware { get; }

    public SimulatedIna219 Bench { get; }

    public IServiceProvider Services => _host.Services;

    public string DataDirectory => _dataDirectory;

    /// <summary>Leaves the state folder in place on dispose, for a restart.</summary>
    public void KeepDataOnDispose() => _ownsData = false;

    /// <summary>Starts the agent; with <paramref name="dataDirectory"/> it continues an earlier run's state.</summary>
    public static async Task<SimulatedPi> StartAsync(int brokerPort, string? dataDirectory = null, params KeyValuePair<string, string?>[] extra)
    {
        var hardware = new SimulatedHardware();
        foreach (var pin in new[] { MainOuter, MainInner, LabOuter, LabInner })
        {
            hardware.Gpio.SetInput(pin, PinValue.High);
        }

        var bench = hardware.I2c.Attach(1, BenchAddress, new SimulatedIna219(1, BenchAddress, shuntOhms: 0.1));
        bench.SetLoad(24.0, 1.5);
        var data = dataDirectory ?? Directory.CreateTempSubdirectory("ntp-agent-").FullName;
        var host = SimulatedAgentHost.Create(
        [
            new("Agent:Site", "newtechpark"),
            new("Agent:Device", Device),
            new("Agent:DataDirectory", data),
            new("Agent:Broker:Host", "127.0.0.1"),
            new("Agent:Broker:Port", brokerPort.ToString()),
            new("Agent:Broker:ReconnectMinDelay", "00:00:00.100"),
            .. TestCredentials.AgentSettings(Device),
            new("Agent:Publishing:BatchLinger", "00:00:00.050"),
            new("Agent:Sensors:0:Id", "door-main"),
            new("Agent:Sensors:0:Type", "door-beams"),
            new("Agent:Sensors:0:BeamOuterPin", MainOuter.ToString()),
            new("Agent:Sensors:0:BeamInnerPin", MainInner.ToString()),
            new("Agent:Sensors:0:Debounce", "00:00:00.005"),
            new("Agent:Sensors:1:Id", "door-dc-lab"),
            new("Agent:Sensors:1:Type", "door-beams"),
            new("Agent:Sensors:1:BeamOuterPin", LabOuter.ToString()),
            new("Agent:Sensors:1:BeamInnerPin", LabInner.ToString()),
            new("Agent:Sensors:1:Debounce", "00:00:00.005"),
            new("Agent:Sensors:2:Id", "dc-bench-1"),
            new("Agent:Sensors:2:Type", "ina219"),
            new("Agent:Sensors:2:Address", BenchAddress.ToString()),
            new("Agent:Sensors:2:SampleInterval", "00:00:00.100"),
            .. extra,
        ], hardware);
        await host.StartAsync();
        return new SimulatedPi(host, hardware, bench, data, ownsData: dataDirectory is null);
    }

    /// <summary>
    /// Waits until both door counters listen for edges. An open pin is not enough: a reader opens its
    /// pins before it registers its edge callbacks, and a walk in between is lost without a trace (seen
    /// under load as one crossing missing). So this waits for each counter's own "ok" (reported once
    /// its callbacks are registered), then checks that an edge on every beam pin reaches a callback.
    /// </summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        var health = Services.GetRequiredService<SensorHealth>();
        var poll = TimeSpan.FromMilliseconds(20);
        await Eventually.UntilAsync(() => health.Get("door-main") == SensorHealth.Ok && health.Get("door-dc-lab") == SensorHealth.Ok,
            "both door counters report ok", timeout, poll);
        foreach (var pin in new[] { MainOuter, MainInner, LabOuter, LabInner })
        {
            // A blink of one beam: a single beam never makes a crossing, and one this short is a flicker.
            var before = Hardware.Gpio.EdgesDelivered;
            await Eventually.UntilAsync(
                () =>
                {
                    Hardware.Gpio.SetInput(pin, PinValue.Low);
                    Hardware.Gpio.SetInput(pin, PinValue.High);
                    return Hardware.Gpio.EdgesDelivered - before >= 2;
                },
                $"an edge on GPIO {pin} reaches the door counter", timeout, poll);
        }
    }

    /// <summary>A person walking through a door: the four beam edges a body makes, in order.</summary>
    /// <remarks>
    /// The door counter stamps each edge with its own clock when the edge arrives (the simulated
    /// driver delivers it inside <c>SetInput</c>), so the beams' durations are real time: each delay
    /// is a minimum (longer than the 5 ms debounce), never a wait for an event. A starved thread pool
    /// only makes a beam last longer, which the detector takes as a slower walker; call
    /// <see cref="WaitReadyAsync"/> first, or the first edges can come before the counter listens.
    /// </remarks>
    public async Task WalkAsync(int outerPin, int innerPin, bool inwards)
    {
        var (first, second) = inwards ? (outerPin, innerPin) : (innerPin, outerPin);
        var gpio = Hardware.Gpio;
        gpio.SetInput(first, PinValue.Low);
        await Task.Delay(25);
        gpio.SetInput(second, PinValue.Low);
        await Task.Delay(25);
        gpio.SetInput(first, PinValue.High);
        await Task.Delay(25);
        gpio.SetInput(second, PinValue.High);
        await Task.Delay(25);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (!_ownsData)
        {
            return;
        }

        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
