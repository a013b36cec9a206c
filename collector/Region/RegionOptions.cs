using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;

namespace NewTechPark.Edge.Collector.Region;

/// <summary>
/// The region feed (<c>Collector:Region</c>): the site's derived figures (occupancy, visitors,
/// energy, devices) as line protocol with a <c>site</c> tag, through the durable queue of the
/// line-protocol sink (<c>Collector:Influx</c>), exactly once per period. See <c>collector/Region/README.md</c>.
/// </summary>
public sealed class RegionOptions
{
    /// <summary>Off by default; needs <c>Collector:Influx:Enabled=true</c> (the figures travel through its queue).</summary>
    public bool Enabled { get; set; }

    /// <summary>How often the feed looks for periods to send. Minute figures are sampled on the first look in their minute.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long after an hour or a local day ends its figures are sent: late readings (an agent's
    /// outbox draining after a short outage) still count. Default 10 minutes.
    /// </summary>
    public TimeSpan SettleDelay { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How far back the hourly and daily figures are made up after downtime, or on the first start.
    /// Default 35 days (a month stays whole); at most 400 days, the oldest reading the contract takes.
    /// Minute samples (occupancy, devices) are live states and are never made up.
    /// </summary>
    public TimeSpan CatchUp { get; set; } = TimeSpan.FromDays(35);
}

/// <summary>Checks <c>Collector:Region</c> at start, naming the setting that is wrong.</summary>
public sealed class RegionOptionsValidator : IValidateOptions<CollectorOptions>
{
    public static readonly TimeSpan MaxCatchUp = TimeSpan.FromDays(400);

    public ValidateOptionsResult Validate(string? name, CollectorOptions options)
    {
        var region = options.Region;
        var errors = new List<string>();
        if (region.Enabled && !options.Influx.Enabled)
        {
            errors.Add("Collector:Region:Enabled=true sends the figures through the line-protocol sink's durable queue, so it needs Collector:Influx:Enabled=true and Collector:Influx:Url "
                + "(the region's vminsert, such as http://vminsert:8480/insert/0/influx)");
        }

        if (region.Interval < TimeSpan.FromSeconds(1) || region.Interval > TimeSpan.FromSeconds(30))
        {
            errors.Add($"Collector:Region:Interval {region.Interval} must be between 00:00:01 and 00:00:30 (minute figures are sampled once a minute)");
        }

        if (region.SettleDelay < TimeSpan.Zero || region.SettleDelay > TimeSpan.FromHours(6))
        {
            errors.Add($"Collector:Region:SettleDelay {region.SettleDelay} must be between 00:00:00 and 06:00:00");
        }

        if (region.CatchUp < TimeSpan.FromDays(1) || region.CatchUp > MaxCatchUp)
        {
            errors.Add($"Collector:Region:CatchUp {region.CatchUp} must be between 1.00:00:00 and 400.00:00:00 (readings older than 400 days are refused)");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
