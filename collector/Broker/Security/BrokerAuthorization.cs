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
/// </summary>
public sealed class BrokerAuthorization
{
    private readonly HashSet<string> _readers;
    private readonly string _site;
    private readonly string[] _readerPrefixes;
    private readonly string? _homeAssistantStatus;

    public BrokerAuthorization(IOptions<CollectorOptions> options, SiteModel site)
    {
        _readers = new HashSet<string>(options.Value.Broker.Readers, StringComparer.Ordinal);
        _site = site.Site;
        var ha = options.Value.HomeAssistant;
        _readerPrefixes = ha.Enabled
            ? [$"{ContractTopics.Root}/{ContractTopics.Version}/", ha.DiscoveryPrefix + "/", ha.StatePrefix + "/"]
            : [$"{ContractTopics.Root}/{ContractTopics.Version}/"];
        _homeAssistantStatus = ha.Enabled ? $"{ha.DiscoveryPrefix}/status" : null;
    }

    public bool IsReader(string user) => _readers.Contains(user);

    /// <summary>The topic prefix a device owns: <c>ntp/v1/{site}/{device}/</c>.</summary>
    public string DevicePrefix(string device) => ContractTopics.DevicePrefix(_site, device);

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
            : clientId == user || clientId == $"ntp-{_site}-{user}";

    /// <summary>A device publishes its readings and its status, nothing else: no stray (retained) topics for the broker to keep.</summary>
    public bool MayPublish(string user, string topic)
    {
        if (IsReader(user))
        {
            return _homeAssistantStatus is not null && topic == _homeAssistantStatus;
        }

        if (!IsDevice(user) || !topic.StartsWith(DevicePrefix(user), StringComparison.Ordinal))
        {
            return false;
        }

        var leaf = topic.AsSpan(DevicePrefix(user).Length);
        return leaf.SequenceEqual(ContractTopics.ReadingsLeaf) || leaf.SequenceEqual(ContractTopics.StatusLeaf);
    }

    public bool MaySubscribe(string user, string filter) =>
        IsReader(user)
            ? _readerPrefixes.Any(prefix => filter.StartsWith(prefix, StringComparison.Ordinal))
            : IsDevice(user) && filter.StartsWith(DevicePrefix(user), StringComparison.Ordinal);

    // Only logged-in users get this far, but the checks never throw whatever they are handed.
    private static bool IsDevice(string user) => Identifiers.IsSlug(user);
}
