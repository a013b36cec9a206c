using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace NewTechPark.Edge.Collector.Configuration;

/// <summary>Settings of the collector, bound from the <c>Collector</c> section.</summary>
public sealed class CollectorOptions
{
    public const string Section = "Collector";

    /// <summary>The site file; relative paths are taken from the collector's folder.</summary>
    [Required]
    public string SiteFile { get; set; } = "Site/default-site.json";

    /// <summary>
    /// The sites this collector owns: each entry a site file or a folder of site files; the first
    /// site is the default one. Empty: the one <see cref="SiteFile"/>. Checked at start by
    /// <see cref="Site.SiteCatalogLoader"/> (at most <see cref="Site.SiteCatalog.MaxSites"/>, unique ids).
    /// </summary>
    public List<string> Sites { get; set; } = [];

    /// <summary>Where the SQLite store lives.</summary>
    [Required]
    public string DataDirectory { get; set; } = "data";

    [ValidateObjectMembers]
    public EmbeddedBrokerOptions Broker { get; set; } = new();

    [ValidateObjectMembers]
    public IngestOptions Ingest { get; set; } = new();

    [ValidateObjectMembers]
    public OccupancyOptions Occupancy { get; set; } = new();

    /// <summary>The InfluxDB sink (off by default); see <see cref="Sinks.InfluxOptions"/>.</summary>
    [ValidateObjectMembers]
    public Sinks.InfluxOptions Influx { get; set; } = new();

    // No attributes to check inside: CollectorOptionsValidator checks its durations.
    public RetentionOptions Retention { get; set; } = new();

    [ValidateObjectMembers]
    public VisitorsOptions Visitors { get; set; } = new();

    [ValidateObjectMembers]
    public EnergyOptions Energy { get; set; } = new();

    // The token's rules are in AuthOptionsValidator.
    public AdminOptions Admin { get; set; } = new();

    // The tokens' rules are in AuthOptionsValidator.
    public AuthOptions Auth { get; set; } = new();

    [ValidateObjectMembers]
    public ReportOptions Report { get; set; } = new();

    [ValidateObjectMembers]
    public HttpOptions Http { get; set; } = new();

    [ValidateObjectMembers]
    public PlausibilityOptions Plausibility { get; set; } = new();

    [ValidateObjectMembers]
    public SeriesLimitOptions SeriesLimits { get; set; } = new();

    [ValidateObjectMembers]
    public HealthOptions Health { get; set; } = new();

    [ValidateObjectMembers]
    public StreamOptions Stream { get; set; } = new();

    // Webhooks and durations are checked by NotificationsOptionsValidator.
    [ValidateObjectMembers]
    public NotificationsOptions Notifications { get; set; } = new();

    // Topic shapes and durations are checked by HomeAssistantOptionsValidator.
    public HomeAssistantOptions HomeAssistant { get; set; } = new();

    // Checked by Region.RegionOptionsValidator (needs the sink; durations).
    public Region.RegionOptions Region { get; set; } = new();
}
