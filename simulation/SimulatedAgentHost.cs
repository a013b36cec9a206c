using NewTechPark.Edge.Contracts.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Agent.Hosting;
using NewTechPark.Edge.Simulation.Scenario;

namespace NewTechPark.Edge.Simulation;

/// <summary>
/// The real agent host (edge-agent's <see cref="EdgeAgentHost"/>) composed with simulated
/// hardware: the simulated agent program (<c>dotnet run --project simulation</c>), and agents on
/// simulated buses for the demo, the tests and the bench.
/// </summary>
public static class SimulatedAgentHost
{
    /// <summary>Read beside <c>appsettings.json</c> by the simulated agent program: a simulated Pi with every kind of sensor.</summary>
    public const string SimulationSettingsFile = "appsettings.Simulation.json";

    /// <summary>
    /// The simulated agent program: the agent's command line (service, <c>check</c>,
    /// <c>sensors</c>, same output and exit codes) on simulated buses of its own, fed by the
    /// built-in scenario with the sensors of <see cref="SimulationSettingsFile"/>.
    /// </summary>
    public static Task<int> RunAsync(string[] args)
    {
        var hardware = new SimulatedHardware();
        return AgentCommandLine.RunAsync(args, hardware.ToAgentHardware(), builder => AddBuiltInSimulation(builder, hardware));
    }

    /// <summary>
    /// An agent configured from key/value settings (<c>Agent:Device</c>, <c>Agent:Sensors:0:Type</c>…)
    /// on the given simulated hardware, driven by its owner, without reading any file or environment variable.
    /// </summary>
    public static IHost Create(
        IEnumerable<KeyValuePair<string, string?>> settings,
        SimulatedHardware hardware,
        Action<ILoggingBuilder>? logging = null,
        TimeProvider? clock = null)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        if (clock is not null)
        {
            builder.Services.AddSingleton(clock);
        }

        builder.Services.AddLogging(logging ?? (_ => { }));
        builder.Services.AddEdgeAgent(builder.Configuration, hardware.ToAgentHardware());
        return builder.Build();
    }

    /// <summary>
    /// The sensors of <see cref="SimulationSettingsFile"/>, the twins on <paramref name="hardware"/>
    /// and the built-in scenario that drives them (<c>Agent:Simulation:Seed</c>, <c>Speed</c>).
    /// </summary>
    public static void AddBuiltInSimulation(HostApplicationBuilder builder, SimulatedHardware hardware)
    {
        AddSimulationSettings(builder.Configuration);
        builder.Services.AddSingleton(hardware);
        builder.Services.AddOptions<SimulationOptions>()
            .Bind(builder.Configuration.GetSection(SimulationOptions.Section))
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<SimulationOptions>>(new NamedSettingsValidator<SimulationOptions, SimulationOptionsAttributeValidator>(SimulationOptions.Section));
        builder.Services.AddSingleton<BuiltInSimulation>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<BuiltInSimulation>());
    }

    /// <summary>
    /// The sensors of <see cref="SimulationSettingsFile"/> replace those of appsettings.json;
    /// environment and command line still win over both.
    /// </summary>
    private static void AddSimulationSettings(ConfigurationManager configuration)
    {
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
