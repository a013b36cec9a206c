using System.Globalization;
using NewTechPark.Edge.Agent.Readers;
using NewTechPark.Edge.Simulation;
using NewTechPark.Edge.Simulation.Scenario;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Demo;

/// <summary>Where a simulated door's beams are wired.</summary>
public sealed record SimulatedDoor(Door Door, SimulatedGpioDriver Gpio, int OuterPin, int InnerPin);

/// <summary>A simulated DC bench: the current monitor's register map (INA219, INA226 or INA236) the reader talks to.</summary>
public sealed record SimulatedBench(string Sensor, string Part, Action<double, double> SetLoad);

/// <summary>A simulated energy meter: its S0 output on a GPIO of its Pi.</summary>
public sealed record SimulatedMeter(Meter Meter, SimulatedGpioDriver Gpio, int Pin);

/// <summary>A simulated climate sensor: the part, the room it stands in, and how to set the air it measures.</summary>
public sealed record SimulatedClimate(string Sensor, string Part, string Room, Action<RoomAir> SetAir);

/// <summary>A simulated badge reader: the MFRC522 cards are held to.</summary>
public sealed record SimulatedBadgeReader(string Sensor, string Room, SimulatedMfrc522 Reader);

/// <summary>One simulated Pi: its configuration and its simulated buses.</summary>
public sealed record SimulatedAgent(string Device, SimulatedHardware Hardware, IReadOnlyList<KeyValuePair<string, string?>> Settings);

/// <summary>
/// Turns the site file into simulated Pis: every device named in the site file becomes an agent
/// whose door counters, S0 meters, DC benches, climate sensors and badge readers sit on simulated
/// GPIO pins, I2C addresses, SPI chip selects and a 1-Wire bus, wired the way an installer would
/// wire a real Pi (beams and meters on free GPIOs, never on the I2C, SPI or 1-Wire pins). Every
/// reader type of the agent is used: door-beams, s0-meter, ina219/ina226/ina236, scd4x, bme280,
/// sht4x, ds18b20 and mfrc522.
/// </summary>
public sealed class DemoSite
{
    public const double BenchShuntOhms = 0.1;

    /// <summary>The demo site's secret for visitor pseudonyms (a real site sets its own through the environment).</summary>
    public const string SiteKey = "newtechpark-demo-site-key-2026";

    /// <summary>GPIOs an installer uses for beams and S0 inputs: the header's free ones first, then the rest of the simulated chip.</summary>
    private static readonly int[] FreePins = [5, 6, 12, 13, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, .. Enumerable.Range(28, 26)];

    /// <summary>The part of each known site sensor; others get one by kind.</summary>
    private static readonly Dictionary<string, string> Parts = new(StringComparer.Ordinal)
    {
        ["dc-bench-1"] = SensorTypes.Ina219,
        ["dc-bench-2"] = SensorTypes.Ina219,
        ["dc-bench-3"] = SensorTypes.Ina236, // a 48 V bench: the INA236 measures up to 48 V
        ["dc-bench-4"] = SensorTypes.Ina226, // a 24 V bench: the INA226 up to 36 V
        ["climate-cer"] = SensorTypes.Scd4x,
        ["climate-technodiscovery"] = SensorTypes.Scd4x,
        ["climate-dc-lab"] = SensorTypes.Bme280,
        ["climate-entrance"] = SensorTypes.Sht4x,
        ["temp-dc-lab-battery"] = SensorTypes.Ds18b20,
    };

    private DemoSite()
    {
    }

    public IReadOnlyList<SimulatedAgent> Agents { get; private init; } = [];

    public IReadOnlyList<SimulatedDoor> Doors { get; private init; } = [];

    public IReadOnlyList<SimulatedBench> Benches { get; private init; } = [];

    public IReadOnlyList<SimulatedMeter> Meters { get; private init; } = [];

    public IReadOnlyList<SimulatedClimate> Climate { get; private init; } = [];

    public IReadOnlyList<SimulatedBadgeReader> BadgeReaders { get; private init; } = [];

    /// <summary>Sensor kinds that have a reader to simulate.</summary>
    public static readonly IReadOnlySet<string> SimulatedKinds = new HashSet<string> { ReadingKinds.Door, ReadingKinds.Dc, ReadingKinds.Energy, ReadingKinds.Climate, ReadingKinds.Badge };

