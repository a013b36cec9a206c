using NewTechPark.Edge.Contracts.Configuration;
using System.Net;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Broker;
using NewTechPark.Edge.Collector.Hosting;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Demo.History;

namespace NewTechPark.Edge.Demo;

/// <summary>Builds the demo: the collector, plus the simulated site and its banner lines.</summary>
public static class DemoHost
{
    /// <summary>
    /// The collector as <see cref="CollectorHost.Build"/> makes it, with the demo's services
    /// added through its configure hook. When the embedded broker's port is taken (a system
    /// Mosquitto on 1883, say) the demo takes a free one, so the one command always runs.
    /// </summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var app = CollectorHost.Build(WithHomeAssistant(WithExampleTargets(WithFreeBrokerPort(WithOptionSpellings(args)))), builder =>
        {
            builder.Services.AddDemo(builder.Configuration);
            configure?.Invoke(builder);
        });
        // Before anything opens the store: whether it exists is what "first start" means.
        app.Services.GetRequiredService<HistoryStart>().Decide();
        return app;
    }

    /// <summary><c>--no-history</c> is <c>--Demo:History=false</c>.</summary>
    private static string[] WithOptionSpellings(string[] args) =>
        [.. args.Select(a => a == "--no-history" ? $"--{DemoOptions.Section}:{nameof(DemoOptions.History)}=false" : a)];

    /// <summary>The simulated site: credentials for every device, a token per role, the simulated agents and their scenario, the banner lines.</summary>
    public static IServiceCollection AddDemo(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DemoOptions>().Bind(configuration.GetSection(DemoOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<DemoOptions>>(new NamedSettingsValidator<DemoOptions, DemoOptionsAttributeValidator>(DemoOptions.Section));
        // The demo simulates the default site: its services are given that site and its site-scoped services.
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<DemoCredentials>(sp, DefaultSite(sp)));
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<HistoryStart>(sp, DefaultSite(sp)));
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<HistoryFiller>(sp, DefaultSite(sp), sp.GetRequiredService<SiteServicesCatalog>().Default.GetRequiredService<NewTechPark.Edge.Collector.Visitors.GroupVisits>()));
        // Registered before the runner: hosted services start in order, so the agents go live after the fill.
        services.AddHostedService(sp => sp.GetRequiredService<HistoryFiller>());
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<DemoRunner>(sp, DefaultSite(sp)));
        services.AddHostedService(sp => sp.GetRequiredService<DemoRunner>());
        services.AddSingleton<IStartupBannerSection, DemoBanner>();
        services.AddDemoTokens();
        services.AddDemoHomeAssistant();
        return services;
    }

    private static SiteModel DefaultSite(IServiceProvider services) => services.GetRequiredService<SiteCatalog>().Default;

    /// <summary>
    /// The centre's own targets file stops at 2024, so the demo's year would show "–" beside every
    /// row; unless a targets file is set, the demo reads its example targets (marked as such in the
    /// file's source, which the report and the pages show).
    /// </summary>
    private static string[] WithExampleTargets(string[] args) =>
        string.IsNullOrEmpty(SettingsOf(args)["Collector:Report:TargetsFile"])
            ? [.. args, $"--Collector:Report:TargetsFile={Path.Combine(AppContext.BaseDirectory, "targets.example.json")}"]
            : args;

    /// <summary>The demo shows Home Assistant discovery unless told otherwise (<c>--Collector:HomeAssistant:Enabled=false</c>).</summary>
    private static string[] WithHomeAssistant(string[] args) => DemoHomeAssistant.WithDiscoveryOn(args, SettingsOf(args));

    private static IConfiguration SettingsOf(string[] args) =>
        new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddEnvironmentVariables("NTP_")
            .AddCommandLine(args)
            .Build();

    private static string[] WithFreeBrokerPort(string[] args)
    {
        var configuration = SettingsOf(args);
        var embedded = configuration.GetValue("Collector:Broker:Embedded", true);
        var port = configuration.GetValue("Collector:Broker:Port", 1883);
        var bind = IPAddress.TryParse(configuration["Collector:Broker:BindAddress"], out var address) ? address : IPAddress.Loopback;
        return embedded && port != 0 && !BrokerEndpoint.IsFree(bind, port) ? [.. args, "--Collector:Broker:Port=0"] : args;
    }
}
