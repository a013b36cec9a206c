using System.Globalization;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using Xunit.Abstractions;

namespace NewTechPark.Edge.Reliability.Tests.Bridge;

/// <summary>
/// The site → central bridge (<c>hardware/mosquitto/bridge/</c>) with two Debian mosquitto
/// processes: readings published on the site broker reach a persistent subscriber on the central
/// broker through an uplink outage (the central broker killed with kill -9 and started again) and a
/// kill -9 of the site broker during that outage; only the site's own topics cross.
/// </summary>
[Trait("Category", "Slow")]
public sealed class MosquittoBridgeTests(ITestOutputHelper output)
{
    private const int BatchesPerDevice = 100;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Readings_published_during_an_uplink_outage_reach_the_central_subscriber_in_order()
    {
        await using var brokers = await BridgeBrokers.StartAsync(centralChecksLogins: true);
        var site = brokers.SiteBroker;
        var central = brokers.Central;
        await using var subscriber = new CentralSubscriber(BridgeBrokers.CollectorUser, brokers.Passwords[BridgeBrokers.CollectorUser], $"ntp/v1/{BridgeBrokers.Site}/#", "ntp/bridge/#");
        await subscriber.ConnectAsync(central.Port);
        var devices = BridgeBrokers.Devices.Select(d => new BridgeDevice(d, brokers.Passwords[d])).ToList();
        await using var siteState = new CentralSubscriber(BridgeBrokers.ProbeUser, brokers.Passwords[BridgeBrokers.ProbeUser], "ntp/bridge/#");
        try
        {
            // The bridge announces itself on the central broker (notification topic, retained "1").
            await Eventually.UntilAsync(() => StateIs(subscriber, "1"), "the central broker shows the bridge connected", Patience);
            await siteState.ConnectAsync(site.Port);

            // 1. Connected: every batch crosses.
            foreach (var device in devices)
            {
                await device.ConnectAsync(site.Port);
            }

            await Task.WhenAll(devices.Select(d => d.PublishAsync(BatchesPerDevice)));
            await Eventually.UntilAsync(() => AllArrived(subscriber, devices), "the first batches reach the central subscriber", Patience, TimeSpan.FromMilliseconds(50));

            // 2. Uplink outage: the central broker dies (kill -9); the site broker queues.
            await central.KillAsync();
            await Eventually.UntilAsync(() => siteState.Received.LastOrDefault(m => m.Topic.StartsWith("ntp/bridge/", StringComparison.Ordinal)).Payload == "0", "the site broker shows the bridge down", Patience);
            await Task.WhenAll(devices.Select(d => d.PublishAsync(BatchesPerDevice)));
            var beforeSiteKill = devices.ToDictionary(d => d.Topic, d => d.Acknowledged.Count);

            // 3. During the outage the site broker dies too (kill -9) and comes back from its snapshot.
            await siteState.DisposeAsync();
            await site.KillAsync();
            foreach (var device in devices)
            {
                await device.DisposeAsync();
            }

            await site.StartAsync();
            devices = [.. BridgeBrokers.Devices.Select((d, i) => Continue(d, brokers, devices[i]))];
            foreach (var device in devices)
            {
                await device.ConnectAsync(site.Port);
            }

            await Task.WhenAll(devices.Select(d => d.PublishAsync(BatchesPerDevice)));

            // 4. The uplink is back: the central broker starts on the same port with its own persistence.
            await central.StartAsync();
            await subscriber.ConnectWhenUpAsync(central.Port, Patience);
            await Eventually.UntilAsync(() => LastArrived(subscriber, devices), "the batches of the outage reach the central subscriber", Patience, TimeSpan.FromMilliseconds(50));
            await Eventually.UntilAsync(() => StateIs(subscriber, "1"), "the central broker shows the bridge connected again", Patience);

            var lost = 0;
            var duplicates = 0;
            foreach (var device in devices)
            {
                var seqs = subscriber.Seqs(device.Topic);
                var distinct = seqs.Distinct().ToList();
                duplicates += seqs.Count - distinct.Count;

                // In order per topic: the first arrival of each seq comes after the one before it.
                Assert.Equal(distinct.Order(), distinct);

                // Exactly as sent: each payload is one the device published (seq and content agree).
                Assert.All(subscriber.Payloads(device.Topic), p => Assert.Contains($"\"energy_wh_total\":", p, StringComparison.Ordinal));

                var missing = device.Acknowledged.Except(distinct).ToList();
                lost += missing.Count;

                // Only a kill -9 of the site broker may lose anything: the batches it acknowledged
                // after its last save, so the newest ones before the kill, fewer than autosave_interval.
                var firstOfOutage = (ulong)BatchesPerDevice + 1;
                var lastBeforeKill = (ulong)beforeSiteKill[device.Topic];
                Assert.All(missing, s => Assert.InRange(s, firstOfOutage, lastBeforeKill));
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{device.Topic}: acknowledged {device.Acknowledged.Count}, arrived {distinct.Count} distinct, {seqs.Count - distinct.Count} duplicates, missing [{string.Join(',', missing)}]"));
            }

            Assert.True(lost < brokers.AutosaveInterval, $"lost {lost} batches across the site broker's kill -9; the bound is autosave_interval ({brokers.AutosaveInterval})");
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"total: {devices.Sum(d => d.Acknowledged.Count)} acknowledged by the site broker, {lost} lost at its kill -9, {duplicates} duplicates (removed by (site, device, seq))"));
        }
        catch
        {
            output.WriteLine(brokers.SiteBroker.Output);
            output.WriteLine(brokers.Central.Output);
            throw;
        }
        finally
        {
            foreach (var device in devices)
            {
                await device.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Only_the_sites_own_topics_cross_the_bridge()
    {
        // The central broker allows any login and topic: only the bridge's configuration decides.
        await using var brokers = await BridgeBrokers.StartAsync(centralChecksLogins: false);
        await using var everything = new CentralSubscriber(null, null, "#");
        await everything.ConnectAsync(brokers.Central.Port);
        await Eventually.UntilAsync(() => everything.Received.Any(m => m.Topic == $"ntp/bridge/{BridgeBrokers.Site}/state"), "the bridge is up", Patience);

        var probe = new MqttClientFactory().CreateMqttClient();
        await probe.ConnectAsync(new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", brokers.SiteBroker.Port)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithCredentials(BridgeBrokers.ProbeUser, brokers.Passwords[BridgeBrokers.ProbeUser])
            .Build());
        string[] foreign =
        [
            "ntp/v1/site-b/pi-1/readings",  // another site
            "ntp/v1/site-ab/pi-1/readings", // a site whose id starts with this one's
            "ntp/v1/other/site-a/readings",
            "homeassistant/sensor/ntp-site-a/occupancy/config",
            "ntp/ha/site-a/status",
            "site-a/ntp/v1/x",
            "ntp/v2/site-a/pi-1/readings",
        ];
        foreach (var topic in foreign)
        {
            var result = await probe.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload("x").WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
            Assert.True(result.IsSuccess, $"the site broker refused {topic}: {result.ReasonCode}");
        }

        // The site's own topic, sent last on the same connection: once it is across, the others had their chance.
        const string own = $"ntp/v1/{BridgeBrokers.Site}/pi-1/readings";
        await probe.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(own).WithPayload("own").WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
        await Eventually.UntilAsync(() => everything.Received.Any(m => m.Topic == own), "the site's own topic crosses", Patience);

        var crossed = everything.Received.Select(m => m.Topic).Where(t => !t.StartsWith($"ntp/v1/{BridgeBrokers.Site}/", StringComparison.Ordinal) && t != $"ntp/bridge/{BridgeBrokers.Site}/state").ToList();
        Assert.Empty(crossed);
        await probe.DisconnectAsync();
        probe.Dispose();
    }

    [Fact]
    public async Task The_central_acl_lets_a_bridge_write_only_its_own_site()
    {
        await using var brokers = await BridgeBrokers.StartAsync(centralChecksLogins: true);
        var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", brokers.Central.Port)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithClientId("bridge-acl-probe")
            .WithCredentials(BridgeBrokers.BridgeUser, brokers.Passwords[BridgeBrokers.BridgeUser])
            .Build());
        async Task<MqttClientPublishReasonCode> Publish(string topic) =>
            (await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload("x").WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build())).ReasonCode;

        // Allowed: accepted, whether or not anyone subscribes (0x10 "no matching subscribers" is a success).
        MqttClientPublishReasonCode[] accepted = [MqttClientPublishReasonCode.Success, MqttClientPublishReasonCode.NoMatchingSubscribers];
        Assert.Contains(await Publish($"ntp/v1/{BridgeBrokers.Site}/pi-1/readings"), accepted);
        Assert.Contains(await Publish($"ntp/bridge/{BridgeBrokers.Site}/state"), accepted);
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, await Publish("ntp/v1/site-b/pi-1/readings"));
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, await Publish("ntp/v1/site-ab/pi-1/readings"));
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, await Publish("ntp/bridge/site-b/state"));
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, await Publish("homeassistant/status"));
        await client.DisconnectAsync();
        client.Dispose();
    }

    private static BridgeDevice Continue(string user, BridgeBrokers brokers, BridgeDevice before)
    {
        // The agent's seq survives restarts: the new connection goes on where the last one stopped.
        var next = new BridgeDevice(user, brokers.Passwords[user]);
        next.Resume(before.Acknowledged);
        return next;
    }

    private static bool StateIs(CentralSubscriber subscriber, string state) =>
        subscriber.Received.LastOrDefault(m => m.Topic == $"ntp/bridge/{BridgeBrokers.Site}/state").Payload == state;

    private static bool AllArrived(CentralSubscriber subscriber, IEnumerable<BridgeDevice> devices) =>
        devices.All(d => d.Acknowledged.All(subscriber.Seqs(d.Topic).ToHashSet().Contains));

    /// <summary>
    /// The newest batch of every device is across. One bridge connection carries one queue in
    /// order, so whatever the site broker still held arrived before it.
    /// </summary>
    private static bool LastArrived(CentralSubscriber subscriber, IEnumerable<BridgeDevice> devices) =>
        devices.All(d => subscriber.Seqs(d.Topic).Contains(d.Acknowledged[^1]));
}
