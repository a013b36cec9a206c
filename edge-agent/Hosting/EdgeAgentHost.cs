using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NewTechPark.Edge.Agent.Simulation;

namespace NewTechPark.Edge.Agent.Hosting;

/// <summary>Builds agent hosts: the service on a Pi, or simulated agents inside the demo and the tests.</summary>
public static class EdgeAgentHost
{
    /// <summary>The agent as a service: appsettings.json, environment (<c>NTP_</c> prefix), command line; systemd-aware.</summary>
    public static IHost CreateService(string[] args)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.AddEnvironmentVariables("NTP_");
        builder.Services.AddSystemd();
        builder.Services.AddEdgeAgent(builder.Configuration);
        return builder.Build();
    }

    /// <summary>
    /// An agent configured from key/value settings (<c>Agent:Device</c>, <c>Agent:Sensors:0:Type</c>…)
    /// on the given simulated hardware, without reading any file or environment variable.
    /// </summary>
    public static IHost CreateSimulated(
        IEnumerable<KeyValuePair<string, string?>> settings,
        SimulatedHardware hardware,
        Action<ILoggingBuilder>? logging = null,
        TimeProvider? clock = null)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Configuration.AddInMemoryCollection([new("Agent:Hardware", "Simulated")]);
        if (clock is not null)
        {
            builder.Services.AddSingleton(clock);
        }

        builder.Services.AddLogging(logging ?? (_ => { }));
        builder.Services.AddEdgeAgent(builder.Configuration, hardware);
        return builder.Build();
    }
}
