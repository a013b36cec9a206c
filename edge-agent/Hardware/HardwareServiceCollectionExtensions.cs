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
    /// Registers the one <see cref="GpioController"/> and <see cref="II2cBus"/> of this agent: the
    /// Pi's drivers, or the simulated ones. A <see cref="SimulatedHardware"/> instance passed in
    /// (the demo and the tests do) is used as the simulated hardware.
    /// </summary>
    public static IServiceCollection AddAgentHardware(this IServiceCollection services, SimulatedHardware? simulated = null)
    {
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<AgentOptions>>().Value;
            var mode = ResolveMode(options.Hardware);
            if (mode == HardwareMode.Real)
            {
                return new HardwareSelection(mode, null);
            }

            sp.GetRequiredService<ILoggerFactory>().CreateLogger("NewTechPark.Edge.Agent.Hardware")
                .LogInformation("Using simulated GPIO and I2C (Agent:Hardware is {Mode})", options.Hardware);
            return new HardwareSelection(mode, simulated ?? new SimulatedHardware());
        });

        // On a machine without GPIO the default GpioController constructor throws, so it is only
        // created when the real hardware was chosen.
        services.AddSingleton(sp =>
        {
            var selection = sp.GetRequiredService<HardwareSelection>();
            return selection.Simulated is { } sim ? new GpioController(sim.Gpio) : new GpioController();
        });
        services.AddSingleton<II2cBus>(sp =>
        {
            var selection = sp.GetRequiredService<HardwareSelection>();
            return selection.Simulated is { } sim ? sim.I2c : new LinuxI2cBus();
        });
        return services;
    }

    public static HardwareMode ResolveMode(HardwareMode configured) => configured switch
    {
        HardwareMode.Auto => File.Exists("/dev/gpiochip0") ? HardwareMode.Real : HardwareMode.Simulated,
        _ => configured,
    };
}

/// <summary>The hardware chosen at start: real, or this simulated set.</summary>
public sealed record HardwareSelection(HardwareMode Mode, SimulatedHardware? Simulated);
