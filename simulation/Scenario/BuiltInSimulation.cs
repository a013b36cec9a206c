using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Readers;

namespace NewTechPark.Edge.Simulation.Scenario;

/// <summary>
/// The simulated world of an agent that runs on simulated hardware of its own (off a Pi, with no
/// demo around it): it puts a simulated twin of every configured sensor on the simulated buses
/// (beams and S0 outputs on their GPIOs, register maps at their I2C addresses, an MFRC522 on its
/// chip select, thermometers on the 1-Wire bus) and drives them with a small scenario: people
/// walking through the doors, the building's load and the sun on the meters, bench experiments,
/// room air that follows the people, visitors checking in with their cards (some returning).
/// </summary>
public sealed class BuiltInSimulation : BackgroundService
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(20);

    private readonly AgentOptions _options;
    private readonly SimulationOptions _simulation;
    private readonly TimeProvider _clock;
    private readonly ILogger<BuiltInSimulation> _logger;
    private readonly Timeline _timeline = new();
    private readonly List<Action<DateTimeOffset, DateTimeOffset, TimeSpan>> _drivers = [];

    public BuiltInSimulation(IOptions<AgentOptions> options, IOptions<SimulationOptions> simulation, SimulatedHardware hardware, TimeProvider clock, ILogger<BuiltInSimulation> logger)
    {
        _options = options.Value;
        _simulation = simulation.Value;
        _clock = clock;
        _logger = logger;
        Attach(hardware);
    }

    /// <summary>People in the simulated area now.</summary>
    public int PeopleInside { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_drivers.Count == 0)
        {
            return;
        }

        var scenario = new ScenarioClock(_clock, _clock.GetUtcNow(), _simulation.Speed);
        _logger.LogInformation("Built-in simulation: {Sensors} simulated sensors, seed {Seed}, {Speed}× real time",
            _drivers.Count, _simulation.Seed, _simulation.Speed);
        var lastScenario = scenario.Now;
        using var timer = new PeriodicTimer(Tick, _clock);
        do
        {
            var now = _clock.GetUtcNow();
            var at = scenario.Now;
            var elapsed = at - lastScenario;
            foreach (var driver in _drivers)
            {
                driver(now, at, elapsed);
            }

            _timeline.RunDue(now);
            lastScenario = at;
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    private void Attach(SimulatedHardware hardware)
    {
        var seed = _simulation.Seed;
        var random = new Random(seed);
        var solar = new SolarModel(seed);
        var visitors = new VisitorPool(seed);
        var air = new RoomAir(volumeM3: 250);
        var airClock = (DateTimeOffset?)null;
        var benchIndex = 0;
        var airDriven = false;
        foreach (var sensor in _options.Sensors)
        {
            switch (sensor.Type)
            {
                case SensorTypes.DoorBeams when sensor is { BeamOuterPin: { } outer, BeamInnerPin: { } inner }:
                {
                    var walker = new DoorWalker(hardware.Gpio, outer, inner, _timeline);
                    walker.Idle();
                    var next = DateTimeOffset.MinValue;
                    _drivers.Add((now, at, _) =>
                    {
                        if (next == DateTimeOffset.MinValue)
                        {
                            next = now + TimeSpan.FromMilliseconds(300);
                        }

                        if (now < next)
                        {
                            return;
                        }

                        // In when the room is empty or by chance; out only when someone is in.
                        var into = PeopleInside == 0 || random.NextDouble() < 0.55;
                        var through = walker.Walk(into, now);
                        PeopleInside += into ? 1 : -1;
                        next = through + TimeSpan.FromSeconds((1.5 + (random.NextDouble() * 5)) / _simulation.Speed);
                    });
                    break;
                }

                case SensorTypes.S0Meter when sensor.PulsePin is { } pin:
                {
                    var train = new PulseTrain(hardware.Gpio, pin, sensor.PulsesPerKwh, _timeline);
                    train.Idle();
                    var isSolar = sensor.Id.Contains("solar", StringComparison.Ordinal);
                    _drivers.Add((now, at, elapsed) =>
                    {
                        var open = at.ToOffset(TimeSpan.FromHours(1)).Hour is >= 8 and < 18;
                        var watts = isSolar ? solar.PowerW(at) : BuildingLoad.PowerW(open, PeopleInside) / 8;
                        train.Advance(now, elapsed, watts);
                    });
                    break;
                }

                case SensorTypes.Ina219 or SensorTypes.Ina226 or SensorTypes.Ina236 when sensor.Address is { } address:
                {
                    var bench = new BenchModel(benchIndex++);
                    Action<double, double> setLoad;
                    if (sensor.Type == SensorTypes.Ina219)
                    {
                        var ina = AttachI2c(hardware, sensor.I2cBus, address, () => new SimulatedIna219(sensor.I2cBus, address, sensor.ShuntOhms));
                        setLoad = ina.SetLoad;
                    }
                    else
                    {
                        var ina = AttachI2c(hardware, sensor.I2cBus, address, () => sensor.Type == SensorTypes.Ina226
                            ? SimulatedIna2xx.Ina226(sensor.I2cBus, address, sensor.ShuntOhms)
                            : SimulatedIna2xx.Ina236(sensor.I2cBus, address, sensor.ShuntOhms));
                        setLoad = ina.SetLoad;
                    }

                    var (v0, a0) = bench.At(_clock.GetUtcNow(), inUse: true);
                    setLoad(v0, a0);
                    _drivers.Add((_, at, _) =>
                    {
                        var (volts, amps) = bench.At(at, inUse: true);
                        setLoad(volts, Math.Min(amps, sensor.MaxCurrentA * 0.95));
                    });
                    break;
                }

                case SensorTypes.Bme280:
                {
                    var address = sensor.Address ?? 0x76;
                    var bme = AttachI2c(hardware, sensor.I2cBus, address, () => new SimulatedBme280(sensor.I2cBus, address));
                    _drivers.Add((_, _, _) => bme.SetClimate(air.Celsius, air.HumidityPct, air.PressureHpa));
                    airDriven = true;
                    break;
                }

                case SensorTypes.Sht4x:
                {
                    var address = sensor.Address ?? 0x44;
                    var sht = AttachI2c(hardware, sensor.I2cBus, address, () => new SimulatedSht4x(sensor.I2cBus, address));
                    _drivers.Add((_, _, _) => sht.SetClimate(air.Celsius, air.HumidityPct));
                    airDriven = true;
                    break;
                }

                case SensorTypes.Scd4x:
                {
                    var address = sensor.Address ?? 0x62;
                    var scd = AttachI2c(hardware, sensor.I2cBus, address, () => new SimulatedScd4x(sensor.I2cBus, address, _clock));
                    _drivers.Add((_, _, _) => scd.SetAir(air.Co2Ppm, air.Celsius, air.HumidityPct));
                    airDriven = true;
                    break;
                }

                case SensorTypes.Ds18b20 when sensor.OneWireId is { } id:
                {
                    var thermometer = hardware.OneWire.IsAttached(id) ? null : hardware.OneWire.Attach(id, new SimulatedDs18b20());
                    if (thermometer is not null)
                    {
                        _drivers.Add((_, _, _) => thermometer.Celsius = air.Celsius - 0.3);
                    }

                    airDriven = true;
                    break;
                }

                case SensorTypes.Mfrc522:
                {
                    if (hardware.Spi.IsAttached(sensor.SpiBus, sensor.ChipSelect))
                    {
                        break;
                    }

                    var holder = new BadgeHolder(hardware.Spi.Attach(sensor.SpiBus, sensor.ChipSelect, new SimulatedMfrc522()), _timeline);
                    var next = DateTimeOffset.MinValue;
                    _drivers.Add((now, _, _) =>
                    {
                        if (next == DateTimeOffset.MinValue)
                        {
                            next = now + TimeSpan.FromMilliseconds(500);
                        }

                        if (now >= next)
                        {
                            next = holder.CheckIn(visitors.Next(), now) + TimeSpan.FromSeconds((2 + (random.NextDouble() * 6)) / _simulation.Speed);
                        }
                    });
                    break;
                }
            }
        }

        if (airDriven)
        {
            _drivers.Insert(0, (_, at, _) =>
            {
                air.Advance(airClock is { } last ? at - last : TimeSpan.Zero, PeopleInside);
                airClock = at;
            });
        }

        _logger.LogDebug("Built-in simulation attached twins for {Count} sensors", _drivers.Count);
    }

    private static T AttachI2c<T>(SimulatedHardware hardware, int bus, int address, Func<T> create)
        where T : System.Device.I2c.I2cDevice =>
        hardware.I2c.Attach(bus, address, create());
}
