using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Energy;
using NewTechPark.Edge.Collector.Occupancy;
using NewTechPark.Edge.Collector.Storage.Rollups;
using NewTechPark.Edge.Collector.Visitors;

namespace NewTechPark.Edge.Collector.Reports;

public static class AnalyticsServiceCollectionExtensions
{
    /// <summary>Occupancy history and corrections, energy, visitors, the yearly report and housekeeping, with their settings checked at start.</summary>
    public static IServiceCollection AddCollectorAnalytics(this IServiceCollection services)
    {
        services.AddOptions<CollectorOptions>()
            .Validate(o => o.Retention.Raw == TimeSpan.Zero || o.Retention.Raw >= TimeSpan.FromDays(1), "Collector:Retention:Raw must be at least 1.00:00:00 (or 00:00:00 to keep raw points for ever)")
            .Validate(o => o.Retention.Minute == TimeSpan.Zero || o.Retention.Minute >= TimeSpan.FromDays(400), "Collector:Retention:Minute must be at least 400.00:00:00 (the contract accepts readings up to 400 days late) or 00:00:00")
            .Validate(o => o.Retention.Hour == TimeSpan.Zero || o.Retention.Hour >= TimeSpan.FromDays(400), "Collector:Retention:Hour must be at least 400.00:00:00 or 00:00:00")
            .Validate(o => o.Retention.Day == TimeSpan.Zero || o.Retention.Day >= TimeSpan.FromDays(400), "Collector:Retention:Day must be at least 400.00:00:00 or 00:00:00")
            .Validate(o => o.Retention.Interval >= TimeSpan.FromSeconds(10), "Collector:Retention:Interval must be at least 00:00:10")
            .Validate(o => o.Visitors.FreezeAfter >= TimeSpan.Zero && o.Visitors.ScanRetention >= o.Visitors.FreezeAfter + TimeSpan.FromDays(367),
                "Collector:Visitors:ScanRetention must be at least a year and a day longer than FreezeAfter, so every year is complete before its first scans go (default 400 days)")
            .Validate(o => o.Visitors.MinimumCount is >= 1 and <= 100, "Collector:Visitors:MinimumCount must be between 1 and 100")
            .Validate(o => o.Energy.Co2KgPerKwh is >= 0 and <= 5, "Collector:Energy:Co2KgPerKwh must be between 0 and 5")
            .Validate(o => o.Report.RoomInUseMinShareOfOpenDays is >= 0 and <= 1, "Collector:Report:RoomInUseMinShareOfOpenDays must be between 0 and 1")
            .Validate(o => o.Occupancy.MaxDoorGap >= 1, "Collector:Occupancy:MaxDoorGap must be at least 1");
        services.AddSingleton<OccupancyCorrections>();
        services.AddSingleton<OccupancyHistory>();
        services.AddSingleton<EnergyService>();
        services.AddSingleton<GroupVisits>();
        services.AddSingleton<VisitorsService>();
        services.AddSingleton<AnnualReportService>();
        services.AddSingleton<RetentionService>();
        services.AddHostedService(sp => sp.GetRequiredService<RetentionService>());
        return services;
    }
}
