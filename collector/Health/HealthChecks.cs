using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Microsoft.Data.Sqlite;
using NewTechPark.Edge.Collector.Api;
using NewTechPark.Edge.Collector.Broker;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Ingest;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Sinks;
using NewTechPark.Edge.Collector.Storage;

namespace NewTechPark.Edge.Collector.Health;

/// <summary>The store takes a write: a probe row committed and removed through <see cref="StoreProbe"/>.</summary>
public sealed class StoreWritableCheck(StoreProbe probe, SqliteStore store, IOptions<CollectorOptions> options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object> { ["file"] = store.FilePath };
        var started = TimeProvider.System.GetTimestamp();
        try
        {
            // SQLite blocks while it waits for the write lock: off the request thread.
            if (!await Task.Run(() => probe.WriteUnlessRecent(options.Value.Health.StoreWriteTimeout), cancellationToken).ConfigureAwait(false))
            {
                return HealthCheckResult.Healthy($"a probe write committed within the last {probe.ReuseSuccessFor.TotalSeconds:0} s", data);
            }
        }
        catch (Exception e) when (e is SqliteException or IOException or UnauthorizedAccessException)
        {
            return HealthCheckResult.Unhealthy($"the store cannot take a write: {e.Message}", data: data);
        }

        data["write_ms"] = Math.Round(TimeProvider.System.GetElapsedTime(started).TotalMilliseconds, 1);
        return HealthCheckResult.Healthy("a probe write committed", data);
    }
}

/// <summary>Free space of the data directory's disk: degraded under a share of the disk, unhealthy under a byte floor.</summary>
public sealed class DiskSpaceCheck(IFreeSpaceProvider disks, IOptions<CollectorOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var folder = options.Value.DataDirectory;
        var health = options.Value.Health;
        DiskSpace space;
        try
        {
            space = disks.Of(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy($"cannot read the free space of '{folder}': {e.Message}"));
        }

        var data = new Dictionary<string, object>
        {
            ["folder"] = folder,
            ["free_bytes"] = space.FreeBytes,
            ["total_bytes"] = space.TotalBytes,
            ["free_percent"] = Math.Round(space.FreePercent, 2),
            ["degraded_below_percent"] = health.DiskDegradedPercent,
            ["unhealthy_below_bytes"] = health.DiskUnhealthyBytes,
        };
        var text = $"{space.FreeBytes / (1 << 20)} MiB free of {space.TotalBytes / (1 << 20)} MiB ({space.FreePercent:0.#} %)";
        return Task.FromResult(
            space.FreeBytes < health.DiskUnhealthyBytes ? HealthCheckResult.Unhealthy($"{text}: under {health.DiskUnhealthyBytes / (1 << 20)} MiB, commits may fail", data: data)
            : space.FreePercent < health.DiskDegradedPercent ? HealthCheckResult.Degraded($"{text}: under {health.DiskDegradedPercent} %", data: data)
            : HealthCheckResult.Healthy(text, data));
    }
}

/// <summary>The broker: the embedded one listens, or the ingest is connected to the outside one.</summary>
public sealed class BrokerCheck(IngestClient ingest, IOptions<CollectorOptions> options, IServiceProvider services) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var broker = options.Value.Broker;
        var up = broker.Embedded ? services.GetService<EmbeddedBroker>()?.Server is { IsStarted: true } : ingest.IsConnected;
        return Task.FromResult(Evaluate(broker, up));
    }

    /// <param name="up">Embedded: the broker is listening; outside: the ingest client is connected.</param>
    public static HealthCheckResult Evaluate(EmbeddedBrokerOptions broker, bool up)
    {
        if (broker.Embedded)
        {
            var data = new Dictionary<string, object> { ["embedded"] = true, ["bind_address"] = broker.BindAddress };
            return up
                ? HealthCheckResult.Healthy("the embedded broker is listening", data)
                : HealthCheckResult.Unhealthy("the embedded broker is not listening: devices cannot deliver", data: data);
        }

        var outside = new Dictionary<string, object> { ["embedded"] = false, ["host"] = broker.Host, ["port"] = broker.Port };
        return up
            ? HealthCheckResult.Healthy($"the ingest is connected to {broker.Host}:{broker.Port}", outside)
            : HealthCheckResult.Unhealthy($"the ingest is not connected to {broker.Host}:{broker.Port}: nothing is stored", data: outside);
    }
}

/// <summary>
/// Messages handed to the ingest pipeline and not committed yet: degraded past
/// <c>Health:IngestQueueDegraded</c> messages, at 90 % of a bound, while QoS 1 publishers wait for
/// room, and for a while after QoS 0 messages were dropped.
/// </summary>
public sealed class IngestQueueCheck(IngestPipeline pipeline, IOptions<CollectorOptions> options, TimeProvider clock) : IHealthCheck
{
    /// <summary>Share of a bound at which the queue counts as nearly full.</summary>
    public const double NearlyFull = 0.9;

    /// <summary>How long after the last dropped QoS 0 message the check stays degraded, so a poller sees it.</summary>
    public static readonly TimeSpan DropsShownFor = TimeSpan.FromSeconds(30);

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(Evaluate(pipeline.State(), options.Value.Health.IngestQueueDegraded, clock.GetUtcNow()));

