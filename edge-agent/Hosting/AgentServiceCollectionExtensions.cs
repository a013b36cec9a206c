using NewTechPark.Edge.Contracts.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Hardware;
using NewTechPark.Edge.Agent.Publishing;
using NewTechPark.Edge.Agent.Readers;
using NewTechPark.Edge.Agent.State;

namespace NewTechPark.Edge.Agent.Hosting;

public static class AgentServiceCollectionExtensions
{
    /// <summary>
    /// Everything an edge agent runs: the sensors (<see cref="AddEdgeAgentSensors"/>) and their
    /// supervisor, the MQTT connection, the batch publisher and the status reporter.
    /// </summary>
    public static IServiceCollection AddEdgeAgent(this IServiceCollection services, IConfiguration configuration, AgentHardware? hardware = null)
    {
        services.AddEdgeAgentSensors(configuration, hardware);
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
    /// What reading the sensors needs, without any MQTT: validated options, the hardware (the Pi's
    /// unless other buses are given), the state store and the health table. <c>check</c> and
    /// <c>sensors</c> run on this alone.
    /// </summary>
    public static IServiceCollection AddEdgeAgentSensors(this IServiceCollection services, IConfiguration configuration, AgentHardware? hardware = null)
    {
        services.AddOptions<AgentOptions>()
            .Bind(configuration.GetSection(AgentOptions.Section))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<AgentOptions>>(new NamedSettingsValidator<AgentOptions, AgentOptionsAttributeValidator>(AgentOptions.Section));
        services.AddSingleton<IValidateOptions<AgentOptions>, AgentOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<LoopHeartbeats>();

        services.AddAgentHardware(hardware);
        services.AddSingleton<AgentStateStore>();
        services.AddSingleton<SensorHealth>();
        return services;
    }
}
