using System.Device.Gpio;
using System.Device.Gpio.Drivers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Simulation;

namespace NewTechPark.Edge.Agent.Hardware;

public static class HardwareServiceCollectionExtensions
{
    /// <summary>
    /// Registers the one <see cref="GpioController"/>, <see cref="II2cBus"/>, <see cref="ISpiBus"/>
    /// and <see cref="IOneWireBus"/> of this agent: the Pi's drivers, or the simulated ones. A
    /// <see cref="SimulatedHardware"/> instance passed in (the demo and the tests do) is used as the
    /// simulated hardware and driven by its owner; without one, the agent makes its own and feeds it
    /// from the built-in scenario (<see cref="Simulation.Scenario.BuiltInSimulation"/>).
    /// </summary>
    public static IServiceCollection AddAgentHardware(this IServiceCollection services, SimulatedHardware? simulated = null)
    {
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<AgentOptions>>().Value;
            var mode = ResolveMode(options.Hardware);
            if (mode == HardwareMode.Real)
            {
                return new HardwareSelection(mode, null, SelfDriven: false);
            }

            sp.GetRequiredService<ILoggerFactory>().CreateLogger("NewTechPark.Edge.Agent.Hardware")
                .LogInformation("Using simulated GPIO, I2C, SPI and 1-Wire (Agent:Hardware is {Mode})", options.Hardware);
            return new HardwareSelection(mode, simulated ?? new SimulatedHardware(), SelfDriven: simulated is null);
        });

        // On a machine without GPIO the default GpioController constructor throws, so it is only
        // created when the real hardware was chosen.
        services.AddSingleton(sp =>
        {
            var selection = sp.GetRequiredService<HardwareSelection>();
            if (selection.Simulated is { } sim)
            {
                return new GpioController(sim.Gpio);
            }

            var options = sp.GetRequiredService<IOptions<AgentOptions>>().Value;
            var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger("NewTechPark.Edge.Agent.Hardware");
            return new GpioController(RealGpioDriver(options.GpioChip, logger));
        });
        services.AddSingleton<II2cBus>(sp =>
        {
            var selection = sp.GetRequiredService<HardwareSelection>();
            return selection.Simulated is { } sim ? sim.I2c : new LinuxI2cBus();
        });
        services.AddSingleton<ISpiBus>(sp =>
        {
            var selection = sp.GetRequiredService<HardwareSelection>();
            return selection.Simulated is { } sim ? sim.Spi : new LinuxSpiBus();
        });
        services.AddSingleton<IOneWireBus>(sp =>
        {
            var selection = sp.GetRequiredService<HardwareSelection>();
            return selection.Simulated is { } sim ? sim.OneWire : new SysfsOneWireBus();
        });
        return services;
    }

    /// <summary>
    /// The character-device driver with kernel edge events and their timestamps: libgpiod v2
    /// (<c>libgpiod.so.3</c>, Debian Trixie) where it is installed, else libgpiod v1
    /// (<c>libgpiod.so.2</c>, Bookworm). Never sysfs or register polling, which lose short pulses.
    /// </summary>
    public static GpioDriver RealGpioDriver(int chip, ILogger logger)
    {
        try
        {
            var version = LibGpiodV2Driver.GetApiVersion();
            logger.LogInformation("GPIO: libgpiod {Version} (v2 driver) on gpiochip{Chip}", version, chip);
            return new LibGpiodV2Driver(chip);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or TypeInitializationException or PlatformNotSupportedException or IOException)
        {
            logger.LogInformation(e, "GPIO: libgpiod v2 not available; using the libgpiod v1 driver on gpiochip{Chip}", chip);
            return new LibGpiodDriver(chip);
        }
    }

    public static HardwareMode ResolveMode(HardwareMode configured) => configured switch
    {
        HardwareMode.Auto => File.Exists("/dev/gpiochip0") ? HardwareMode.Real : HardwareMode.Simulated,
        _ => configured,
    };
}

/// <summary>
/// The hardware chosen at start: real, or this simulated set. <paramref name="SelfDriven"/>: the
/// agent made the simulated set itself and feeds it from its built-in scenario.
/// </summary>
public sealed record HardwareSelection(HardwareMode Mode, SimulatedHardware? Simulated, bool SelfDriven = false);