    public static DemoSite Build(SiteModel site, string brokerHost, int brokerPort, Func<string, string> passwordOf, string dataDirectory, TimeSpan dcSampleInterval, TimeProvider? clock = null)
    {
        clock ??= TimeProvider.System;
        var agents = new List<SimulatedAgent>();
        var doors = new List<SimulatedDoor>();
        var benches = new List<SimulatedBench>();
        var meters = new List<SimulatedMeter>();
        var climate = new List<SimulatedClimate>();
        var badges = new List<SimulatedBadgeReader>();
        foreach (var device in site.Devices)
        {
            var hardware = new SimulatedHardware();
            var settings = new List<KeyValuePair<string, string?>>
            {
                new("Agent:Site", site.Site),
                new("Agent:Device", device),
                new("Agent:DataDirectory", dataDirectory),
                new("Agent:Broker:Host", brokerHost),
                new("Agent:Broker:Port", brokerPort.ToString(CultureInfo.InvariantCulture)),
                new("Agent:Broker:Username", device),
                new("Agent:Broker:Password", passwordOf(device)),
                new("Agent:SiteKey", SiteKey),
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

            var pins = new Queue<int>(FreePins);
            foreach (var door in site.Doors.Where(d => d.Device == device))
            {
                var (outer, inner) = (pins.Dequeue(), pins.Dequeue());
                // Beams are intact (high, pulled up) until someone walks through.
                hardware.Gpio.SetInput(outer, System.Device.Gpio.PinValue.High);
                hardware.Gpio.SetInput(inner, System.Device.Gpio.PinValue.High);
                Sensor(door.Id, SensorTypes.DoorBeams, door.To, ("BeamOuterPin", Text(outer)), ("BeamInnerPin", Text(inner)), ("Debounce", "00:00:00.020"));
                doors.Add(new SimulatedDoor(door, hardware.Gpio, outer, inner));
            }

            foreach (var meter in site.Meters.Where(m => m.Device == device))
            {
                var pin = pins.Dequeue();
                hardware.Gpio.SetInput(pin, System.Device.Gpio.PinValue.High);
                Sensor(meter.Id, SensorTypes.S0Meter, meter.Room, ("PulsePin", Text(pin)), ("PulsesPerKwh", Text(meter.PulsesPerKwh)), ("SampleInterval", "00:00:02"));
                meters.Add(new SimulatedMeter(meter, hardware.Gpio, pin));
            }

            var inaAddress = 0x40;
            var chipSelect = 0;
            var oneWire = 0;
            foreach (var sensor in site.Sensors.Where(s => s.Device == device))
            {
                var part = Parts.GetValueOrDefault(sensor.Id) ?? sensor.Kind switch
                {
                    ReadingKinds.Dc => SensorTypes.Ina219,
                    ReadingKinds.Climate => SensorTypes.Sht4x,
                    ReadingKinds.Badge => SensorTypes.Mfrc522,
                    _ => null,
                };
                var room = sensor.Room ?? string.Empty;
                switch (part)
                {
                    case SensorTypes.Ina219 or SensorTypes.Ina226 or SensorTypes.Ina236:
                    {
                        var address = inaAddress++;
                        Action<double, double> setLoad = part switch
                        {
                            SensorTypes.Ina219 => hardware.I2c.Attach(1, address, new SimulatedIna219(1, address, BenchShuntOhms)).SetLoad,
                            SensorTypes.Ina226 => hardware.I2c.Attach(1, address, SimulatedIna2xx.Ina226(1, address, BenchShuntOhms)).SetLoad,
                            _ => hardware.I2c.Attach(1, address, SimulatedIna2xx.Ina236(1, address, BenchShuntOhms)).SetLoad,
                        };
                        setLoad(24.0, 1.0);
                        Sensor(sensor.Id, part, sensor.Room, ("Address", Text(address)), ("ShuntOhms", "0.1"), ("MaxCurrentA", "3.2"),
                            ("SampleInterval", dcSampleInterval.ToString()));
                        benches.Add(new SimulatedBench(sensor.Id, part, setLoad));
                        break;
                    }

                    case SensorTypes.Scd4x:
                    {
                        var scd = hardware.I2c.Attach(1, 0x62, new SimulatedScd4x(1, 0x62, clock));
                        Sensor(sensor.Id, part, sensor.Room, ("Address", Text(0x62)), ("AutomaticSelfCalibration", "true"), ("AmbientPressureHpa", "1013"), ("SampleInterval", "00:00:05"));
                        climate.Add(new SimulatedClimate(sensor.Id, part, room, air => scd.SetAir(air.Co2Ppm, air.Celsius, air.HumidityPct)));
                        break;
                    }

                    case SensorTypes.Bme280:
                    {
                        var bme = hardware.I2c.Attach(1, 0x76, new SimulatedBme280(1, 0x76));
                        Sensor(sensor.Id, part, sensor.Room, ("Address", Text(0x76)), ("SampleInterval", "00:00:05"));
                        climate.Add(new SimulatedClimate(sensor.Id, part, room, air => bme.SetClimate(air.Celsius, air.HumidityPct, air.PressureHpa)));
                        break;
                    }

                    case SensorTypes.Sht4x:
                    {
                        var sht = hardware.I2c.Attach(1, 0x44, new SimulatedSht4x(1, 0x44));
                        Sensor(sensor.Id, part, sensor.Room, ("Address", Text(0x44)), ("SampleInterval", "00:00:05"));
                        climate.Add(new SimulatedClimate(sensor.Id, part, room, air => sht.SetClimate(air.Celsius, air.HumidityPct)));
                        break;
                    }

                    case SensorTypes.Ds18b20:
                    {
                        var id = $"28-00000{oneWire++:x7}";
                        var thermometer = hardware.OneWire.Attach(id, new SimulatedDs18b20());
                        Sensor(sensor.Id, part, sensor.Room, ("OneWireId", id), ("SampleInterval", "00:00:05"));
                        climate.Add(new SimulatedClimate(sensor.Id, part, room, air => thermometer.Celsius = air.Celsius + 1.5));
                        break;
                    }

                    case SensorTypes.Mfrc522:
                    {
                        var cs = chipSelect++;
                        var reader = hardware.Spi.Attach(0, cs, new SimulatedMfrc522());
                        Sensor(sensor.Id, part, sensor.Room, ("SpiBus", "0"), ("ChipSelect", Text(cs)));
                        badges.Add(new SimulatedBadgeReader(sensor.Id, room, reader));
                        break;
                    }
                }
            }

            if (index > 0)
            {
                agents.Add(new SimulatedAgent(device, hardware, settings));
            }
        }

        return new DemoSite { Agents = agents, Doors = doors, Benches = benches, Meters = meters, Climate = climate, BadgeReaders = badges };
    }

    private static string Text(double value) => value.ToString(CultureInfo.InvariantCulture);
}
