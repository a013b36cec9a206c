using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;

namespace NewTechPark.Edge.Collector.Region;

public static class RegionServiceCollectionExtensions
{
    /// <summary>The region feed when <c>Collector:Region:Enabled</c> and the line-protocol sink is on (the validator refuses the one without the other).</summary>
    public static IServiceCollection AddRegionFeed(this IServiceCollection services, CollectorOptions options)
    {
        services.AddSingleton<IValidateOptions<CollectorOptions>, RegionOptionsValidator>();
        if (options.Region.Enabled && options.Influx.Enabled)
        {
            services.AddHostedService<RegionFeedService>();
        }

        return services;
    }
}
