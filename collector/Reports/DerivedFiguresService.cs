using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Occupancy;
using NewTechPark.Edge.Collector.Visitors;

namespace NewTechPark.Edge.Collector.Reports;

/// <summary>
/// Keeps the derived figures of page loads up to date as data arrives: every
/// <see cref="OccupancyOptions.HistoryInterval"/> (and once at start) it rebuilds the room history
/// of the days marked changed, days not built yet and the current day when it changed or is 30 s old, and the visitor days of
/// days with new badge scans (and, once after a start, loads them into memory). A page load then finds nothing, or only the last seconds, to rebuild.
/// </summary>
public sealed class DerivedFiguresService(OccupancyHistory history, VisitorsService visitors, IOptions<CollectorOptions> options, TimeProvider clock, ILogger<DerivedFiguresService> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.Occupancy.HistoryInterval;
        try
        {
            // Off the start-up path: the host and the broker come up first.
            await Task.Yield();
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    var days = history.Follow();
                    visitors.Follow();
                    if (days > 1)
                    {
                        logger.LogDebug("Room history: rebuilt {Days} day(s)", days);
                    }
                }
                catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or IOException or InvalidOperationException)
                {
                    logger.LogWarning(e, "Bringing the room history and visitor days up to date failed, trying again in {Interval}", interval);
                }

                await Task.Delay(interval, clock, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
