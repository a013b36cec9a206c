using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Ingest;

namespace NewTechPark.Edge.Collector.HomeAssistant;

public static class HomeAssistantServiceCollectionExtensions
{
    /// <summary>
    /// Home Assistant discovery: its settings' rules, and the publisher, always added (it does
    /// nothing unless <c>Collector:HomeAssistant:Enabled</c>, so a host such as the demo can turn
    /// it on through configuration). Added after the ingest client: it starts once the broker and
    /// ingest run, and stops first, so it can still say "offline".
    /// </summary>
    public static IServiceCollection AddHomeAssistant(this IServiceCollection services)
    {
        services.AddSingleton<IValidateOptions<CollectorOptions>, HomeAssistantOptionsValidator>();
        return services;
    }

    /// <summary>A site's publisher (node id <c>ntp-&lt;site&gt;</c>), in the site's own container; the ingest client asks every site for its companions.</summary>
    public static IServiceCollection AddSiteHomeAssistant(this IServiceCollection site)
    {
        site.AddSingleton<HomeAssistantPublisher>();
        site.AddSingleton<IIngestClientCompanion>(sp => sp.GetRequiredService<HomeAssistantPublisher>());
        site.AddHostedService(sp => sp.GetRequiredService<HomeAssistantPublisher>());
        return site;
    }
}
