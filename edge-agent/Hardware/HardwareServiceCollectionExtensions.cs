using System.Device.Gpio;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Agent.Configuration;

namespace NewTechPark.Edge.Agent.Hardware;

public static class HardwareServiceCollectionExtensions
{
    /// <summary>
    /// Registers the one <see cref="GpioController"/>, <see cref="II2cBus"/>, <see cref="ISpiBus"/>
    /// and <see cref="IOneWireBus"/> of this agent: the Pi's drivers (<see cref="AgentHardware.Real"/>,
    /// the default), or the buses given (the simulation project passes its simulated ones).
    /// </summary>
    public static IServiceCollection AddAgentHardware(this IServiceCollection services, AgentHardware? hardware = null)
    {
        hardware ??= AgentHardware.Real;
        services.AddSingleton(hardware);
        services.AddSingleton(RealGpio.Create);
        if (hardware.RequiresGpioChip)
        {
            services.AddSingleton<IValidateOptions<AgentOptions>, RealHardwareValidator>();
        }

        // Each bus is created on first use only: on a machine without GPIO the real
        // GpioController's constructor throws.
        services.AddSingleton(sp => sp.GetRequiredService<AgentHardware>().Gpio(sp));
        services.AddSingleton(sp => sp.GetRequiredService<AgentHardware>().I2c(sp));
        services.AddSingleton(sp => sp.GetRequiredService<AgentHardware>().Spi(sp));
        services.AddSingleton(sp => sp.GetRequiredService<AgentHardware>().OneWire(sp));
        // Whether the edge event loop still runs, for the door and S0 readers' health.
        services.AddSingleton<IEdgeEventHealth>(sp => sp.GetRequiredService<AgentHardware>().EdgeEvents?.Invoke(sp) ?? NoEdgeEventProblem.Instance);
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
}

/// <summary>The real GPIO driver, made once and owned by the <see cref="GpioController"/> (not disposed by the container).</summary>
public sealed record RealGpio(GpioDriver Driver)
{
    private const string LoggerName = "NewTechPark.Edge.Agent.Hardware";

    /// <summary>The one real driver of this agent, shared by its controller and its health.</summary>
    public static RealGpio Of(IServiceProvider services) => services.GetRequiredService<RealGpio>();

    internal static RealGpio Create(IServiceProvider sp)
    {
        var options = sp.GetRequiredService<IOptions<AgentOptions>>().Value;
        var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger(LoggerName);
        return new RealGpio(HardwareServiceCollectionExtensions.RealGpioDriver(options.GpioChip, logger, sp.GetRequiredService<TimeProvider>()));
    }
}

/// <summary>Edge events that cannot stop (none, or simulated ones delivered by the caller).</summary>
public sealed class NoEdgeEventProblem : IEdgeEventHealth
{
    public static readonly NoEdgeEventProblem Instance = new();

    public string? Problem => null;
}

/// <summary>
/// The buses an agent reads its sensors through, each made on first use. The production agent
/// has only <see cref="Real"/>; the simulation project (<c>simulation/</c>) hands in its
/// simulated GPIO driver and register maps, and the readers cannot tell the difference.
/// </summary>
/// <param name="Name">Shown by <c>sensors</c>: <c>Real</c>, <c>Simulated</c>.</param>
/// <param name="RequiresGpioChip">Refuse to start when <c>/dev/gpiochipN</c> is missing (not a Pi).</param>
public sealed record AgentHardware(
    string Name,
    Func<IServiceProvider, GpioController> Gpio,
    Func<IServiceProvider, II2cBus> I2c,
    Func<IServiceProvider, ISpiBus> Spi,
    Func<IServiceProvider, IOneWireBus> OneWire,
    bool RequiresGpioChip = false,
    Func<IServiceProvider, IEdgeEventHealth>? EdgeEvents = null)
{
    /// <summary>The Raspberry Pi's buses: GPIO through libgpiod, <c>/dev/i2c-N</c>, <c>/dev/spidevB.C</c>, the kernel's 1-Wire folder.</summary>
    public static AgentHardware Real { get; } = new(
        "Real",
        sp => new GpioController(RealGpio.Of(sp).Driver),
        _ => new LinuxI2cBus(),
        _ => new LinuxSpiBus(),
        _ => new SysfsOneWireBus(),
        RequiresGpioChip: true,
        EdgeEvents: sp => RealGpio.Of(sp).Driver as IEdgeEventHealth ?? NoEdgeEventProblem.Instance);
}

/// <summary>
/// Off a Pi the real drivers cannot work: say so at start, with the setting and what to run
/// instead, rather than failing later inside libgpiod.
/// </summary>
internal sealed class RealHardwareValidator : IValidateOptions<AgentOptions>
{
    public ValidateOptionsResult Validate(string? name, AgentOptions options)
    {
        var chip = $"/dev/gpiochip{options.GpioChip}";
        return File.Exists(chip)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(
                $"Agent:GpioChip: {chip} does not exist, so this is not a Raspberry Pi (or its GPIO is off). " +
                "The edge agent drives real hardware only; off a Pi run the simulated agent instead: dotnet run --project simulation");
    }
}
