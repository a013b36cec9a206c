using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Region;

namespace NewTechPark.Edge.Collector.Sinks;

public static class SinkServiceCollectionExtensions
{
    /// <summary>The durable sinks beside SQLite: InfluxDB when <c>Collector:Influx:Enabled</c>.</summary>
    public static IServiceCollection AddIngestSinks(this IServiceCollection services, CollectorOptions options)
    {
        services.AddSingleton<IValidateOptions<CollectorOptions>, InfluxOptionsValidator>();
        if (options.Influx.Enabled)
        {
            services.AddSingleton<InfluxSink>();
            services.AddSingleton<IIngestSink>(sp => sp.GetRequiredService<InfluxSink>());
            services.AddHostedService(sp => sp.GetRequiredService<InfluxSink>());
        }

        services.AddRegionFeed(options);

        return services;
    }
}
