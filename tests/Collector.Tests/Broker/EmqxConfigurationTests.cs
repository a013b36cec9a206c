using NewTechPark.Edge.Collector.Configuration;
using static NewTechPark.Edge.Collector.Tests.Broker.EmqxAcl;

namespace NewTechPark.Edge.Collector.Tests.Broker;

/// <summary>
/// <c>hardware/emqx/</c>: no EMQX runs here, so the ACL file is run through an interpreter of
/// EMQX 5.8's file authorization (<see cref="EmqxAcl"/>) with the client attributes that
/// <c>emqx.conf</c>'s <c>client_attrs_init</c> gives each login, against the contract's cases;
/// and the configuration's limits are checked against the embedded broker's.
/// </summary>
public sealed class EmqxConfigurationTests
{
    private static readonly Lazy<(EmqxConf Conf, EmqxAcl Acl)> Files = new(() =>
    {
        var folder = Folder();
        return (EmqxConf.Parse(File.ReadAllText(Path.Combine(folder, "emqx.conf"))), EmqxAcl.Parse(File.ReadAllText(Path.Combine(folder, "acl.conf"))));
    });

    private static EmqxConf Conf => Files.Value.Conf;

    private static EmqxAcl Acl => Files.Value.Acl;

    public static TheoryData<string, AclAction, string, bool> ContractCases => new()
    {
        // A device, <device>@<site>: its own readings and status, its own subtree to read.
        { "pi-1@site-a", AclAction.Publish, "ntp/v1/site-a/pi-1/readings", true },
        { "pi-1@site-a", AclAction.Publish, "ntp/v1/site-a/pi-1/status", true },
        { "pi-1@site-a", AclAction.Subscribe, "ntp/v1/site-a/pi-1/#", true },
        { "pi-1@site-a", AclAction.Subscribe, "ntp/v1/site-a/pi-1/status", true },
        { "pi-1@site-a", AclAction.Publish, "ntp/v1/site-a/pi-2/readings", false },
        { "pi-1@site-a", AclAction.Publish, "ntp/v1/site-b/pi-1/readings", false },
        { "pi-1@site-a", AclAction.Publish, "ntp/v1/site-a/pi-1/other", false },
        { "pi-1@site-a", AclAction.Publish, "ntp/v1/site-a/pi-1", false },
        { "pi-1@site-a", AclAction.Publish, "homeassistant/status", false },
        { "pi-1@site-a", AclAction.Publish, "ntp/bridge/site-a/state", false },
        // Wildcards reach no other device or site.
        { "pi-1@site-a", AclAction.Subscribe, "#", false },
        { "pi-1@site-a", AclAction.Subscribe, "ntp/v1/#", false },
        { "pi-1@site-a", AclAction.Subscribe, "ntp/v1/site-a/#", false },
        { "pi-1@site-a", AclAction.Subscribe, "ntp/v1/site-a/+/readings", false },
        { "pi-1@site-a", AclAction.Subscribe, "ntp/v1/+/pi-1/readings", false },
        { "pi-1@site-a", AclAction.Subscribe, "+/v1/site-a/pi-1/readings", false },
        { "pi-1@site-a", AclAction.Subscribe, "$SYS/#", false },
        { "pi-1@site-b", AclAction.Publish, "ntp/v1/site-a/pi-1/readings", false },
        // Logins of another form get nothing: a bare device id (its site is unknown here), an
        // upper-case or empty part, wildcards or levels smuggled into the name.
        { "pi-1", AclAction.Publish, "ntp/v1/site-a/pi-1/readings", false },
        { "PI-1@site-a", AclAction.Publish, "ntp/v1/site-a/PI-1/readings", false },
        { "@site-a", AclAction.Publish, "ntp/v1/site-a//readings", false },
        { "pi-1@", AclAction.Publish, "ntp/v1//pi-1/readings", false },
        { "+@site-a", AclAction.Publish, "ntp/v1/site-a/+/readings", false },
        { "#@site-a", AclAction.Subscribe, "ntp/v1/site-a/#", false },
        { "pi-1@site-a/pi-2", AclAction.Publish, "ntp/v1/site-a/pi-2/readings", false },
        { "pi-1@site-a@site-b", AclAction.Publish, "ntp/v1/site-b/pi-1/readings", false },
        { "pi-1/x@site-a", AclAction.Publish, "ntp/v1/site-a/pi-1/x/readings", false },
        // The bridge of a site with its own Mosquitto: its site's device topics and its state.
        { "bridge.site-a", AclAction.Publish, "ntp/v1/site-a/pi-1/readings", true },
        { "bridge.site-a", AclAction.Publish, "ntp/v1/site-a/pi-9/status", true },
        { "bridge.site-a", AclAction.Publish, "ntp/bridge/site-a/state", true },
        { "bridge.site-a", AclAction.Publish, "ntp/v1/site-b/pi-1/readings", false },
        { "bridge.site-a", AclAction.Publish, "ntp/v1/site-ab/pi-1/readings", false },
        { "bridge.site-a", AclAction.Publish, "ntp/bridge/site-b/state", false },
        { "bridge.site-a", AclAction.Publish, "homeassistant/status", false },
        { "bridge.site-a", AclAction.Subscribe, "ntp/v1/#", false },
        { "bridge.site-a/x", AclAction.Publish, "ntp/v1/site-a/pi-1/readings", false },
        // The collector reads every site and the bridges' state; writes only Home Assistant discovery.
        { "ntp-collector", AclAction.Subscribe, "ntp/v1/#", true },
        { "ntp-collector", AclAction.Subscribe, "ntp/v1/site-b/#", true },
        { "ntp-collector", AclAction.Subscribe, "ntp/bridge/#", true },
        { "ntp-collector", AclAction.Subscribe, "homeassistant/status", true },
        { "ntp-collector", AclAction.Publish, "homeassistant/sensor/ntp-site-a/occupancy/config", true },
        { "ntp-collector", AclAction.Publish, "ntp/ha/site-a/status", true },
        { "ntp-collector", AclAction.Publish, "ntp/v1/site-a/pi-1/readings", false },
        { "ntp-collector", AclAction.Publish, "ntp/v1/site-a/ntp-collector/readings", false },
        { "ntp-collector", AclAction.Subscribe, "#", false },
        { "ntp-collector", AclAction.Subscribe, "$SYS/#", false },
        { "ntp-collector@site-a", AclAction.Subscribe, "ntp/v1/#", false },
        // Readers read and publish nothing, but for Home Assistant's birth message.
        { "dashboard", AclAction.Subscribe, "ntp/v1/#", true },
        { "dashboard", AclAction.Subscribe, "homeassistant/#", true },
        { "dashboard", AclAction.Publish, "ntp/v1/site-a/pi-1/readings", false },
        { "dashboard", AclAction.Publish, "homeassistant/status", false },
        { "homeassistant", AclAction.Subscribe, "homeassistant/#", true },
        { "homeassistant", AclAction.Subscribe, "ntp/ha/#", true },
        { "homeassistant", AclAction.Publish, "homeassistant/status", true },
        { "homeassistant", AclAction.Publish, "homeassistant/sensor/ntp-site-a/occupancy/config", false },
        { "homeassistant", AclAction.Subscribe, "ntp/v1/#", false },
        // Anyone else: nothing.
        { "mallory", AclAction.Subscribe, "#", false },
        { "mallory", AclAction.Publish, "ntp/v1/site-a/pi-1/readings", false },
    };

