using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;

namespace NewTechPark.Edge.Collector.Sinks;

/// <summary>Where the raw points live when the InfluxDB sink is on.</summary>
public enum InfluxMode
{
    /// <summary>In SQLite and in InfluxDB.</summary>
    Beside,

    /// <summary>
    /// In InfluxDB only: SQLite keeps the batches ledger, devices, dead letters, badge scans, the
    /// rollups (minute and up) and the door points (occupancy replay and history), but no other
    /// raw point.
    /// </summary>
    Instead,
}

/// <summary>
/// The InfluxDB sink (<c>Collector:Influx</c>): every stored batch also goes, as line protocol, to
/// InfluxDB 2, InfluxDB 3 (its v2 write API) or InfluxDB Cloud, through a durable queue of its own.
/// </summary>
public sealed class InfluxOptions
{
    public bool Enabled { get; set; }

    /// <summary><see cref="InfluxMode.Beside"/> (default) or <see cref="InfluxMode.Instead"/> of the raw points in SQLite.</summary>
    public InfluxMode Mode { get; set; } = InfluxMode.Beside;

    /// <summary>True when raw points (other than door readings) go to InfluxDB only.</summary>
    public bool RawPointsInInfluxOnly => Enabled && Mode == InfluxMode.Instead;

    /// <summary>Base address, such as <c>http://influx.local:8086</c>.</summary>
    public string Url { get; set; } = "http://127.0.0.1:8086";

    /// <summary>API token (InfluxDB 2/3, Cloud); empty for servers without authentication.</summary>
    public string? Token { get; set; }

    [Required]
    public string Org { get; set; } = "newtechpark";

    /// <summary>Bucket (InfluxDB 2) or database (InfluxDB 3).</summary>
    [Required]
    public string Bucket { get; set; } = "ntp";

    /// <summary>The queue file, relative to <c>Collector:DataDirectory</c>.</summary>
    [Required]
    public string QueueFile { get; set; } = "influx-queue.db";

    /// <summary>Bytes of line protocol the queue may hold; past it the oldest are dropped and counted. Default 10 GiB.</summary>
    [Range(1L << 20, long.MaxValue)]
    public long QueueMaxBytes { get; set; } = 10L << 30;

    /// <summary>Points (lines) per HTTP write.</summary>
    [Range(1, 100_000)]
    public int MaxPointsPerWrite { get; set; } = 5000;

    /// <summary>Timeout of one write request.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>First wait after a failed write; doubles (with jitter) up to <see cref="RetryMaxDelay"/>.</summary>
    public TimeSpan RetryMinDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>Checks the sink's settings at start, naming the setting that is wrong.</summary>
public sealed class InfluxOptionsValidator : IValidateOptions<CollectorOptions>
{
    public ValidateOptionsResult Validate(string? name, CollectorOptions options)
    {
        var influx = options.Influx;
        if (!Enum.IsDefined(influx.Mode))
        {
            return ValidateOptionsResult.Fail($"Collector:Influx:Mode '{influx.Mode}' must be Beside or Instead");
        }

        // Checked when the sink is off too: a wrong value fails today, not on the day the sink is turned on.
        var errors = new List<string>();
        if (!influx.Enabled && influx.Mode == InfluxMode.Instead)
        {
            errors.Add("Collector:Influx:Mode=Instead keeps raw points in InfluxDB only, so it needs Collector:Influx:Enabled=true and Collector:Influx:Url; "
                + "turn the sink on or set Collector:Influx:Mode=Beside");
        }

        if (!Uri.TryCreate(influx.Url, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            errors.Add($"Collector:Influx:Url '{influx.Url}' must be an http or https address, such as http://127.0.0.1:8086"
                + (influx.Mode == InfluxMode.Instead ? " (Collector:Influx:Mode=Instead sends the raw points there only)" : string.Empty));
        }

        if (influx.Timeout < TimeSpan.FromSeconds(1) || influx.Timeout > TimeSpan.FromHours(1))
        {
            errors.Add($"Collector:Influx:Timeout {influx.Timeout} must be between 00:00:01 and 01:00:00");
        }

        if (influx.RetryMinDelay <= TimeSpan.Zero || influx.RetryMinDelay > influx.RetryMaxDelay)
        {
            errors.Add($"Collector:Influx:RetryMinDelay {influx.RetryMinDelay} must be above 00:00:00 and not above Collector:Influx:RetryMaxDelay");
        }

        if (influx.RetryMaxDelay <= TimeSpan.Zero || influx.RetryMaxDelay > TimeSpan.FromDays(1))
        {
            errors.Add($"Collector:Influx:RetryMaxDelay {influx.RetryMaxDelay} must be above 00:00:00 and at most 1.00:00:00");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
