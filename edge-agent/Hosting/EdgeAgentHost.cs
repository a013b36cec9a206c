using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Hardware;
using NewTechPark.Edge.Agent.Simulation;

namespace NewTechPark.Edge.Agent.Hosting;

/// <summary>Builds agent hosts: the service on a Pi, the one-shot checks, or simulated agents inside the demo and the tests.</summary>
public static class EdgeAgentHost
{
    /// <summary>Read beside <c>appsettings.json</c> when the hardware resolves to simulated: a simulated Pi with every kind of sensor.</summary>
    public const string SimulationSettingsFile = "appsettings.Simulation.json";

    /// <summary>The agent as a service: appsettings.json, environment (<c>NTP_</c> prefix), command line; systemd-aware.</summary>
    public static IHost CreateService(string[] args)
    {
        var builder = CreateBuilder(args);
        builder.Services.AddSystemd();
        builder.Services.AddHostedService<SystemdWatchdog>();
        builder.Services.AddEdgeAgent(builder.Configuration);
        return builder.Build();
    }

    /// <summary>The sensors alone, without MQTT: for <c>--once</c> and <c>--list-sensors</c>.</summary>
    public static IHost CreateSensorsOnly(string[] args)
    {
        var builder = CreateBuilder(args);
        // Only problems on the console: the readings are the output.
        builder.Configuration.AddInMemoryCollection([new("Logging:LogLevel:Default", "Warning"), new("Logging:LogLevel:Microsoft.Hosting.Lifetime", "Warning")]);
        builder.Services.AddEdgeAgentSensors(builder.Configuration);
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

    private static HostApplicationBuilder CreateBuilder(string[] args)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = args.Where(a => a is not ("--once" or "--list-sensors")).ToArray(),
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.AddEnvironmentVariables("NTP_");
        AddSimulationSettings(builder.Configuration);
        return builder;
    }

    /// <summary>
    /// Off a Pi (Agent:Hardware resolves to Simulated) the sensors of <see cref="SimulationSettingsFile"/>
    /// replace those of appsettings.json; environment and command line still win over both.
    /// </summary>
    private static void AddSimulationSettings(ConfigurationManager configuration)
    {
        var mode = Enum.TryParse<HardwareMode>(configuration["Agent:Hardware"], ignoreCase: true, out var parsed) ? parsed : HardwareMode.Auto;
        if (HardwareServiceCollectionExtensions.ResolveMode(mode) != HardwareMode.Simulated)
        {
            return;
        }

        var path = Path.Combine(AppContext.BaseDirectory, SimulationSettingsFile);
        if (!File.Exists(path))
        {
            return;
        }

        // The sensor list is replaced, not merged item by item: drop the file's Sensors from the
        // sources before it, by putting the simulation file right after the last JSON file.
        var sources = configuration.Sources;
        var lastJson = -1;
        for (var i = 0; i < sources.Count; i++)
        {
            if (sources[i] is JsonConfigurationSource)
            {
                lastJson = i;
            }
        }

        var simulation = new ConfigurationBuilder().SetBasePath(AppContext.BaseDirectory).AddJsonFile(SimulationSettingsFile, optional: false).Build();
        var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (simulation.GetSection("Agent:Sensors").Exists())
        {
            // Blank out every sensor setting of the files before, so the two lists do not mix.
            foreach (var child in configuration.GetSection("Agent:Sensors").AsEnumerable())
            {
                overrides[child.Key] = null;
            }
        }

        var memory = new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource { InitialData = overrides };
        var json = new JsonConfigurationSource { Path = path, Optional = false, ReloadOnChange = false };
        json.ResolveFileProvider();
        sources.Insert(lastJson + 1, memory);
        sources.Insert(lastJson + 2, json);
    }
}
