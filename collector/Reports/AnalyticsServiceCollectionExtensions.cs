using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Energy;
using NewTechPark.Edge.Collector.Occupancy;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Storage.Rollups;
using NewTechPark.Edge.Collector.Visitors;

namespace NewTechPark.Edge.Collector.Reports;

public static class AnalyticsServiceCollectionExtensions
{
    /// <summary>Occupancy history and corrections, energy, visitors, the yearly and monthly reports and their targets, housekeeping and the upkeep of derived figures (their settings are checked by <see cref="CollectorOptionsValidator"/>).</summary>
    public static IServiceCollection AddCollectorAnalytics(this IServiceCollection services)
    {
        services.AddSingleton<OccupancyCorrections>();
        services.AddSingleton<OccupancyHistory>();
        services.AddSingleton<EnergyService>();
        services.AddSingleton<GroupVisits>();
        services.AddSingleton<VisitorsService>();
        services.AddSingleton(sp => SiteTargets.Load(sp.GetRequiredService<SiteEntry>(), sp.GetRequiredService<SiteCatalog>(), sp.GetRequiredService<IOptions<CollectorOptions>>().Value));
        services.AddSingleton<AnnualReportService>();
        services.AddSingleton<MonthlyReportWriter>();
        services.AddHostedService<MonthlyReportSchedule>();
        services.AddSingleton<RetentionService>();
        services.AddHostedService(sp => sp.GetRequiredService<RetentionService>());
        services.AddHostedService<DerivedFiguresService>();
        return services;
    }
}