    [Theory]
    [MemberData(nameof(ContractCases))]
    public void The_acl_follows_the_contract(string username, AclAction action, string topic, bool allowed)
    {
        var client = new Client(username, $"client-{username}", Conf.ClientAttributes(username));
        Assert.True(allowed == Acl.Allows(client, action, topic), $"{username} {action} {topic}: expected {(allowed ? "allowed" : "denied")}, attributes [{string.Join(", ", client.Attributes)}]");
    }

    [Fact]
    public void A_client_without_a_username_gets_nothing()
    {
        var anonymous = new Client(null, "anything", Conf.ClientAttributes(string.Empty));
        Assert.Empty(anonymous.Attributes);
        Assert.False(Acl.Allows(anonymous, AclAction.Subscribe, "ntp/v1/#"));
        Assert.False(Acl.Allows(anonymous, AclAction.Publish, "ntp/v1/site-a/pi-1/readings"));
    }

    [Fact]
    public void The_usernames_give_the_attributes_the_acl_names()
    {
        Assert.Equal(new Dictionary<string, string> { ["device"] = "pi-1", ["site"] = "site-a" }, Conf.ClientAttributes("pi-1@site-a"));
        Assert.Equal(new Dictionary<string, string> { ["bridge_site"] = "site-a" }, Conf.ClientAttributes("bridge.site-a"));
        Assert.Empty(Conf.ClientAttributes("ntp-collector"));

        // The longest slugs pass, one more character does not.
        var slug = "a" + new string('b', 62);
        Assert.Equal(slug, Conf.ClientAttributes($"{slug}@{slug}")["site"]);
        Assert.Empty(Conf.ClientAttributes($"{slug}b@{slug}"));
    }

    [Fact]
    public void The_acl_ends_in_deny_all_and_uses_only_known_attributes()
    {
        Assert.Equal("{deny, all}", Acl.Rules[^1].Text);
        var text = File.ReadAllText(Path.Combine(Folder(), "acl.conf"));
        var named = System.Text.RegularExpressions.Regex.Matches(text, @"\$\{client_attrs\.([a-z_]+)\}").Select(m => m.Groups[1].Value).Distinct();
        var set = Enumerable.Range(0, int.Parse(Conf["mqtt.client_attrs_init.count"], System.Globalization.CultureInfo.InvariantCulture))
            .Select(i => Conf[$"mqtt.client_attrs_init[{i}].set_as_attr"]).ToHashSet();
        Assert.All(named, n => Assert.Contains(n, set));
    }

