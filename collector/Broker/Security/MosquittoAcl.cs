using System.Text;
using NewTechPark.Edge.Collector.Site;

namespace NewTechPark.Edge.Collector.Broker.Security;

/// <summary>
/// Writes Mosquitto's ACL file (<c>hardware/mosquitto/acl</c>) from the owned sites, the same rules
/// as <see cref="BrokerAuthorization"/>: the collector reads its owned sites only; each device
/// writes and reads below its own <c>ntp/v1/&lt;site&gt;/&lt;device&gt;/</c>; Home Assistant's topics per site.
/// One site: device logins are bare device ids, so two pattern lines cover every device (as before).
/// Several sites: a <c>user &lt;device&gt;@&lt;site&gt;</c> block per device a site file names, and a bare
/// <c>user &lt;device&gt;</c> block for a device id that exactly one site has (the login rule).
/// <c>collector devices acl --out FILE</c> writes it; the shipped file is its output for the default site.
/// </summary>
public static class MosquittoAcl
{
    public const string DefaultCollectorUser = "ntp-collector";

    public static string Build(SiteCatalog sites, string? collectorUser, string discoveryPrefix, string statePrefix)
    {
        var collector = string.IsNullOrWhiteSpace(collectorUser) ? DefaultCollectorUser : collectorUser;
        var one = sites.Count == 1;
        var text = new StringBuilder();
        text.Append("""
            # NewTechPark.Edge: who may use which topic on Mosquitto. Installed as /etc/mosquitto/newtechpark/acl.
            # Topics are in the wire contract (contracts/CONTRACT.md): ntp/v1/{site}/{device}/readings|status.
            # Written by `collector devices acl --out FILE` from the site files of the settings
            # (Collector:Sites or Collector:SiteFile); write it again when a site or device changes.
            # Whatever no line allows is refused: a denied publish gets PUBACK reason 0x87 (not
            # authorized) under MQTT 5 and is delivered to nobody.

            # The collector (Collector:Broker:Username): reads every device of its own sites, publishes nothing.

            """);
        text.Append("user ").Append(collector).Append('\n');
        if (one)
        {
            text.Append("""
                # Pattern lines below apply to every user, so the deny line takes back the subtree the device
                # pattern would give a user of this name.

                """);
            text.Append($"topic deny ntp/v1/{sites.Default.Site}/{collector}/#\n");
        }

        foreach (var site in sites.Sites)
        {
            text.Append($"topic read ntp/v1/{site.Site}/#\n");
        }

        text.Append("""
            # Home Assistant discovery (Collector:HomeAssistant): the collector writes its discovery configs
            # (node id ntp-{site}), its states and its availability (retained; also its last will), and
            # reads Home Assistant's birth message.

            """);
        foreach (var site in sites.Sites)
        {
            text.Append($"topic write {discoveryPrefix}/+/ntp-{site.Site}/#\n");
            text.Append($"topic write {statePrefix}/{site.Site}/#\n");
        }

        text.Append($"topic read {discoveryPrefix}/status\n");
        foreach (var (user, extra) in new[] { ("dashboard", $"topic read {discoveryPrefix}/#\ntopic read {statePrefix}/#\n"), ("homeassistant", $"topic read {discoveryPrefix}/#\ntopic read {statePrefix}/#\ntopic write {discoveryPrefix}/status\n") })
        {
            text.Append('\n');
            text.Append(user == "dashboard"
                ? """
                  # A read-only reader for a dashboard (Grafana's MQTT data source, Node-RED): optional; without a
                  # password in the password file nobody can log in as it.

                  """
                : """
                  # Home Assistant's MQTT integration (optional; read-only but for its own birth and will
                  # messages): reads the discovery configs and states, writes homeassistant/status only.
                  # Its client id is free under Mosquitto.

                  """);
            text.Append("user ").Append(user).Append('\n');
            if (one)
            {
                text.Append($"topic deny ntp/v1/{sites.Default.Site}/{user}/#\n");
            }

            text.Append(user == "dashboard" ? string.Concat(sites.Sites.Select(s => $"topic read ntp/v1/{s.Site}/#\n")) : string.Empty);
            text.Append(extra);
        }

        text.Append('\n');
        if (one)
        {
            var site = sites.Default.Site;
            text.Append($"""
                # Every device: its username is its device id (Agent:Device); it publishes and reads only below
                # its own ntp/v1/{site}/{"{device}"}/, so it cannot pose as another device or read another's data.
                pattern write ntp/v1/{site}/%u/#
                pattern read ntp/v1/{site}/%u/#

                """);
            return text.ToString();
        }

        text.Append("""
            # Every device the site files name: its login is <device>@<site> (a bare <device> too when one
            # site only has that device id); it publishes and reads only below its own
            # ntp/v1/<site>/<device>/, so a device of one site can never publish or read for another.

            """);
        var bare = sites.Sites.SelectMany(s => BrokerAuthorization.DevicesOf(s).Select(d => (Device: d, s.Site)))
            .GroupBy(x => x.Device, StringComparer.Ordinal).Where(g => g.Count() == 1).ToDictionary(g => g.Key, g => g.Single().Site, StringComparer.Ordinal);
        foreach (var site in sites.Sites)
        {
            foreach (var device in BrokerAuthorization.DevicesOf(site).Order(StringComparer.Ordinal))
            {
                var logins = bare.TryGetValue(device, out var only) && only == site.Site ? new[] { $"{device}@{site.Site}", device } : [$"{device}@{site.Site}"];
                foreach (var login in logins)
                {
                    text.Append($"user {login}\ntopic write ntp/v1/{site.Site}/{device}/#\ntopic read ntp/v1/{site.Site}/{device}/#\n");
                }
            }
        }

        return text.ToString();
    }
}
