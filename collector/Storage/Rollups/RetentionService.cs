using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Occupancy;
using NewTechPark.Edge.Collector.Visitors;

namespace NewTechPark.Edge.Collector.Storage.Rollups;

/// <summary>
/// Housekeeping on a timer: brings the room history up to date, freezes visitor aggregates and
/// purges raw badge scans past their retention, and deletes raw points and rollups past the
/// retention of their resolution (in slices, so the ingest is never held up for long).
/// </summary>
public sealed class RetentionService(
    SqliteStore store,
    OccupancyHistory history,
    VisitorsService visitors,
    IOptions<CollectorOptions> options,
    TimeProvider clock,
    ILogger<RetentionService> logger) : BackgroundService
{
    private readonly RetentionStore _db = new(store);

    /// <summary>One pass; also called by tests.</summary>
    public void RunOnce()
    {
        var retention = options.Value.Retention;
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        if (retention.Raw > TimeSpan.Zero)
        {
            // Whole hours, so a minute is either all kept or all gone.
            var cutoff = TimeBuckets.FloorTo(now - (long)retention.Raw.TotalMilliseconds, TimeBuckets.HourMs);
            store.Rollups.RawCutoffMs = cutoff;
            // Minutes are computed from the raw points while those are kept; where the minutes are
            // kept longer, the minutes of the raw points about to go are stored first.
            var minutesOutlastRaw = retention.Minute == TimeSpan.Zero || retention.Minute > retention.Raw;
            long? minutesFrom = !minutesOutlastRaw ? null : retention.Minute == TimeSpan.Zero ? long.MinValue : now - (long)retention.Minute.TotalMilliseconds;
            var deleted = _db.PurgePoints(cutoff, minutesFrom);
            if (deleted > 0)
            {
                logger.LogInformation("Retention: deleted {Count} raw point(s) older than {Cutoff:u}", deleted, DateTimeOffset.FromUnixTimeMilliseconds(cutoff));
            }
        }

        Level(Resolution.Minute, retention.Minute, now);
        Level(Resolution.Hour, retention.Hour, now);
        foreach (var resolution in new[] { Resolution.Day, Resolution.Month, Resolution.Year })
        {
            Level(resolution, retention.Day, now);
        }

        var scans = visitors.FreezeAndPurge();
        if (scans > 0)
        {
            logger.LogInformation("Retention: deleted {Count} badge scan(s) past {Retention}; their aggregates stay", scans, options.Value.Visitors.ScanRetention);
        }

        history.Update();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.Retention.Interval;
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(5), clock, stoppingToken).ConfigureAwait(false);
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    RunOnce();
                }
                catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or IOException or InvalidOperationException)
                {
                    logger.LogWarning(e, "Housekeeping failed, trying again in {Interval}", interval);
                }

                await Task.Delay(interval, clock, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private void Level(Resolution resolution, TimeSpan keep, long now)
    {
        if (keep > TimeSpan.Zero)
        {
            _db.PurgeRollups(resolution, now - (long)keep.TotalMilliseconds);
        }
    }
}
