using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;

namespace NewTechPark.Edge.Collector.Notifications;

public static class NotificationsServiceCollectionExtensions
{
    /// <summary>Webhook notifications (<c>Collector:Notifications</c>): the settings' rules, the metrics and the monitor.</summary>
    public static IServiceCollection AddCollectorNotifications(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<IValidateOptions<CollectorOptions>>(new NotificationsOptionsValidator(configuration));
        services.AddSingleton<NotificationMetrics>();
        return services;
    }

    /// <summary>A site's monitor (capacity, devices offline), in the site's own container.</summary>
    public static IServiceCollection AddSiteNotifications(this IServiceCollection site)
    {
        site.AddSingleton<NotificationMonitor>();
        site.AddHostedService(sp => sp.GetRequiredService<NotificationMonitor>());
        return site;
    }
}
