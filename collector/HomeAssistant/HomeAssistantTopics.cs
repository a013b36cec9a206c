using NewTechPark.Edge.Collector.Configuration;

namespace NewTechPark.Edge.Collector.HomeAssistant;

/// <summary>
/// Every Home Assistant topic the collector uses, made in one place:
/// <c>{discovery}/{component}/{node}/{object}/config</c> for discovery,
/// <c>{state}/{site}/{object}/state</c> (and <c>/attributes</c>) for states, <c>{state}/{site}/status</c>
/// for the collector's availability, and <c>{discovery}/status</c>, Home Assistant's birth and will.
/// </summary>
public sealed class HomeAssistantTopics(HomeAssistantOptions options, string site)
{
    public const string Online = "online";
    public const string Offline = "offline";

    public string Site => site;

    /// <summary>The node id of every config: one per collector site, so a second site on the same broker never touches these.</summary>
    public string NodeId => $"ntp-{site}";

    public string DiscoveryPrefix => options.DiscoveryPrefix;

    /// <summary>Home Assistant publishes <c>online</c> here when it starts (its birth message), and <c>offline</c> as its will.</summary>
    public string HomeAssistantStatus => $"{options.DiscoveryPrefix}/status";

    /// <summary>The collector's availability: retained <c>online</c>, and <c>offline</c> at a stop or as its will.</summary>
    public string Availability => $"{options.StatePrefix}/{site}/status";

    public string Config(string component, string objectId) => $"{options.DiscoveryPrefix}/{component}/{NodeId}/{objectId}/config";

    public string State(string objectId) => $"{options.StatePrefix}/{site}/{objectId}/state";

    public string Attributes(string objectId) => $"{options.StatePrefix}/{site}/{objectId}/attributes";

    /// <summary>
    /// A config topic this collector may clear: a discovery prefix, a component, this node id and an
    /// object id, nothing more. What the record file names is checked against this before anything
    /// is published, so a damaged or planted file cannot clear another program's entities.
    /// </summary>
    public bool IsOwnConfigTopic(string topic)
    {
        var parts = topic.Split('/');
        return parts.Length == 5
               && HomeAssistantOptions.TopicLevel().IsMatch(parts[0])
               && parts[1] is HomeAssistantEntities.Sensor or HomeAssistantEntities.BinarySensor
               && parts[2] == NodeId
               && HomeAssistantOptions.TopicLevel().IsMatch(parts[3])
               && parts[4] == "config";
    }
}
