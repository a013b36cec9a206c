using NewTechPark.Edge.Collector.Broker.Security;
using NewTechPark.Edge.Collector.Site;

namespace NewTechPark.Edge.Demo;

/// <summary>
/// The demo logs in like a real site: every simulated agent gets its own random password (made at
/// start, kept in memory, its hash given to the broker), and one spare device is provisioned for a
/// newcomer to publish to by hand; the start banner prints a ready command for it.
/// </summary>
public sealed class DemoCredentials
{
    /// <summary>A device id that is in no site file: the banner's <c>mosquitto_pub</c> example publishes as this one.</summary>
    public const string SpareDevice = "pi-spare";

    private readonly Dictionary<string, string> _passwords = new(StringComparer.Ordinal);

    public DemoCredentials(SiteModel site, BrokerCredentials credentials)
    {
        foreach (var device in site.Devices.Append(SpareDevice).Distinct(StringComparer.Ordinal))
        {
            var password = MqttPasswordHash.NewPassword(18);
            credentials.Add(device, MqttPasswordHash.Create(password));
            _passwords[device] = password;
        }

        Site = site.Site;
    }

    public string Site { get; }

    public string PasswordOf(string device) => _passwords[device];
}
