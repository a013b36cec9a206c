using MQTTnet;
using MQTTnet.Protocol;

namespace NewTechPark.Edge.EndToEnd.Tests.Security;

/// <summary>
/// The rules of <c>hardware/mosquitto/</c> (configuration and ACL), proved against Debian's
/// mosquitto running that very configuration: who may connect, publish and read what. Each test
/// has a broker of its own, so retained messages and sessions of one test do not reach another.
/// </summary>
[Trait("Category", "Slow")]
public sealed class MosquittoSecurityTests : IAsyncLifetime
{
    private const string PiAReadings = "ntp/v1/newtechpark/pi-a/readings";
    private const string PiBReadings = "ntp/v1/newtechpark/pi-b/readings";

    private SecuredMosquitto Broker { get; set; } = null!;

    public async Task InitializeAsync() => Broker = await SecuredMosquitto.StartAsync();

    public async Task DisposeAsync()
    {
        if (Broker is not null)
        {
            await Broker.DisposeAsync();
        }
    }

    [Fact]
    public async Task AnonymousConnectionsAreRefusedOnBothListeners()
    {
        await using var plain = await MqttProbe.ConnectAsync(Broker.PlainPort, user: null, password: null);
        await using var tls = await MqttProbe.ConnectAsync(Broker.TlsPort, user: null, password: null, trust: Broker.Certificate);

        Assert.Equal(MqttClientConnectResultCode.NotAuthorized, plain.Result.ResultCode);
        Assert.Equal(MqttClientConnectResultCode.NotAuthorized, tls.Result.ResultCode);
        Assert.False(plain.Client.IsConnected);
        Assert.False(tls.Client.IsConnected);
    }

    [Fact]
    public async Task WrongPasswordIsRefused()
    {
        await using var wrong = await MqttProbe.ConnectAsync(Broker.PlainPort, "pi-a", Broker.Passwords["pi-b"]);
        await using var unknown = await MqttProbe.ConnectAsync(Broker.PlainPort, "pi-z", Broker.Passwords["pi-a"]);

        Assert.Equal(MqttClientConnectResultCode.NotAuthorized, wrong.Result.ResultCode);
        Assert.Equal(MqttClientConnectResultCode.NotAuthorized, unknown.Result.ResultCode);
        Assert.False(wrong.Client.IsConnected);
    }

    [Fact]
    public async Task DeviceReadingsOnItsOwnTopicReachTheCollector()
    {
        await using var collector = await ConnectAsync("ntp-collector");
        Assert.Equal(MqttClientSubscribeResultCode.GrantedQoS1, await collector.SubscribeAsync("ntp/v1/#"));
        await using var piA = await ConnectAsync("pi-a");

        var ack = await piA.PublishAsync(PiAReadings, "pi-a reading");

        Assert.Equal(MqttClientPublishReasonCode.Success, ack.ReasonCode);
        var received = await collector.ReceiveUntilAsync("pi-a reading");
        Assert.Equal([(PiAReadings, "pi-a reading")], received);
    }

