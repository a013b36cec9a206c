using System.Net;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Broker.Security;
using NewTechPark.Edge.Contracts;
using NewTechPark.Edge.Contracts.Configuration;

namespace NewTechPark.Edge.Collector.Configuration;

/// <summary>
/// The [Required] and [Range] attributes of <see cref="CollectorOptions"/> and of every section
/// below it ([ValidateObjectMembers]), checked by code the options source generator writes at
/// build time; each failure names the setting by its configuration path
/// (<c>Collector:Ingest:MaxMessagesPerCommit</c>).
/// </summary>
[OptionsValidator]
public sealed partial class CollectorOptionsAttributeValidator : IValidateOptions<CollectorOptions>;

/// <summary>The collector's rules that attributes cannot say: ports, files that must exist, durations, and rules across settings.</summary>
public sealed class CollectorOptionsValidator : IValidateOptions<CollectorOptions>
{
    /// <summary>MQTT 5 carries the session expiry in whole seconds in 32 bits.</summary>
    public static readonly TimeSpan MaxSessionExpiry = TimeSpan.FromSeconds(uint.MaxValue);

    public ValidateOptionsResult Validate(string? name, CollectorOptions o)
    {
        var errors = new List<string>();
        void Check(bool ok, string problem)
        {
            if (!ok)
            {
                errors.Add(problem);
            }
        }

        var site = o.SiteFile;
        Check(string.IsNullOrWhiteSpace(site) || File.Exists(site) || (!Path.IsPathRooted(site) && File.Exists(Path.Combine(AppContext.BaseDirectory, site))),
            $"Collector:SiteFile '{site}' does not exist (relative paths are taken from the working folder, then from the collector's folder)");

        Check(o.Sites.Count <= Site.SiteCatalog.MaxSites, $"Collector:Sites lists {o.Sites.Count} entries, more than the {Site.SiteCatalog.MaxSites} sites a collector owns");
        for (var i = 0; i < Math.Min(o.Sites.Count, Site.SiteCatalog.MaxSites); i++)
        {
            var entry = o.Sites[i];
            Check(!string.IsNullOrWhiteSpace(entry) && (File.Exists(Site.SiteCatalogLoader.Resolve(entry)) || Directory.Exists(Site.SiteCatalogLoader.Resolve(entry))),
                $"Collector:Sites:{i} '{entry}' is neither a site file nor a folder of site files (relative paths are taken from the working folder, then from the collector's folder)");
        }

        var broker = o.Broker;
        Check(IPAddress.TryParse(broker.BindAddress, out _), "Collector:Broker:BindAddress must be an IP address, such as 127.0.0.1");
        Check(broker.Embedded || broker.Port is >= 1 and <= 65535, $"Collector:Broker:Port {broker.Port} must be 1-65535 for an outside broker (0, a free port, works for the embedded one only)");
        for (var i = 0; i < broker.Readers.Count; i++)
        {
            Check(BrokerCredentials.IsValidUserName(broker.Readers[i]), $"Collector:Broker:Readers:{i} '{broker.Readers[i]}' is not a user name matching {Identifiers.SlugPattern}");
        }

        Check(string.IsNullOrWhiteSpace(broker.PasswordFile) || File.Exists(broker.PasswordFile), $"Collector:Broker:PasswordFile '{broker.PasswordFile}' does not exist");
        var tls = broker.Tls;
        Check(string.IsNullOrWhiteSpace(tls.CertificateFile) || File.Exists(tls.CertificateFile), $"Collector:Broker:Tls:CertificateFile '{tls.CertificateFile}' does not exist");
        Check(string.IsNullOrWhiteSpace(tls.KeyFile) || File.Exists(tls.KeyFile), $"Collector:Broker:Tls:KeyFile '{tls.KeyFile}' does not exist");
        Check(string.IsNullOrWhiteSpace(tls.KeyFile) || tls.Enabled, "Collector:Broker:Tls:KeyFile is set but Collector:Broker:Tls:CertificateFile is not");
        Check(IPAddress.TryParse(tls.BindAddress, out _), "Collector:Broker:Tls:BindAddress must be an IP address, such as 0.0.0.0");
        Check(!tls.Enabled || tls.Port != broker.Port, "Collector:Broker:Tls:Port must be a port (1-65535) other than Collector:Broker:Port");
        var limits = broker.Limits;
        Check(limits.MaxConnectionsPerAddress <= limits.MaxConnections,
            $"Collector:Broker:Limits:MaxConnectionsPerAddress {limits.MaxConnectionsPerAddress} must be at most Collector:Broker:Limits:MaxConnections ({limits.MaxConnections})");

        var ingest = o.Ingest;
        Check(ingest.SessionExpiry > TimeSpan.Zero && ingest.SessionExpiry <= MaxSessionExpiry,
            $"Collector:Ingest:SessionExpiry {ingest.SessionExpiry} must be above 00:00:00 and at most {MaxSessionExpiry} (MQTT's limit)");

        Check(o.Occupancy.DailyReset >= TimeSpan.Zero && o.Occupancy.DailyReset < TimeSpan.FromDays(1), "Collector:Occupancy:DailyReset must be a time of day, such as 04:00:00");
        Check(o.Occupancy.HistoryInterval >= TimeSpan.FromSeconds(1) && o.Occupancy.HistoryInterval <= TimeSpan.FromHours(1), "Collector:Occupancy:HistoryInterval must be between 00:00:01 and 01:00:00");

        var retention = o.Retention;
        Check(retention.Raw == TimeSpan.Zero || retention.Raw >= TimeSpan.FromDays(1), "Collector:Retention:Raw must be at least 1.00:00:00 (or 00:00:00 to keep raw points for ever)");
        Check(retention.Minute == TimeSpan.Zero || retention.Minute >= TimeSpan.FromDays(400), "Collector:Retention:Minute must be at least 400.00:00:00 (the contract accepts readings up to 400 days late) or 00:00:00");
        Check(retention.Hour == TimeSpan.Zero || retention.Hour >= TimeSpan.FromDays(400), "Collector:Retention:Hour must be at least 400.00:00:00 or 00:00:00");
        Check(retention.Day == TimeSpan.Zero || retention.Day >= TimeSpan.FromDays(400), "Collector:Retention:Day must be at least 400.00:00:00 or 00:00:00");
        Check(retention.Interval >= TimeSpan.FromSeconds(10) && retention.Interval <= TimeSpan.FromDays(1), "Collector:Retention:Interval must be between 00:00:10 and 1.00:00:00");

        var visitors = o.Visitors;
        Check(visitors.FreezeAfter >= TimeSpan.Zero && visitors.FreezeAfter <= TimeSpan.FromDays(366), "Collector:Visitors:FreezeAfter must be between 00:00:00 and 366.00:00:00");
        Check(visitors.ScanRetention >= visitors.FreezeAfter + TimeSpan.FromDays(367),
            "Collector:Visitors:ScanRetention must be at least a year and a day longer than Collector:Visitors:FreezeAfter, so every year is complete before its first scans go (default 400 days)");

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
