using NewTechPark.Edge.Collector.Metrics;
using NewTechPark.Edge.Collector.Storage;

namespace NewTechPark.Edge.Collector.Ingest;

/// <summary>
/// Per-device delivery gauges on <c>/metrics</c>, read from the store when Prometheus scrapes:
/// the outbox backlog and drops each device reports, and the batches missing from its sequence.
/// </summary>
public sealed class DeliveryMetrics : IHostedService
{
    public DeliveryMetrics(CollectorMetrics metrics, SqliteStore store, ILogger<DeliveryMetrics> logger)
    {
        var factory = Prometheus.Metrics.WithCustomRegistry(metrics.Registry);
        var pending = factory.CreateGauge("ntp_device_outbox_pending_readings", "Readings waiting in the device's outbox, as it last reported.", "site", "device");
        var dropped = factory.CreateGauge("ntp_device_outbox_dropped_readings", "Readings the device dropped because its outbox passed its bounds (over its life), as it last reported.", "site", "device");
        var missing = factory.CreateGauge("ntp_device_missing_batches", "Sequence numbers never received from the device since its first batch seen.", "site", "device");
        var queries = new StoreQueries(store);
        metrics.Registry.AddBeforeCollectCallback(() =>
        {
            try
            {
                var backlog = queries.Devices().ToDictionary(d => (d.Site, d.Device), d => d.OutboxPending);
                foreach (var device in DeliveryLedger.Read(store))
                {
                    pending.WithLabels(device.Site, device.Device).Set(backlog.GetValueOrDefault((device.Site, device.Device)) ?? 0);
                    dropped.WithLabels(device.Site, device.Device).Set(device.OutboxDropped ?? 0);
                    missing.WithLabels(device.Site, device.Device).Set(device.MissingBatches);
                }
            }
            catch (Microsoft.Data.Sqlite.SqliteException e)
            {
                logger.LogDebug(e, "Delivery metrics not read");
            }
        });
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