    [Fact]
    public void The_limits_are_the_embedded_brokers_or_stricter()
    {
        var limits = new BrokerLimitsOptions();
        var broker = new EmbeddedBrokerOptions();

        // Packets: never more than the embedded broker takes, never less than the contract's message.
        var packet = Conf.Bytes("mqtt.max_packet_size");
        Assert.InRange(packet, BrokerLimitsOptions.MinPacketBytes, limits.MaxPacketBytes);

        // The time a new connection gets for its CONNECT and its TLS handshake.
        Assert.True(Conf.Duration("mqtt.idle_timeout") <= limits.ConnectTimeout);
        Assert.True(Conf.Duration("listeners.ssl.default.ssl_options.handshake_timeout") <= limits.ConnectTimeout);

        // A bounded queue per session, no larger than the embedded broker's per client; QoS 0 not queued.
        Assert.InRange(long.Parse(Conf["mqtt.max_mqueue_len"], System.Globalization.CultureInfo.InvariantCulture), 1000, broker.MaxPendingMessagesPerClient);
        Assert.Equal("false", Conf["mqtt.mqueue_store_qos0"]);
        Assert.InRange(int.Parse(Conf["mqtt.max_inflight"], System.Globalization.CultureInfo.InvariantCulture), 1, 65535);

        // Per-client rates and a connection rate on the network listener (the embedded broker
        // caps connections per address and throttles failed logins; EMQX has these instead).
        Assert.Matches(@"^\d+/s$", Conf["listeners.ssl.default.messages_rate"]);
        Assert.Matches(@"^\d+MB/s$", Conf["listeners.ssl.default.bytes_rate"]);
        Assert.Matches(@"^\d+/s$", Conf["listeners.ssl.default.max_conn_rate"]);
        Assert.Equal("true", Conf["flapping_detect.enable"]);

        // The collector's session outlives a long weekend (EMQX's default is 2 hours).
        Assert.True(Conf.Duration("mqtt.session_expiry_interval") >= TimeSpan.FromDays(3));
    }

    [Fact]
    public void Logins_authorization_and_listeners_are_closed_by_default()
    {
        Assert.Equal("deny", Conf["authorization.no_match"]);
        // A refused message must not disconnect a bridge that forwards a whole site.
        Assert.Equal("ignore", Conf["authorization.deny_action"]);
        Assert.Equal("file", Conf["authorization.sources[0].type"]);
        Assert.Equal("/etc/emqx/acl.conf", Conf["authorization.sources[0].path"]);
        Assert.Equal("1", Conf["authorization.sources.count"]);

        Assert.Equal("built_in_database", Conf["authentication[0].backend"]);
        Assert.Equal("pbkdf2", Conf["authentication[0].password_hash_algorithm.name"]);
        Assert.Equal("sha512", Conf["authentication[0].password_hash_algorithm.mac_fun"]);
        Assert.True(int.Parse(Conf["authentication[0].password_hash_algorithm.iterations"], System.Globalization.CultureInfo.InvariantCulture) >= 100_000);
        Assert.Equal("hash", Conf["authentication[0].bootstrap_type"]);

        Assert.StartsWith("127.0.0.1:", Conf["listeners.tcp.default.bind"], StringComparison.Ordinal);
        Assert.Equal("false", Conf["listeners.ws.default.enable"]);
        Assert.Equal("false", Conf["listeners.wss.default.enable"]);
        Assert.Equal(["tlsv1.3", "tlsv1.2"], [Conf["listeners.ssl.default.ssl_options.versions[0]"], Conf["listeners.ssl.default.ssl_options.versions[1]"]]);
        Assert.Equal("true", Conf["durable_sessions.enable"]);

        // The Erlang cookie is a secret: it comes from the environment, never from this file.
        Assert.DoesNotContain(Conf.Values.Keys, k => k.Contains("cookie", StringComparison.Ordinal));
    }

    [Fact]
    public void The_interpreter_refuses_what_it_does_not_know()
    {
        Assert.Throws<FormatException>(() => EmqxAcl.Parse("{allow, {ipaddr, \"127.0.0.1\"}, all, [\"#\"]}."));
        Assert.Throws<FormatException>(() => EmqxAcl.Parse("{allow, all, {publish, [{qos, 1}]}, [\"#\"]}."));
        Assert.Throws<FormatException>(() => EmqxAcl.Parse("{allow, all, publish, [\"a\"]}"));
        Assert.True(EmqxAcl.TopicMatches("a", "a/#"));
        Assert.False(EmqxAcl.TopicMatches("$SYS/x", "#"));
        Assert.False(EmqxAcl.TopicMatches("a/b/c", "a/+"));
        Assert.True(EmqxAcl.TopicMatches("a/+", "a/+"));
        Assert.False(EmqxAcl.TopicMatches("a/#", "a/b/#"));
    }

    private static string Folder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "NewTechPark.Edge.sln")))
            {
                return Path.Combine(dir.FullName, "hardware", "emqx");
            }
        }

        throw new InvalidOperationException($"no NewTechPark.Edge.sln above {AppContext.BaseDirectory}: the tests read hardware/emqx from the repository");
    }
}
