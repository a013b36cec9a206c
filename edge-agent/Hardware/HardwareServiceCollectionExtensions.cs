using System.Device.Gpio;
using System.Device.Gpio.Drivers;
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
}

/// <summary>
/// The buses an agent reads its sensors through, each made on first use. The production agent
/// has only <see cref="Real"/>; the simulation project (<c>simulation/</c>) hands in its
/// simulated GPIO driver and register maps, and the readers cannot tell the difference.
/// </summary>
/// <param name="Name">Shown by <c>--list-sensors</c>: <c>Real</c>, <c>Simulated</c>.</param>
/// <param name="RequiresGpioChip">Refuse to start when <c>/dev/gpiochipN</c> is missing (not a Pi).</param>
public sealed record AgentHardware(
    string Name,
    Func<IServiceProvider, GpioController> Gpio,
    Func<IServiceProvider, II2cBus> I2c,
    Func<IServiceProvider, ISpiBus> Spi,
    Func<IServiceProvider, IOneWireBus> OneWire,
    bool RequiresGpioChip = false)
{
    private const string LoggerName = "NewTechPark.Edge.Agent.Hardware";

    /// <summary>The Raspberry Pi's buses: GPIO through libgpiod, <c>/dev/i2c-N</c>, <c>/dev/spidevB.C</c>, the kernel's 1-Wire folder.</summary>
    public static AgentHardware Real { get; } = new(
        "Real",
        sp =>
        {
            var options = sp.GetRequiredService<IOptions<AgentOptions>>().Value;
            var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger(LoggerName);
            return new GpioController(HardwareServiceCollectionExtensions.RealGpioDriver(options.GpioChip, logger));
        },
        _ => new LinuxI2cBus(),
        _ => new LinuxSpiBus(),
        _ => new SysfsOneWireBus(),
        RequiresGpioChip: true);
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
