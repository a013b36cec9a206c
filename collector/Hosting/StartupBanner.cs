using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Broker;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Demo;

namespace NewTechPark.Edge.Collector.Hosting;

/// <summary>Prints where the dashboard and the broker are, once both are listening.</summary>
public sealed class StartupBanner(IHostApplicationLifetime lifetime, IServer server, BrokerEndpoint broker, IOptions<CollectorOptions> options, IServiceProvider services) : IHostedService
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
            if (services.GetService<DemoCredentials>() is { } demo)
            {
                // The one secret printed on purpose: a demo-only device, made at start, so a
                // newcomer can publish by hand. Real devices' passwords are never printed or logged.
                Console.WriteLine($"  Publish by hand as the spare demo device '{DemoCredentials.SpareDevice}' (Debian package mosquitto-clients):");
                Console.WriteLine("    " + SparePublishCommand(demo, broker));
            }

            Console.WriteLine("  Press Ctrl+C to stop.");
            Console.WriteLine();
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>A <c>mosquitto_pub</c> command that publishes one valid climate reading (seq and times from the shell's clock).</summary>
    public static string SparePublishCommand(DemoCredentials demo, BrokerEndpoint broker)
    {
        var device = DemoCredentials.SpareDevice;
        const string now = "$(date -u +%FT%T.000Z)";
        var payload = "{\\\"v\\\":1,\\\"seq\\\":$(date +%s),\\\"sent\\\":\\\"" + now + "\\\",\\\"readings\\\":[{\\\"ts\\\":\\\"" + now +
                      "\\\",\\\"sensor\\\":\\\"my-sensor\\\",\\\"kind\\\":\\\"climate\\\",\\\"values\\\":{\\\"temperature_c\\\":21.5}}]}";
        return $"mosquitto_pub -h {broker.Host} -p {broker.Port} -V mqttv5 -q 1 -i {device} -u {device} -P '{demo.PasswordOf(device)}' " +
               $"-t {NewTechPark.Edge.Contracts.Topics.ContractTopics.Readings(demo.Site, device)} -m \"{payload}\"";
    }
}
