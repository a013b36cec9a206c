using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Broker;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Simulation;

namespace NewTechPark.Edge.Demo;

/// <summary>
/// The demo: one simulated edge agent per device of the site file, in this process, each with its
/// own MQTT connection to the broker, and the scenario that walks people through their doors.
/// </summary>
public sealed class DemoRunner(
    SiteModel site,
    BrokerEndpoint broker,
    DemoCredentials credentials,
    IOptions<CollectorOptions> options,
    IOptions<DemoOptions> demoOptions,
    TimeProvider clock,
    ILogger<DemoRunner> logger) : BackgroundService
{
    /// <summary>The simulated agents' state files, below the collector's data directory.</summary>
    public const string AgentsFolder = "demo-agents";

    private readonly List<IHost> _agents = [];

    public DemoScenario? Scenario { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var demo = DemoSite.Build(site, broker.Host, broker.Port, credentials.PasswordOf, Path.Combine(options.Value.DataDirectory, AgentsFolder), TimeSpan.FromMilliseconds(200));
        foreach (var agent in demo.Agents)
        {
            var host = SimulatedAgentHost.Create(agent.Settings, agent.Hardware, logging => logging
                .AddSimpleConsole(o => o.SingleLine = true)
                .SetMinimumLevel(LogLevel.Warning));
            await host.StartAsync(stoppingToken).ConfigureAwait(false);
            _agents.Add(host);
        }

        logger.LogInformation("Demo: {Agents} simulated agents with {Doors} doors, {Meters} S0 meters, {Benches} DC benches, {Climate} climate sensors and {Badges} badge readers publish to {Broker}",
            demo.Agents.Count, demo.Doors.Count, demo.Meters.Count, demo.Benches.Count, demo.Climate.Count, demo.BadgeReaders.Count, broker.Address);
        Scenario = new DemoScenario(site, demo, demoOptions.Value.Seed, demoOptions.Value.ArrivalsPerMinute);
        try
        {
            await Scenario.RunAsync(clock, stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        foreach (var agent in _agents)
        {
            try
            {
                await agent.StopAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                agent.Dispose();
            }
        }

        _agents.Clear();
    }
}