    [Fact]
    public async Task DevicePublishingAsAnotherDeviceIsRefusedAndDeliveredToNobody()
    {
        await using var collector = await ConnectAsync("ntp-collector");
        await collector.SubscribeAsync("ntp/v1/#");
        await using var piA = await ConnectAsync("pi-a");

        var forged = await piA.PublishAsync(PiBReadings, "forged by pi-a");
        var forgedStatus = await piA.PublishAsync("ntp/v1/newtechpark/pi-b/status", "forged status", retain: true);
        var otherSite = await piA.PublishAsync("ntp/v1/othersite/pi-a/readings", "other site");
        var marker = await piA.PublishAsync(PiAReadings, "marker after forgery");

        // Mosquitto 2.0 answers a denied QoS 1 publish with PUBACK 0x87 and keeps the connection.
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, forged.ReasonCode);
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, forgedStatus.ReasonCode);
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, otherSite.ReasonCode);
        Assert.Equal(MqttClientPublishReasonCode.Success, marker.ReasonCode);
        Assert.True(piA.Client.IsConnected);
        var received = await collector.ReceiveUntilAsync("marker after forgery");
        Assert.Equal([(PiAReadings, "marker after forgery")], received);
    }

    [Fact]
    public async Task DeviceSubscribedToEverythingReadsOnlyItsOwnSubtree()
    {
        await using var piA = await ConnectAsync("pi-a");
        // The wide filter is granted; what it may carry is filtered message by message.
        Assert.Equal(MqttClientSubscribeResultCode.GrantedQoS1, await piA.SubscribeAsync("ntp/v1/#"));
        await using var piB = await ConnectAsync("pi-b");

        var fromB = await piB.PublishAsync(PiBReadings, "pi-b reading");
        var statusB = await piB.PublishAsync("ntp/v1/newtechpark/pi-b/status", "pi-b status", retain: true);
        var fromA = await piA.PublishAsync(PiAReadings, "pi-a own");

        Assert.Equal(MqttClientPublishReasonCode.Success, fromB.ReasonCode);
        Assert.Equal(MqttClientPublishReasonCode.Success, statusB.ReasonCode);
        Assert.Equal(MqttClientPublishReasonCode.Success, fromA.ReasonCode);
        var received = await piA.ReceiveUntilAsync("pi-a own");
        Assert.Equal([(PiAReadings, "pi-a own")], received);

        // Nor does a subscription straight at pi-b's subtree hand over pi-b's retained status.
        await using var piA2 = await ConnectAsync("pi-a");
        await piA2.SubscribeAsync("ntp/v1/newtechpark/pi-b/#");
        await piA2.SubscribeAsync(PiAReadings);
        await piA.PublishAsync(PiAReadings, "second marker");
        Assert.Equal([(PiAReadings, "second marker")], await piA2.ReceiveUntilAsync("second marker"));
    }

    [Fact]
    public async Task CollectorUserReadsEverythingButPublishesNothing()
    {
        await using var collector = await ConnectAsync("ntp-collector");
        await collector.SubscribeAsync("ntp/v1/#");
        await using var dashboard = await ConnectAsync("dashboard");
        await dashboard.SubscribeAsync("#");
        await using var piB = await ConnectAsync("pi-b");

        // The device pattern would give user ntp-collector ntp/v1/newtechpark/ntp-collector/#; the ACL takes it back.
        var results = new[]
        {
            await collector.PublishAsync(PiAReadings, "collector as pi-a"),
            await collector.PublishAsync("ntp/v1/newtechpark/ntp-collector/readings", "collector's own subtree"),
            await collector.PublishAsync("ntp/v1/newtechpark/ntp-collector/status", "collector status", retain: true),
            await collector.PublishAsync("collector/commands", "elsewhere"),
        };
        await piB.PublishAsync(PiBReadings, "marker from pi-b");

        Assert.All(results, r => Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, r.ReasonCode));
        Assert.Equal([(PiBReadings, "marker from pi-b")], await dashboard.ReceiveUntilAsync("marker from pi-b"));
        Assert.Equal([(PiBReadings, "marker from pi-b")], await collector.ReceiveUntilAsync("marker from pi-b"));
    }

    [Fact]
    public async Task DashboardReaderReadsEveryDeviceButPublishesNothing()
    {
        await using var dashboard = await ConnectAsync("dashboard");
        Assert.Equal(MqttClientSubscribeResultCode.GrantedQoS1, await dashboard.SubscribeAsync("ntp/v1/#"));
        await using var piA = await ConnectAsync("pi-a");
        await using var piB = await ConnectAsync("pi-b");

        var own = await dashboard.PublishAsync("ntp/v1/newtechpark/dashboard/readings", "dashboard's own subtree");
        var asDevice = await dashboard.PublishAsync(PiAReadings, "dashboard as pi-a");
        await piA.PublishAsync(PiAReadings, "from a");
        await piB.PublishAsync(PiBReadings, "from b");

        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, own.ReasonCode);
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, asDevice.ReasonCode);
        Assert.Equal([(PiAReadings, "from a"), (PiBReadings, "from b")], await dashboard.ReceiveUntilAsync("from b"));
    }

    [Fact]
    public async Task ForgedLastWillIsNotDelivered()
    {
        await using var collector = await ConnectAsync("ntp-collector");
        await collector.SubscribeAsync("ntp/v1/#");

        // pi-a connects with a will on pi-b's status (retained: it would mark pi-b offline for
        // every later reader), then one with a will on its own status; both leave with reason
        // 0x04, which makes mosquitto send the will.
        await using var forger = await ConnectAsync("pi-a", o => o
            .WithWillTopic("ntp/v1/newtechpark/pi-b/status").WithWillPayload("{\"v\":1,\"state\":\"offline\"}").WithWillRetain()
            .WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce));
        await using var honest = await ConnectAsync("pi-a", o => o
            .WithWillTopic("ntp/v1/newtechpark/pi-a/status").WithWillPayload("pi-a offline").WithWillRetain()
            .WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce));
        await forger.Client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().WithReason(MqttClientDisconnectOptionsReason.DisconnectWithWillMessage).Build());
        await honest.Client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().WithReason(MqttClientDisconnectOptionsReason.DisconnectWithWillMessage).Build());

        Assert.Equal([("ntp/v1/newtechpark/pi-a/status", "pi-a offline")], await collector.ReceiveUntilAsync("pi-a offline"));
    }

    [Fact]
    public async Task DeviceOverTlsTrustingTheBrokerCertificateReachesTheCollector()
    {
        await using var collector = await ConnectAsync("ntp-collector");
        await collector.SubscribeAsync("ntp/v1/#");
        await using var piA = await MqttProbe.ConnectAsync(Broker.TlsPort, "pi-a", Broker.Passwords["pi-a"], trust: Broker.Certificate);
        Assert.Equal(MqttClientConnectResultCode.Success, piA.Result.ResultCode);

        var ack = await piA.PublishAsync(PiAReadings, "over tls");
        var forged = await piA.PublishAsync(PiBReadings, "forged over tls");

        Assert.Equal(MqttClientPublishReasonCode.Success, ack.ReasonCode);
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, forged.ReasonCode);
        await piA.PublishAsync(PiAReadings, "tls marker");
        Assert.Equal([(PiAReadings, "over tls"), (PiAReadings, "tls marker")], await collector.ReceiveUntilAsync("tls marker"));
    }

    [Fact]
    public async Task TlsClientThatDoesNotTrustTheCertificateCannotConnect()
    {
        // The system trust store does not hold the broker's self-signed certificate.
        var refused = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var probe = await MqttProbe.ConnectAsync(Broker.TlsPort, "pi-a", Broker.Passwords["pi-a"], tls: true);
        });
        Assert.Contains("certificate", Flatten(refused), StringComparison.OrdinalIgnoreCase);

        // Nor does plain MQTT get through the TLS port.
        MqttClientConnectResultCode? plain = null;
        var failed = await Record.ExceptionAsync(async () =>
        {
            await using var probe = await MqttProbe.ConnectAsync(Broker.TlsPort, "pi-a", Broker.Passwords["pi-a"]);
            plain = probe.Result.ResultCode;
        });
        Assert.True(failed is not null || plain != MqttClientConnectResultCode.Success, $"plain MQTT on the TLS port: {plain}");
    }

    [Fact]
    public async Task DeviceAddedWithMosquittoPasswdConnectsAfterReload()
    {
        var password = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(18));
        await using var collector = await ConnectAsync("ntp-collector");
        await collector.SubscribeAsync("ntp/v1/#");

        await Broker.AddUserAsync("pi-c", password);
        await using (var before = await MqttProbe.ConnectAsync(Broker.PlainPort, "pi-c", password))
        {
            Assert.Equal(MqttClientConnectResultCode.NotAuthorized, before.Result.ResultCode);
        }

        await Broker.ReloadAsync();
        await using var after = await Eventually(() => MqttProbe.ConnectAsync(Broker.PlainPort, "pi-c", password));
        var own = await after.PublishAsync("ntp/v1/newtechpark/pi-c/readings", "pi-c reading");
        var forged = await after.PublishAsync(PiAReadings, "pi-c as pi-a");

        Assert.Equal(MqttClientPublishReasonCode.Success, own.ReasonCode);
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, forged.ReasonCode);
        Assert.Equal([("ntp/v1/newtechpark/pi-c/readings", "pi-c reading")], await collector.ReceiveUntilAsync("pi-c reading"));
    }

    [Fact]
    public async Task PasswordFileHoldsOnlyPbkdf2Sha512Hashes()
    {
        var lines = await File.ReadAllLinesAsync(Broker.PasswordFile);

        Assert.Equal(SecuredMosquitto.Users.Order(), lines.Select(l => l.Split(':')[0]).Order());
        Assert.All(lines, l => Assert.StartsWith("$7$", l.Split(':', 2)[1]));
        Assert.All(Broker.Passwords.Values, p => Assert.DoesNotContain(p, string.Join('\n', lines)));
    }

    [Fact]
    public async Task ShippedConfigurationKeepsLoopbackPlainNoDelayAndPersistence()
    {
        var lines = (await File.ReadAllLinesAsync(Path.Combine(SecuredMosquitto.ShippedFolder, "mosquitto.conf")))
            .Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();

        Assert.Contains("per_listener_settings false", lines);
        Assert.Contains("allow_anonymous false", lines);
        Assert.Contains("set_tcp_nodelay true", lines);
        Assert.Contains("persistence true", lines);
        // Every listener but the TLS one is bound to loopback.
        var listeners = lines.Where(l => l.StartsWith("listener ")).ToList();
        Assert.Equal(["listener 1883 127.0.0.1", "listener 8883"], listeners);
        Assert.DoesNotContain(lines, l => l.StartsWith("include_dir"));
    }

    private async Task<MqttProbe> ConnectAsync(string user, Action<MqttClientOptionsBuilder>? configure = null)
    {
        var probe = await MqttProbe.ConnectAsync(Broker.PlainPort, user, Broker.Passwords[user], configure: configure);
        Assert.True(probe.Result.ResultCode == MqttClientConnectResultCode.Success, $"{user} could not connect: {probe.Result.ResultCode}\n{Broker.Output}");
        return probe;
    }

    /// <summary>Connects until the broker accepts (a reload is asynchronous), for at most 10 s.</summary>
    private static async Task<MqttProbe> Eventually(Func<Task<MqttProbe>> connect)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var probe = await connect();
            if (probe.Result.ResultCode == MqttClientConnectResultCode.Success || DateTime.UtcNow > deadline)
            {
                return probe;
            }

            await probe.DisposeAsync();
            await Task.Delay(50);
        }
    }

    private static string Flatten(Exception e) => e.InnerException is { } inner ? e.Message + " | " + Flatten(inner) : e.Message;
}
