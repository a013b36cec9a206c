using System.Text.Json;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Broker;
using NewTechPark.Edge.Collector.Broker.Security;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Energy;
using NewTechPark.Edge.Collector.Health;
using NewTechPark.Edge.Collector.HomeAssistant;
using NewTechPark.Edge.Collector.Ingest;
using NewTechPark.Edge.Collector.Live;
using NewTechPark.Edge.Collector.Metrics;
using NewTechPark.Edge.Collector.Notifications;
using NewTechPark.Edge.Collector.Occupancy;
using NewTechPark.Edge.Collector.Reports;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Sinks;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Contracts.Configuration;

namespace NewTechPark.Edge.Collector.Hosting;

public static class CollectorServiceCollectionExtensions
{
    /// <summary>
    /// The collector's services, in start order: the embedded broker (unless turned off), the
    /// ingest pipeline and its MQTT client. A host that adds its own services (the demo) does so
    /// through <see cref="CollectorHost.Build"/>'s configure callback.
    /// </summary>
    public static IServiceCollection AddCollector(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<CollectorOptions>()
            .Bind(configuration.GetSection(CollectorOptions.Section))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<CollectorOptions>>(new NamedSettingsValidator<CollectorOptions, CollectorOptionsAttributeValidator>(CollectorOptions.Section));
        services.AddSingleton<IValidateOptions<CollectorOptions>, CollectorOptionsValidator>();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(sp => LoadSite(sp.GetRequiredService<IOptions<CollectorOptions>>().Value));

        services.AddSingleton<CollectorMetrics>();
        services.AddSingleton<LiveEventHub>();
        services.AddSingleton<StreamClients>();
        services.AddSingleton(sp => new SqliteStore(sp.GetRequiredService<IOptions<CollectorOptions>>(), sp.GetRequiredService<ILogger<SqliteStore>>(), sp.GetRequiredService<SiteModel>()));
        services.AddCollectorAnalytics();
        services.AddSingleton<PowerCurveService>();
        services.AddSingleton<Kiosk.LabComparisonService>();
        services.AddSingleton<StoreQueries>();
        services.AddSingleton<ExperimentSessions>();
        services.AddSingleton<NewTechPark.Edge.Collector.Instruments.BenchStatistics>();
        services.AddSingleton<NewTechPark.Edge.Collector.Instruments.SeriesExports>();
        services.AddSingleton<OccupancyEngine>();
        services.AddSingleton<BrokerEndpoint>();
        services.AddSingleton<BrokerCredentials>();
        services.AddSingleton<BrokerAuthorization>();
        services.AddSingleton<IngestPipeline>();
        services.AddSingleton<IngestIntake>();
        services.AddSingleton<IngestClient>();

        var options = BindOrExplain(configuration);
        if (options.Broker.Embedded)
        {
            services.AddSingleton<EmbeddedBroker>();
            services.AddHostedService(sp => sp.GetRequiredService<EmbeddedBroker>());
            services.AddSingleton<PasswordFileReload>();
            services.AddHostedService(sp => sp.GetRequiredService<PasswordFileReload>());
        }

        services.AddIngestSinks(options);
        services.AddHostedService<DeliveryMetrics>();
        services.AddHostedService<DeviceStateMetrics>();
        services.AddHostedService(sp => sp.GetRequiredService<IngestPipeline>());
        services.AddHostedService(sp => sp.GetRequiredService<IngestClient>());
        services.AddHomeAssistant();
        services.AddHostedService<StartupBanner>();
        services.AddProblemDetails();
        services.AddHttpSecurity();
        services.AddOpenApi();
        services.AddCollectorHealth();
        services.AddCollectorNotifications(configuration);
        services.AddSingleton<RoomWeeks>();
        services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            json.SerializerOptions.DictionaryKeyPolicy = null;
        });
        return services;
    }

    /// <summary>
    /// Binds the settings once to decide which services to add; a value of the wrong type
    /// (<c>Port=abc</c>, an unknown enum name) becomes a named refusal instead of the binder's exception.
    /// </summary>
    public static CollectorOptions BindOrExplain(IConfiguration configuration)
    {
        try
        {
            return configuration.GetSection(CollectorOptions.Section).Get<CollectorOptions>() ?? new CollectorOptions();
        }
        catch (InvalidOperationException e) when (BindingError.Explain(e) is { } problem)
        {
            throw new OptionsValidationException(CollectorOptions.Section, typeof(CollectorOptions), [problem]);
        }
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
