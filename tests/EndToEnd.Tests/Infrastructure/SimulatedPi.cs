using System.Device.Gpio;
using Microsoft.Extensions.Hosting;
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

    /// <summary>Waits until both door counters have their pins open (their readers run).</summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!(Hardware.Gpio.IsOpen(MainOuter) && Hardware.Gpio.IsOpen(LabInner)))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("the door counters did not open their GPIO pins");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>A person walking through a door: the four beam edges a body makes, in order.</summary>
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
