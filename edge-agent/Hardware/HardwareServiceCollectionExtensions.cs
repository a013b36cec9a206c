using System.Device.Gpio;
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

            return new GpioController(sp.GetRequiredService<RealGpio>().Driver);
        });
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<AgentOptions>>().Value;
            var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger("NewTechPark.Edge.Agent.Hardware");
            return new RealGpio(RealGpioDriver(options.GpioChip, logger, sp.GetRequiredService<TimeProvider>()));
        });
        services.AddSingleton<IEdgeEventHealth>(sp =>
        {
            var selection = sp.GetRequiredService<HardwareSelection>();
            var driver = selection.Simulated is { } sim ? sim.Gpio : sp.GetRequiredService<RealGpio>().Driver;
            return driver as IEdgeEventHealth ?? NoEdgeEventProblem.Instance;
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
    /// The GPIO character device through our own uAPI v2 driver (<see cref="GpioCdevDriver"/>):
    /// kernel edge events with their timestamps on one thread for all lines, bias kept when edges
    /// are turned on, and a failure reported in the readers' health. Neither libgpiod v1 (Bookworm)
    /// nor v2 (Trixie) is needed. Never sysfs or register polling, which lose short pulses.
    /// </summary>
    public static GpioDriver RealGpioDriver(int chip, ILogger logger, TimeProvider clock)
    {
        logger.LogInformation("GPIO: /dev/gpiochip{Chip} through the character device (uAPI v2), one edge event thread", chip);
        return new GpioCdevDriver(chip, logger, clock);
    }

    public static HardwareMode ResolveMode(HardwareMode configured) => configured switch
    {
        HardwareMode.Auto => File.Exists("/dev/gpiochip0") ? HardwareMode.Real : HardwareMode.Simulated,
        _ => configured,
    };
}

/// <summary>The real GPIO driver, made once and owned by the <see cref="GpioController"/> (not disposed by the container).</summary>
public sealed record RealGpio(GpioDriver Driver);

/// <summary>Edge events that cannot stop (none, or simulated ones delivered by the caller).</summary>
public sealed class NoEdgeEventProblem : IEdgeEventHealth
{
    public static readonly NoEdgeEventProblem Instance = new();

    public string? Problem => null;
}

/// <summary>
/// The hardware chosen at start: real, or this simulated set. <paramref name="SelfDriven"/>: the
/// agent made the simulated set itself and feeds it from its built-in scenario.
/// </summary>
public sealed record HardwareSelection(HardwareMode Mode, SimulatedHardware? Simulated, bool SelfDriven = false);
