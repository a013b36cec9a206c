using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Energy;
using NewTechPark.Edge.Collector.Metrics;
using NewTechPark.Edge.Collector.Occupancy;
using NewTechPark.Edge.Collector.Sinks;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Collector.Visitors;
using Prometheus;

namespace NewTechPark.Edge.Collector.Region;

/// <summary>
/// Runs a <see cref="RegionFeed"/> for each of the collector's sites every <see cref="RegionOptions.Interval"/>
/// (on when <c>Collector:Region:Enabled</c> and the line-protocol sink is on). Each feed takes its
/// site's services from that site's container.
/// </summary>
public sealed class RegionFeedService : BackgroundService
{
    private readonly IReadOnlyList<RegionFeed> _feeds;
    private readonly RegionOptions _options;
    private readonly TimeProvider _clock;
    private readonly ILogger<RegionFeedService> _logger;
    private readonly Counter _points;
    private readonly Counter _failures;

    public RegionFeedService(IOptions<CollectorOptions> options, InfluxSink sink, SiteServicesCatalog sites, StoreQueries queries,
        CollectorMetrics metrics, TimeProvider clock, ILogger<RegionFeedService> logger)
    {
        _options = options.Value.Region;
        _clock = clock;
        _logger = logger;
        // One feed per owned site, on that site's own services (what its pages show).
        _feeds = [.. sites.All.Select(s => new RegionFeed(s.Site, s.GetRequiredService<OccupancyEngine>(), s.GetRequiredService<VisitorsService>(),
            s.GetRequiredService<EnergyService>(), queries, sink.Queue, _options, logger))];
        var factory = Prometheus.Metrics.WithCustomRegistry(metrics.Registry);
        _points = factory.CreateCounter("ntp_region_points_total", "Derived region figures (points) queued for the line-protocol sink.", "site");
        _failures = factory.CreateCounter("ntp_region_failures_total", "Region feed rounds that failed and will be tried again.", "site");
    }

    public IReadOnlyList<RegionFeed> Feeds => _feeds;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _logger.LogInformation("Region feed on for site(s) {Sites}: minute figures live, hours and days {Settle} after they end, catching up at most {CatchUp}",
            string.Join(", ", _feeds.Select(f => f.Site)), _options.SettleDelay, _options.CatchUp);
        try
        {
            await Task.Yield();
            while (!stoppingToken.IsCancellationRequested)
            {
                foreach (var feed in _feeds)
                {
                    try
                    {
                        _points.WithLabels(feed.Site).Inc(feed.Tick(_clock.GetUtcNow()));
                    }
                    catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or IOException or InvalidOperationException)
                    {
                        // Nothing was half done: points and watermark commit together. The next round tries again.
                        _failures.WithLabels(feed.Site).Inc();
                        _logger.LogWarning(e, "Region feed of site {Site} failed, trying again in {Interval}", feed.Site, _options.Interval);
                    }
                }

                await Task.Delay(_options.Interval, _clock, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
