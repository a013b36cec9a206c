using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Hardware;
using NewTechPark.Edge.Contracts.Configuration;

namespace NewTechPark.Edge.Agent.Hosting;

/// <summary>
/// Builds agent hosts: the service on a Pi and the one-shot checks. <paramref name="hardware"/>
/// and <paramref name="configure"/> (run before the agent's own services are added) are how the
/// simulation project composes the same host with simulated buses and its scenario.
/// </summary>
public static class EdgeAgentHost
{
    /// <summary>The agent as a service: appsettings.json, environment (<c>NTP_</c> prefix), command line; systemd-aware.</summary>
    public static IHost CreateService(string[] args, AgentHardware? hardware = null, Action<HostApplicationBuilder>? configure = null)
    {
        var builder = CreateBuilder(args);
        configure?.Invoke(builder);
        builder.Services.AddSystemd();
        builder.Services.TryAddSingleton(sp => SystemdWatchdogSetup.FromEnvironment(sp.GetService<ISystemdNotifier>()));
        builder.Services.AddHostedService<SystemdWatchdog>();
        builder.Services.AddEdgeAgent(builder.Configuration, hardware);
        return builder.Build();
    }

    /// <summary>The sensors alone, without MQTT: for <c>check</c> and <c>sensors</c>.</summary>
    public static IHost CreateSensorsOnly(string[] args, AgentHardware? hardware = null, Action<HostApplicationBuilder>? configure = null)
    {
        var builder = CreateBuilder(args);
        // Only problems on the console: the readings are the output.
        builder.Configuration.AddInMemoryCollection([new("Logging:LogLevel:Default", "Warning"), new("Logging:LogLevel:Microsoft.Hosting.Lifetime", "Warning")]);
        configure?.Invoke(builder);
        builder.Services.AddEdgeAgentSensors(builder.Configuration, hardware);
        return builder.Build();
    }

    private static HostApplicationBuilder CreateBuilder(string[] args)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            // Settings only: AgentCommandLine split the commands and options off.
            Args = SettingsReadOnce.Arguments(args),
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.AddEnvironmentVariables("NTP_");
        CheckHardwareMode(builder.Configuration);
        return builder;
    }

    /// <summary>
    /// The binder would throw a bare conversion error for a mode this program no longer has
    /// (<c>Simulated</c>): name the setting and say where simulated hardware went.
    /// </summary>
    private static void CheckHardwareMode(IConfiguration configuration)
    {
        var mode = configuration["Agent:Hardware"];
        if (!string.IsNullOrEmpty(mode) && !Enum.GetNames<HardwareMode>().Contains(mode, StringComparer.OrdinalIgnoreCase))
        {
            throw new OptionsValidationException(AgentOptions.Section, typeof(AgentOptions), [
                $"Agent:Hardware '{mode}' is not a hardware mode of the edge agent: it has Real (and Auto, which means Real). " +
                "Simulated hardware is the simulation project: dotnet run --project simulation"]);
        }
    }
}