    public static HealthCheckResult Evaluate(IngestQueueState queue, int limit, DateTimeOffset now)
    {
        var data = new Dictionary<string, object>
        {
            ["queued"] = queue.Messages,
            ["queued_bytes"] = queue.Bytes,
            ["max_messages"] = queue.MaxMessages,
            ["max_bytes"] = queue.MaxBytes,
            ["committed"] = queue.Committed,
            ["dropped"] = queue.Dropped,
            ["waiting_publishers"] = queue.Waiting,
            ["degraded_above"] = limit,
        };
        if (queue.LastDrop is { } last)
        {
            data["last_drop"] = last.ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        }

        var text = $"{queue.Messages} messages ({queue.Bytes} bytes) wait to be committed";
        var full = queue.Messages >= NearlyFull * queue.MaxMessages || queue.Bytes >= NearlyFull * queue.MaxBytes;
        return full ? HealthCheckResult.Degraded($"{text}: the queue is nearly full ({queue.MaxMessages} messages, {queue.MaxBytes} bytes at most), QoS 1 publishers wait", data: data)
            : queue.Waiting > 0 ? HealthCheckResult.Degraded($"{text}: {queue.Waiting} QoS 1 publisher(s) wait for room", data: data)
            : queue.LastDrop is { } drop && now - drop < DropsShownFor ? HealthCheckResult.Degraded($"{text}: QoS 0 messages were dropped (queue over half full), {queue.Dropped} since start, the last at {drop:O}", data: data)
            : queue.Messages > limit ? HealthCheckResult.Degraded($"{text} (more than {limit}): the store does not keep up", data: data)
            : HealthCheckResult.Healthy(text, data);
    }
}

/// <summary>The InfluxDB sink's durable queue: degraded when it grows, unhealthy when it is about to drop points.</summary>
public sealed class InfluxQueueCheck(IOptions<CollectorOptions> options, IServiceProvider services) : IHealthCheck
{
    /// <summary>Share of <c>Collector:Influx:QueueMaxBytes</c> past which the queue is about to drop its oldest points.</summary>
    public const double NearlyFull = 0.9;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (services.GetService<InfluxSink>() is not { } sink)
        {
            return Task.FromResult(HealthCheckResult.Healthy("the InfluxDB sink is off", new Dictionary<string, object> { ["enabled"] = false }));
        }

        var queue = sink.Queue;
        return Task.FromResult(Evaluate(queue.Points, queue.Bytes, queue.DroppedPoints, options.Value.Influx.QueueMaxBytes, options.Value.Health.InfluxQueueDegradedPoints));
    }

    public static HealthCheckResult Evaluate(long points, long bytes, long dropped, long maxBytes, long limit)
    {
        var data = new Dictionary<string, object>
        {
            ["enabled"] = true,
            ["points"] = points,
            ["bytes"] = bytes,
            ["max_bytes"] = maxBytes,
            ["dropped_points"] = dropped,
            ["degraded_above_points"] = limit,
        };
        return bytes >= NearlyFull * maxBytes ? HealthCheckResult.Unhealthy($"{points} points wait for InfluxDB and the queue is nearly full: it will drop the oldest", data: data)
            : points > limit ? HealthCheckResult.Degraded($"{points} points wait for InfluxDB (more than {limit})", data: data)
            : HealthCheckResult.Healthy($"{points} points wait for InfluxDB", data);
    }
}

/// <summary>Devices of the owned sites that went offline (said goodbye, or silent too long): degraded, named in the data (<c>device@site</c> when there are several sites).</summary>
public sealed class DevicesOfflineCheck(SiteCatalog sites, StoreQueries queries, TimeProvider clock) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var devices = await Task.Run(() => DevicesOfSites(sites, queries, clock.GetUtcNow()), cancellationToken).ConfigureAwait(false);
        return Evaluate(devices);
    }

    /// <summary>Every owned site's devices; with several sites each named <c>&lt;device&gt;@&lt;site&gt;</c>, as its login.</summary>
    public static IReadOnlyList<DeviceView> DevicesOfSites(SiteCatalog sites, StoreQueries queries, DateTimeOffset now)
    {
        if (sites.Count == 1)
        {
            return DevicesApi.List(sites.Default, queries, now);
        }

        var deliveries = queries.Deliveries();
        return [.. sites.Sites.SelectMany(site => DevicesApi.List(site, queries, now, deliveries).Select(d => d with { Device = $"{d.Device}@{site.Site}" }))];
    }

    public static HealthCheckResult Evaluate(IReadOnlyList<DeviceView> devices)
    {
        var offline = devices.Where(d => d.State == "offline").Select(d => d.Device).ToArray();
        var data = new Dictionary<string, object>
        {
            ["offline"] = offline,
            ["online"] = devices.Count(d => d.State == "online"),
            ["never_seen"] = devices.Count(d => d.State == "never-seen"),
        };
        return offline.Length > 0
            ? HealthCheckResult.Degraded($"{offline.Length} device(s) offline: {string.Join(", ", offline.Take(20))}{(offline.Length > 20 ? ", …" : string.Empty)}", data: data)
            : HealthCheckResult.Healthy($"no device offline of {devices.Count}", data);
    }
}
