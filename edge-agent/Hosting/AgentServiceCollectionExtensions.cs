using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Hardware;
using NewTechPark.Edge.Agent.Publishing;
using NewTechPark.Edge.Agent.Readers;
using NewTechPark.Edge.Agent.Simulation;
using NewTechPark.Edge.Agent.Simulation.Scenario;
using NewTechPark.Edge.Agent.State;

namespace NewTechPark.Edge.Agent.Hosting;

public static class AgentServiceCollectionExtensions
{
    /// <summary>
    /// Everything an edge agent runs: the sensors (<see cref="AddEdgeAgentSensors"/>) and their
    /// supervisor, the MQTT connection, the batch publisher and the status reporter.
    /// </summary>
    public static IServiceCollection AddEdgeAgent(this IServiceCollection services, IConfiguration configuration, SimulatedHardware? simulated = null)
    {
        services.AddEdgeAgentSensors(configuration, simulated);
        services.AddSingleton<ReadingQueue>();
        services.AddSingleton<Outbox>();
        services.AddSingleton<MqttConnection>();
        services.AddSingleton<BatchPublisher>();
        services.AddSingleton<StatusReporter>();
        services.AddHostedService(sp => sp.GetRequiredService<MqttConnection>());
        services.AddHostedService(sp => sp.GetRequiredService<BatchPublisher>());
        services.AddHostedService(sp => sp.GetRequiredService<StatusReporter>());
        services.AddHostedService<SensorSupervisor>();
        return services;
    }

    /// <summary>
    /// What reading the sensors needs, without any MQTT: validated options, hardware (real or
    /// simulated, with the built-in scenario feeding simulated hardware the agent made itself), the
    /// state store and the health table. <c>--once</c> and <c>--list-sensors</c> run on this alone.
    /// </summary>
    public static IServiceCollection AddEdgeAgentSensors(this IServiceCollection services, IConfiguration configuration, SimulatedHardware? simulated = null)
    {
        services.AddOptions<AgentOptions>()
            .Bind(configuration.GetSection(AgentOptions.Section))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<AgentOptions>, AgentOptionsAttributes>();
        services.AddSingleton<IValidateOptions<AgentOptions>, AgentOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);

        services.AddAgentHardware(simulated);
        services.AddSingleton<AgentStateStore>();
        services.AddSingleton<SensorHealth>();
        services.AddSingleton<BuiltInSimulation>();
        services.AddHostedService(sp => sp.GetRequiredService<BuiltInSimulation>());
        return services;
    }
}
