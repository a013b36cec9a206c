using NewTechPark.Edge.Collector.Broker;
using NewTechPark.Edge.Collector.Hosting;

namespace NewTechPark.Edge.Demo;

/// <summary>The demo's part of the start banner: its title and a ready <c>mosquitto_pub</c> command.</summary>
public sealed class DemoBanner(DemoCredentials demo, BrokerEndpoint broker) : IStartupBannerSection
{
    public string? Title => "(demo: simulated site)";

    public IEnumerable<string> Lines()
    {
        // The one secret printed on purpose: a demo-only device, made at start, so a newcomer
        // can publish by hand. Real devices' passwords are never printed or logged.
        yield return $"  Publish by hand as the spare demo device '{DemoCredentials.SpareDevice}' (Debian package mosquitto-clients):";
        yield return "    " + SparePublishCommand(demo, broker);
    }

    /// <summary>A <c>mosquitto_pub</c> command that publishes one valid climate reading (seq and times from the shell's clock).</summary>
    public static string SparePublishCommand(DemoCredentials demo, BrokerEndpoint broker)
    {
        var device = DemoCredentials.SpareDevice;
        const string now = "$(date -u +%FT%T.000Z)";
        var payload = "{\\\"v\\\":1,\\\"seq\\\":$(date +%s),\\\"sent\\\":\\\"" + now + "\\\",\\\"readings\\\":[{\\\"ts\\\":\\\"" + now +
                      "\\\",\\\"sensor\\\":\\\"my-sensor\\\",\\\"kind\\\":\\\"climate\\\",\\\"values\\\":{\\\"temperature_c\\\":21.5}}]}";
        return $"mosquitto_pub -h {broker.Host} -p {broker.Port} -V mqttv5 -q 1 -i {device} -u {device} -P '{demo.PasswordOf(device)}' " +
               $"-t {NewTechPark.Edge.Contracts.Topics.ContractTopics.Readings(demo.Site, device)} -m \"{payload}\"";
    }
}
