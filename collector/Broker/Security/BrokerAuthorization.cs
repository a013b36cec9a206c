using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Contracts;
using NewTechPark.Edge.Contracts.Topics;

namespace NewTechPark.Edge.Collector.Broker.Security;

/// <summary>
/// What an authenticated MQTT user may do. A device (any user not listed as a reader) publishes
/// only its <c>readings</c> and <c>status</c> and subscribes only below <c>ntp/v1/{site}/{device}/</c>, its device id being its user name; a
/// reader (a dashboard, Grafana's MQTT source, a test probe) subscribes below <c>ntp/v1/</c> and
/// publishes nothing. The same rules as hardware/mosquitto/acl.
/// <para>
/// With Home Assistant discovery on (<c>Collector:HomeAssistant</c>), a reader (Home Assistant's
/// login) also subscribes below the discovery prefix and the state prefix, and may publish Home
/// Assistant's birth and will on <c>{discovery}/status</c>, that one topic only; devices get nothing more.
/// </para>
/// <para>
/// Several owned sites: a device logs in as <c>&lt;device&gt;@&lt;site&gt;</c> (always accepted for an
/// owned site), or as the bare <c>&lt;device&gt;</c> only when exactly one owned site's file names that
/// device (with one site, always that site). Its topics are its site's only, so a device of site A
/// can never publish or read for site B.
/// </para>
/// </summary>
public sealed class BrokerAuthorization
{
    private readonly HashSet<string> _readers;
    private readonly SiteCatalog _sites;
    // Bare device id → the one owned site whose file names it; null when two or more do.
    private readonly Dictionary<string, string?> _bareDevices = new(StringComparer.Ordinal);
    private readonly string[] _readerPrefixes;
    private readonly string? _homeAssistantStatus;

    public BrokerAuthorization(IOptions<CollectorOptions> options, SiteModel site)
        : this(options, new SiteCatalog(site))
    {
    }

    public BrokerAuthorization(IOptions<CollectorOptions> options, SiteCatalog sites)
    {
        _readers = new HashSet<string>(options.Value.Broker.Readers, StringComparer.Ordinal);
        _sites = sites;
        foreach (var site in sites.Sites)
        {
            foreach (var device in DevicesOf(site))
            {
                _bareDevices[device] = _bareDevices.ContainsKey(device) ? null : site.Site;
            }
        }

        var ha = options.Value.HomeAssistant;
        _readerPrefixes = ha.Enabled
            ? [$"{ContractTopics.Root}/{ContractTopics.Version}/", ha.DiscoveryPrefix + "/", ha.StatePrefix + "/"]
            : [$"{ContractTopics.Root}/{ContractTopics.Version}/"];
        _homeAssistantStatus = ha.Enabled ? $"{ha.DiscoveryPrefix}/status" : null;
    }

    public bool IsReader(string user) => _readers.Contains(user);

    /// <summary>The separator of a device's site-qualified login, <c>&lt;device&gt;@&lt;site&gt;</c> ('@' is never inside a slug).</summary>
    public const char SiteSeparator = '@';

    /// <summary>
    /// The device and site a login stands for: <c>&lt;device&gt;@&lt;site&gt;</c> with an owned site, or a bare
    /// device id that exactly one owned site has (any device id when the collector owns one site); null otherwise.
    /// </summary>
    public (string Device, string Site)? DeviceOf(string user)
    {
        var at = user.IndexOf(SiteSeparator, StringComparison.Ordinal);
        if (at >= 0)
        {
            var device = user[..at];
            var site = user[(at + 1)..];
            return Identifiers.IsSlug(device) && _sites.Owns(site) ? (device, site) : null;
        }

        if (!Identifiers.IsSlug(user))
        {
            return null;
        }

        if (_sites.Count == 1)
        {
            return (user, _sites.Default.Site);
        }

        return _bareDevices.TryGetValue(user, out var only) && only is not null ? (user, only) : null;
    }

    /// <summary>The topic prefix a device owns: <c>ntp/v1/{site}/{device}/</c>; null for a login that is no owned site's device.</summary>
    public string? DevicePrefix(string user) => DeviceOf(user) is { } d ? ContractTopics.DevicePrefix(d.Site, d.Device) : null;

    /// <summary>The device ids a site file names (its sensors', meters' and doors' devices).</summary>
    public static IEnumerable<string> DevicesOf(SiteModel site) =>
        site.Sensors.Select(s => s.Device).Concat(site.Meters.Select(m => m.Device)).Concat(site.Doors.Select(d => d.Device))
            .OfType<string>().Distinct(StringComparer.Ordinal);

    /// <summary>
    /// A device's client id must be its own (<c>ntp-{site}-{device}</c>, as the agent makes it, or the
    /// bare device id), so no device can take over another's session and queued messages; a
    /// reader's starts with its user name, or is one no device can have (not a slug and not
    /// <c>ntp-…</c>), such as the random id Home Assistant's MQTT integration makes.
    /// </summary>
    public bool MayUseClientId(string user, string clientId) =>
        IsReader(user)
            ? clientId.StartsWith(user, StringComparison.Ordinal)
              || (clientId.Length > 0 && !Identifiers.IsSlug(clientId) && !clientId.StartsWith("ntp-", StringComparison.OrdinalIgnoreCase))
            : DeviceOf(user) is { } d && (clientId == user || clientId == d.Device || clientId == $"ntp-{d.Site}-{d.Device}");

    /// <summary>A device publishes its readings and its status, nothing else: no stray (retained) topics for the broker to keep.</summary>
    public bool MayPublish(string user, string topic)
    {
        if (IsReader(user))
        {
            return _homeAssistantStatus is not null && topic == _homeAssistantStatus;
        }

        if (DevicePrefix(user) is not { } prefix || !topic.StartsWith(prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var leaf = topic.AsSpan(prefix.Length);
        return leaf.SequenceEqual(ContractTopics.ReadingsLeaf) || leaf.SequenceEqual(ContractTopics.StatusLeaf);
    }

    public bool MaySubscribe(string user, string filter) =>
        IsReader(user)
            ? _readerPrefixes.Any(prefix => filter.StartsWith(prefix, StringComparison.Ordinal))
            : DevicePrefix(user) is { } prefix && filter.StartsWith(prefix, StringComparison.Ordinal);
}
