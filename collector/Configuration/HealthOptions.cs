using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace NewTechPark.Edge.Collector.Configuration;

/// <summary>When <c>/healthz</c> turns degraded or unhealthy (<c>Collector:Health</c>).</summary>
public sealed class HealthOptions
{
    /// <summary>Free space of the data directory's disk, in percent of its size, below which the collector is degraded.</summary>
    [Range(1, 99)]
    public int DiskDegradedPercent { get; set; } = 10;

    /// <summary>Free bytes of the data directory's disk below which the collector is unhealthy (SQLite and the queues need room to commit).</summary>
    // Doubles in the attribute: 10^15 (a petabyte) survives the settings test's decimal conversion exactly.
    [Range(1 << 20, 1e15)]
    public long DiskUnhealthyBytes { get; set; } = 1L << 30;

    /// <summary>Messages waiting to be committed above which the collector is degraded (the store does not keep up).</summary>
    [Range(1, 100_000_000)]
    public int IngestQueueDegraded { get; set; } = 100_000;

    /// <summary>Points waiting in the InfluxDB sink's durable queue above which the collector is degraded (InfluxDB away or slow).</summary>
    [Range(1, long.MaxValue)]
    public long InfluxQueueDegradedPoints { get; set; } = 1_000_000;

    /// <summary>The store's probe write must commit within this time, or the store counts as not writable.</summary>
    public TimeSpan StoreWriteTimeout { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>The health settings' rules that attributes cannot say (durations).</summary>
public sealed class HealthOptionsValidator : IValidateOptions<CollectorOptions>
{
    public ValidateOptionsResult Validate(string? name, CollectorOptions options)
    {
        var timeout = options.Health.StoreWriteTimeout;
        return timeout >= TimeSpan.FromSeconds(1) && timeout <= TimeSpan.FromMinutes(5)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"Collector:Health:StoreWriteTimeout must be between 00:00:01 and 00:05:00, not {timeout}");
    }
}
