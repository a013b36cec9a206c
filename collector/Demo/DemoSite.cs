using NewTechPark.Edge.Agent.Readers;
using NewTechPark.Edge.Agent.Simulation;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Collector.Demo;

/// <summary>Where a simulated door's beams are wired.</summary>
public sealed record SimulatedDoor(Door Door, SimulatedGpioDriver Gpio, int OuterPin, int InnerPin);

/// <summary>A simulated DC bench: the INA219 register map the reader talks to.</summary>
public sealed record SimulatedBench(string Sensor, SimulatedIna219 Ina219);

/// <summary>One simulated Pi: its configuration and its simulated buses.</summary>
public sealed record SimulatedAgent(string Device, SimulatedHardware Hardware, IReadOnlyList<KeyValuePair<string, string?>> Settings);

/// <summary>
/// Turns the site file into simulated Pis: every device named in the site file becomes an agent
/// whose door counters and DC benches sit on simulated GPIO pins and I2C addresses, wired the
/// way an installer would wire a real Pi.
/// </summary>
public sealed class DemoSite
{
    public const int FirstBeamPin = 4;
    public const int FirstInaAddress = 0x40;
    public const double BenchShuntOhms = 0.1;

    private DemoSite(IReadOnlyList<SimulatedAgent> agents, IReadOnlyList<SimulatedDoor> doors, IReadOnlyList<SimulatedBench> benches)
    {
        Agents = agents;
        Doors = doors;
        Benches = benches;
    }

    public IReadOnlyList<SimulatedAgent> Agents { get; }

    public IReadOnlyList<SimulatedDoor> Doors { get; }

    public IReadOnlyList<SimulatedBench> Benches { get; }

    /// <summary>Sensor kinds that have a reader to simulate; the others in the site file wait for theirs.</summary>
    public static readonly IReadOnlySet<string> SimulatedKinds = new HashSet<string> { ReadingKinds.Door, ReadingKinds.Dc };

    public static DemoSite Build(SiteModel site, string brokerHost, int brokerPort, string dataDirectory, TimeSpan dcSampleInterval)
    {
        var agents = new List<SimulatedAgent>();
        var doors = new List<SimulatedDoor>();
        var benches = new List<SimulatedBench>();
        foreach (var device in site.Devices)
        {
            var hardware = new SimulatedHardware();
            var settings = new List<KeyValuePair<string, string?>>
            {
                new("Agent:Site", site.Site),
                new("Agent:Device", device),
                new("Agent:DataDirectory", dataDirectory),
                new("Agent:Broker:Host", brokerHost),
                new("Agent:Broker:Port", brokerPort.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            };
            var index = 0;
            void Sensor(string id, string type, string? room, params (string Key, string Value)[] more)
            {
                var prefix = $"Agent:Sensors:{index++}:";
                settings.Add(new(prefix + "Id", id));
                settings.Add(new(prefix + "Type", type));
                if (room is not null)
                {
                    settings.Add(new(prefix + "Room", room));
                }

                foreach (var (key, value) in more)
                {
                    settings.Add(new(prefix + key, value));
                }
            }

            var pin = FirstBeamPin;
            foreach (var door in site.Doors.Where(d => d.Device == device))
            {
                var (outer, inner) = (pin++, pin++);
                // Beams are intact (high, pulled up) until someone walks through.
                hardware.Gpio.SetInput(outer, System.Device.Gpio.PinValue.High);
                hardware.Gpio.SetInput(inner, System.Device.Gpio.PinValue.High);
                Sensor(door.Id, SensorTypes.DoorBeams, door.To, ("BeamOuterPin", outer.ToString()), ("BeamInnerPin", inner.ToString()), ("Debounce", "00:00:00.020"));
                doors.Add(new SimulatedDoor(door, hardware.Gpio, outer, inner));
            }

            var address = FirstInaAddress;
            foreach (var sensor in site.Sensors.Where(s => s.Device == device && s.Kind == ReadingKinds.Dc))
            {
                var ina = hardware.I2c.Attach(1, address, new SimulatedIna219(1, address, BenchShuntOhms));
                ina.SetLoad(24.0, 1.0);
                Sensor(sensor.Id, SensorTypes.Ina219, sensor.Room, ("Address", address.ToString()), ("ShuntOhms", "0.1"), ("MaxCurrentA", "3.2"),
                    ("SampleInterval", dcSampleInterval.ToString()));
                benches.Add(new SimulatedBench(sensor.Id, ina));
                address++;
            }

            if (index > 0)
            {
                agents.Add(new SimulatedAgent(device, hardware, settings));
            }
        }

        return new DemoSite(agents, doors, benches);
    }
}
