using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Broker;
using NewTechPark.Edge.Collector.Configuration;

namespace NewTechPark.Edge.Collector.Hosting;

/// <summary>
/// More for the start banner from a host built around the collector (the demo): a note after the
/// title and lines before "Press Ctrl+C", so the collector need not know who adds them.
/// </summary>
public interface IStartupBannerSection
{
    /// <summary>Shown after "NewTechPark.Edge collector", such as "(demo: simulated site)".</summary>
    string? Title { get; }

    /// <summary>Lines printed as they are (indent included), asked for once the broker and HTTP listen.</summary>
    IEnumerable<string> Lines();
}

/// <summary>Prints where the dashboard and the broker are, once both are listening.</summary>
public sealed class StartupBanner(IHostApplicationLifetime lifetime, IServer server, BrokerEndpoint broker, IOptions<CollectorOptions> options, IEnumerable<IStartupBannerSection> sections) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(() =>
        {
            var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            var dashboard = addresses.Select(a => a.Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal).Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("localhost", "127.0.0.1", StringComparison.Ordinal))
                .FirstOrDefault() ?? "(no HTTP address)";
            var titles = string.Concat(sections.Select(s => s.Title).Where(t => !string.IsNullOrEmpty(t)).Select(t => " " + t));
            Console.WriteLine();
            Console.WriteLine($"  NewTechPark.Edge collector{titles}");
            Console.WriteLine($"  Dashboard: {dashboard.TrimEnd('/')}/");
            Console.WriteLine($"  Broker:    {broker.Address}{(options.Value.Broker.Embedded ? " (embedded)" : " (outside)")}");
            foreach (var line in sections.SelectMany(s => s.Lines()))
            {
                Console.WriteLine(line);
            }

            Console.WriteLine("  Press Ctrl+C to stop.");
            Console.WriteLine();
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
