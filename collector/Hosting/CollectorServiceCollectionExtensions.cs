using System.Text.Json;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Broker;
using NewTechPark.Edge.Collector.Broker.Security;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Demo;
using NewTechPark.Edge.Collector.Ingest;
using NewTechPark.Edge.Collector.Live;
using NewTechPark.Edge.Collector.Metrics;
using NewTechPark.Edge.Collector.Occupancy;
using NewTechPark.Edge.Collector.Reports;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Sinks;
using NewTechPark.Edge.Collector.Storage;

namespace NewTechPark.Edge.Collector.Hosting;

public static class CollectorServiceCollectionExtensions
{
    /// <summary>
    /// The collector's services, in start order: the embedded broker (unless turned off), the
    /// ingest pipeline and its MQTT client, and the demo when asked for.
    /// </summary>
    public static IServiceCollection AddCollector(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<CollectorOptions>()
            .Bind(configuration.GetSection(CollectorOptions.Section))
            .ValidateDataAnnotations()
            .Validate(o => System.Net.IPAddress.TryParse(o.Broker.BindAddress, out _), "Collector:Broker:BindAddress must be an IP address, such as 127.0.0.1")
            .Validate(o => !o.Broker.Tls.Enabled || System.Net.IPAddress.TryParse(o.Broker.Tls.BindAddress, out _), "Collector:Broker:Tls:BindAddress must be an IP address, such as 0.0.0.0")
            .Validate(o => !o.Broker.Tls.Enabled || (o.Broker.Tls.Port is > 0 and <= 65535 && o.Broker.Tls.Port != o.Broker.Port), "Collector:Broker:Tls:Port must be a port (1-65535) other than Collector:Broker:Port")
            .Validate(o => o.Broker.Readers.All(BrokerCredentials.IsValidUserName), "Collector:Broker:Readers must be user names matching " + NewTechPark.Edge.Contracts.Identifiers.SlugPattern)
            .Validate(o => o.Occupancy.DailyReset >= TimeSpan.Zero && o.Occupancy.DailyReset < TimeSpan.FromDays(1), "Collector:Occupancy:DailyReset must be a time of day, such as 04:00:00")
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<CollectorOptions>, TrustOptionsValidator>();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(sp => LoadSite(sp.GetRequiredService<IOptions<CollectorOptions>>().Value));

        services.AddSingleton<CollectorMetrics>();
        services.AddSingleton<LiveEventHub>();
        services.AddSingleton(sp => new SqliteStore(sp.GetRequiredService<IOptions<CollectorOptions>>(), sp.GetRequiredService<ILogger<SqliteStore>>(), sp.GetRequiredService<SiteModel>()));
        services.AddCollectorAnalytics();
        services.AddSingleton<StoreQueries>();
        services.AddSingleton<ExperimentSessions>();
        services.AddSingleton<OccupancyEngine>();
        services.AddSingleton<BrokerEndpoint>();
        services.AddSingleton<BrokerCredentials>();
        services.AddSingleton<BrokerAuthorization>();
        services.AddSingleton<IngestPipeline>();
        services.AddSingleton<IngestIntake>();
        services.AddSingleton<IngestClient>();

        var options = configuration.GetSection(CollectorOptions.Section).Get<CollectorOptions>() ?? new CollectorOptions();
        if (options.Broker.Embedded)
        {
            services.AddSingleton<EmbeddedBroker>();
            services.AddHostedService(sp => sp.GetRequiredService<EmbeddedBroker>());
        }

        services.AddIngestSinks(options);
        services.AddHostedService<DeliveryMetrics>();
        services.AddHostedService(sp => sp.GetRequiredService<IngestPipeline>());
        services.AddHostedService(sp => sp.GetRequiredService<IngestClient>());
        if (options.Demo.Enabled)
        {
            services.AddSingleton<DemoCredentials>();
            services.AddSingleton<DemoRunner>();
            services.AddHostedService(sp => sp.GetRequiredService<DemoRunner>());
        }

        services.AddHostedService<StartupBanner>();
        services.AddProblemDetails();
        services.AddHttpSecurity();
        services.AddOpenApi();
        services.AddHealthChecks().AddCheck<CollectorHealthCheck>("collector");
        services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            json.SerializerOptions.DictionaryKeyPolicy = null;
        });
        return services;
    }

    /// <summary>Loads the site file; a relative path is looked up in the working folder, then beside the program.</summary>
    public static SiteModel LoadSite(CollectorOptions options)
    {
        var path = options.SiteFile;
        if (!Path.IsPathRooted(path) && !File.Exists(path))
        {
            path = Path.Combine(AppContext.BaseDirectory, path);
        }

        return SiteLoader.Load(path);
    }
}
