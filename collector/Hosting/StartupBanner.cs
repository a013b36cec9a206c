using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Broker;
using NewTechPark.Edge.Collector.Configuration;

namespace NewTechPark.Edge.Collector.Hosting;

/// <summary>Prints where the dashboard and the broker are, once both are listening.</summary>
public sealed class StartupBanner(IHostApplicationLifetime lifetime, IServer server, BrokerEndpoint broker, IOptions<CollectorOptions> options) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(() =>
        {
            var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            var dashboard = addresses.Select(a => a.Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal).Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("localhost", "127.0.0.1", StringComparison.Ordinal))
                .FirstOrDefault() ?? "(no HTTP address)";
            Console.WriteLine();
            Console.WriteLine($"  NewTechPark.Edge collector{(options.Value.Demo.Enabled ? " (demo: simulated site)" : string.Empty)}");
            Console.WriteLine($"  Dashboard: {dashboard.TrimEnd('/')}/");
            Console.WriteLine($"  Broker:    {broker.Address}{(options.Value.Broker.Embedded ? " (embedded)" : " (outside)")}");
            Console.WriteLine("  Press Ctrl+C to stop.");
            Console.WriteLine();
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
