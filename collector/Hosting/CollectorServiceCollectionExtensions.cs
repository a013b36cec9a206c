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
        // The owned sites; each gets its own container of site-scoped services (SiteServicesCatalog).
        services.AddSingleton(sp => SiteCatalogLoader.Load(sp.GetRequiredService<IOptions<CollectorOptions>>().Value));
        var siteScoped = new SiteScopedServices();
        siteScoped.Add(AddSiteServices);
        services.AddSingleton(siteScoped);
        services.AddSingleton(sp =>
        {
            // The root's registrations are complete by now (the host is built): the shared ones are forwarded to each site.
            siteScoped.Root = [.. services];
            return new SiteServicesCatalog(sp.GetRequiredService<SiteCatalog>(), sp, siteScoped);
        });

        services.AddSingleton<CollectorMetrics>();
        services.AddSingleton<LiveEventHub>();
        services.AddSingleton<StreamClients>();
        // One store for every owned site (keyed by site in every table); its rollups follow the sites' one time zone.
        services.AddSingleton(sp => new SqliteStore(sp.GetRequiredService<IOptions<CollectorOptions>>(), sp.GetRequiredService<ILogger<SqliteStore>>(), sp.GetRequiredService<SiteCatalog>().Default));
        services.AddSingleton<IValidateOptions<CollectorOptions>, ReportOptionsValidator>();
        services.AddSingleton<StoreQueries>();
        services.AddSingleton<NewTechPark.Edge.Collector.Instruments.BenchStatistics>();
        services.AddSingleton(sp => new OccupancyEngines(sp.GetRequiredService<SiteServicesCatalog>().Each<OccupancyEngine>()));
        services.AddSingleton<BrokerEndpoint>();
        services.AddSingleton<BrokerCredentials>();
        services.AddSingleton(sp => new BrokerAuthorization(sp.GetRequiredService<IOptions<CollectorOptions>>(), sp.GetRequiredService<SiteCatalog>()));
        services.AddSingleton<IngestPipeline>();
        services.AddSingleton(sp => new IngestIntake(sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<SiteCatalog>(), sp.GetRequiredService<IOptions<CollectorOptions>>()));
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
        // Every site's own hosted services (reports, retention, derived figures, Home Assistant, notifications), after the ingest client.
        services.AddHostedService<SiteHostedServices>();
        services.AddHostedService<StartupBanner>();
        services.AddProblemDetails();
        services.AddHttpSecurity();
        services.AddOpenApi(o => o.AddSiteParameter());
        services.AddCollectorHealth();
        services.AddCollectorNotifications(configuration);
        services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            json.SerializerOptions.DictionaryKeyPolicy = null;
        });
        services.AddSiteRefusals();
        return services;
    }

    /// <summary>
    /// The services each owned site gets in its own container, beside its <see cref="SiteModel"/>:
    /// the unchanged classes that take "the" site.
    /// </summary>
    public static void AddSiteServices(IServiceCollection site)
    {
        site.AddCollectorAnalytics();
        site.AddSingleton<OccupancyEngine>();
        site.AddSingleton<PowerCurveService>();
        site.AddSingleton<Kiosk.LabComparisonService>();
        site.AddSingleton<ExperimentSessions>();
        site.AddSingleton<NewTechPark.Edge.Collector.Instruments.SeriesExports>();
        site.AddSingleton<RoomWeeks>();
        site.AddSiteHomeAssistant();
        site.AddSiteNotifications();
    }

    /// <summary>
    /// A site-scoped type asked of the root container is refused by name: the root has no "the"
    /// site. Registered so minimal APIs know these are services; a request gets them from its
    /// site's container (<see cref="SiteRequestServices"/>). Call again after a host adds site-scoped services.
    /// </summary>
    public static IServiceCollection AddSiteRefusals(this IServiceCollection services)
    {
        var siteScoped = (SiteScopedServices)services.Last(d => d.ServiceType == typeof(SiteScopedServices)).ImplementationInstance!;
        foreach (var type in siteScoped.Types())
        {
            // Classes only: an interface a site adds to (IIngestClientCompanion) is gathered from every site by its user.
            if (!type.IsInterface && !services.Any(d => d.ServiceType == type))
            {
                services.AddSingleton(type, _ => throw new InvalidOperationException($"{type.Name} belongs to a site: take it from the site's services (SiteServicesCatalog), not from the collector's root"));
            }
        }

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

    /// <summary>The default site (the first of <c>Collector:Sites</c>, or <c>Collector:SiteFile</c>); a relative path is looked up in the working folder, then beside the program.</summary>
    public static SiteModel LoadSite(CollectorOptions options) => SiteCatalogLoader.Load(options).Default;
}
