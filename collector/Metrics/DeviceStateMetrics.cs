using NewTechPark.Edge.Collector.Api;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Storage;

namespace NewTechPark.Edge.Collector.Metrics;

/// <summary>
/// The devices' state on <c>/metrics</c>, worked out at scrape time the way <c>/api/v1/devices</c>
/// does (a device silent past <see cref="DevicesApi.OfflineAfter"/> is offline):
/// <c>ntp_devices{state}</c> counts the site's devices per state (online, offline, never-seen;
/// every state is written, 0 included, so a panel shows 0 rather than nothing) and
/// <c>ntp_device_online{device}</c> is 1 or 0 per device. Also registers the process's own
/// figures (memory, CPU, threads, garbage collections) in the collector's registry.
/// </summary>
public sealed class DeviceStateMetrics : IHostedService
{
    private static readonly string[] States = ["online", "offline", "never-seen"];

    public DeviceStateMetrics(CollectorMetrics metrics, SiteCatalog site, StoreQueries queries, TimeProvider clock, ILogger<DeviceStateMetrics> logger)
    {
        var factory = Prometheus.Metrics.WithCustomRegistry(metrics.Registry);
        var devices = factory.CreateGauge("ntp_devices", "The site's devices per state (online, offline, never-seen), as /api/v1/devices shows them.", "state");
        var online = factory.CreateGauge("ntp_device_online", "1 while the device is online, 0 when it is offline or was never seen.", "device");
        metrics.Registry.AddBeforeCollectCallback(() =>
        {
            try
            {
                // Several sites: devices named <device>@<site>, as their logins.
                var list = Health.DevicesOfflineCheck.DevicesOfSites(site, queries, clock.GetUtcNow());
                foreach (var state in States.Union(list.Select(d => d.State), StringComparer.Ordinal))
                {
                    devices.WithLabels(state).Set(list.Count(d => d.State == state));
                }

                foreach (var device in list)
                {
                    online.WithLabels(device.Device).Set(device.State == "online" ? 1 : 0);
                }
            }
            catch (Microsoft.Data.Sqlite.SqliteException e)
            {
                logger.LogDebug(e, "Device state metrics not read");
            }
        });
        Prometheus.DotNetStats.Register(metrics.Registry);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
