using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using NewTechPark.Edge.Collector.HomeAssistant;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.EndToEnd.Tests.Infrastructure;
using NewTechPark.Edge.EndToEnd.Tests.Security;

namespace NewTechPark.Edge.EndToEnd.Tests.HomeAssistant;

/// <summary>
/// Home Assistant discovery over real MQTT, as Home Assistant would see it: a reader login
/// subscribed to <c>homeassistant/#</c> and the states. Every config is checked against what Home
/// Assistant documents (<see cref="HomeAssistantRules"/>); states arrive and parse as numbers;
/// Home Assistant's birth message brings the configs again; a stop says "offline"; unique ids are
/// the same after a restart; a room removed from the site file gets an empty retained config.
/// Run with the embedded broker and with Debian's Mosquitto on the shipped ACL.
/// </summary>
public abstract class HomeAssistantDiscoveryTests
{
    // Generous: on a CI machine whose two cores also run the browser and fault suites, 150 retained
    // messages through an in-process broker can take many seconds; a pass takes 2 s here.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static readonly string[] Settings =
    [
        "--Collector:HomeAssistant:Enabled=true",
        // Short, so that a second value of one entity shows within the test.
        "--Collector:HomeAssistant:StateInterval=00:00:01",
        "--Collector:HomeAssistant:OccupancyInterval=00:00:00.2",
    ];

    /// <summary>The broker's port once the collector runs (the embedded one's is the collector's).</summary>
    protected abstract int BrokerPort(RunningCollector collector);

    protected abstract Task<RunningCollector> StartCollectorAsync(string[] settings);

    protected abstract (string User, string Password) HomeAssistantLogin { get; }

    protected abstract string PasswordOf(string device);

    private Task<RunningCollector> StartAsync(string data, string site) =>
        StartCollectorAsync([.. Settings, $"--Collector:DataDirectory={data}", $"--Collector:SiteFile={site}"]);

    private Task<HomeAssistantListener> ListenAsync(RunningCollector collector) =>
        HomeAssistantListener.ConnectAsync(BrokerPort(collector), HomeAssistantLogin.User, HomeAssistantLogin.Password);

    private static IReadOnlyList<HomeAssistantEntity> Expected(SiteModel site, params (string Sensor, string Field)[] climate) =>
        HomeAssistantEntities.Build(site, climate.GroupBy(c => c.Sensor).ToDictionary(g => g.Key, g => (IReadOnlySet<string>)g.Select(c => c.Field).ToHashSet()));

    [Fact]
    public async Task Every_config_is_what_Home_Assistant_documents_states_are_numbers_and_a_stop_says_offline()
    {
        using var data = new TempDirectory();
        var site = SiteLoader.Load(TestSite.Path);
        var collector = await StartAsync(data.Path, TestSite.Path);
        var stopped = false;
        try
        {
            await using var ha = await ListenAsync(collector);
            var expected = Expected(site);
            await Eventually.UntilAsync(() => ha.ParsedConfigs().Count >= expected.Count, $"{expected.Count} configs arrive", Patience, TimeSpan.FromMilliseconds(50));
            await Eventually.UntilAsync(() => ha.Latest("ntp/ha/newtechpark/status") == "online", "the collector is available", Patience);

            var configs = ha.ParsedConfigs();
            var problems = configs.SelectMany(c => HomeAssistantRules.Problems(c.Key.Split('/')[1], c.Value).Select(p => $"{c.Key}: {p}")).ToList();
            Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
            Assert.Equal(expected.Select(e => $"homeassistant/{e.Component}/ntp-newtechpark/{e.ObjectId}/config").Order(), configs.Keys.Order());
            var uniqueIds = configs.Values.Select(c => c.GetProperty("unique_id").GetString()).ToList();
            Assert.Equal(uniqueIds.Count, uniqueIds.Distinct().Count());
            Assert.All(configs.Values, c => Assert.Equal("ntp/ha/newtechpark/status", c.GetProperty("availability")[0].GetProperty("topic").GetString()));

            // The energy dashboard takes each meter as it is.
            var energy = configs["homeassistant/sensor/ntp-newtechpark/meter-grid-energy/config"];
            Assert.Equal("energy", energy.GetProperty("device_class").GetString());
            Assert.Equal("total_increasing", energy.GetProperty("state_class").GetString());
            Assert.Contains(energy.GetProperty("unit_of_measurement").GetString()!, HomeAssistantRules.EnergyDashboardUnits);
            // A Pi is its own device, reached through the collector's.
            var online = configs["homeassistant/binary_sensor/ntp-newtechpark/device-pi-climate-online/config"];
            Assert.Equal("ntp-newtechpark", online.GetProperty("device").GetProperty("via_device").GetString());
            Assert.Equal("connectivity", online.GetProperty("device_class").GetString());
            // Rooms carry their capacity as an attribute.
            var room = site.Rooms[0];
            Assert.Equal($"ntp/ha/newtechpark/room-{room.Id}-occupancy/attributes", configs[$"homeassistant/sensor/ntp-newtechpark/room-{room.Id}-occupancy/config"].GetProperty("json_attributes_topic").GetString());
            await Eventually.UntilAsync(() => ha.Latest($"ntp/ha/newtechpark/room-{room.Id}-occupancy/attributes") is { } a && JsonDocument.Parse(a).RootElement.GetProperty("capacity").GetInt32() == room.Capacity,
                "the room's capacity arrives as an attribute", Patience);

            // Readings of a DC bench, a meter, a door and a climate sensor become states.
            var door = site.Doors.Single(d => d.Id == "door-main");
            await using (var pi = await MqttProbe.ConnectAsync(BrokerPort(collector), "pi-test", PasswordOf("pi-test"), configure: b => b.WithClientId("ntp-newtechpark-pi-test")))
            {
                await Publish(pi, "pi-test",
                    """{ "sensor": "dc-bench-1", "kind": "dc", "values": { "voltage_v": 24.01, "current_a": 1.52, "power_w": 36.49 } }""",
                    """{ "sensor": "meter-grid", "kind": "energy", "values": { "power_w": 2310.5, "energy_wh_total": 1234567.0 } }""",
                    """{ "sensor": "door-main", "kind": "door", "values": { "in": 1, "out": 0, "in_total": 1, "out_total": 0 } }""");
            }

            await using (var climatePi = await MqttProbe.ConnectAsync(BrokerPort(collector), "pi-climate", PasswordOf("pi-climate"), configure: b => b.WithClientId("ntp-newtechpark-pi-climate")))
            {
                await Publish(climatePi, "pi-climate", """{ "sensor": "climate-cer", "kind": "climate", "values": { "temperature_c": 21.4, "co2_ppm": 612 } }""");
            }

            await Eventually.UntilAsync(() => ha.Number("ntp/ha/newtechpark/dc-bench-1-voltage/state") == 24.01 && ha.Number("ntp/ha/newtechpark/dc-bench-1-current/state") == 1.52
                                              && ha.Number("ntp/ha/newtechpark/meter-grid-energy/state") == 1234567 && ha.Number("ntp/ha/newtechpark/meter-grid-power/state") == 2310.5,
                "the bench's and the meter's states arrive", Patience, TimeSpan.FromMilliseconds(20));
            await Eventually.UntilAsync(() => door.To == SiteModel.Outside || ha.Number($"ntp/ha/newtechpark/room-{door.To}-occupancy/state") == 1, "the room's occupancy goes to 1", Patience, TimeSpan.FromMilliseconds(20));
            await Eventually.UntilAsync(() => ha.Number("ntp/ha/newtechpark/building-occupancy/state") >= 1, "the building's occupancy goes up", Patience, TimeSpan.FromMilliseconds(20));

            // A climate sensor's entities appear with the values it reports, and no others.
            await Eventually.UntilAsync(() => ha.Number("ntp/ha/newtechpark/climate-cer-temperature/state") == 21.4 && ha.Number("ntp/ha/newtechpark/climate-cer-co2/state") == 612,
                "the climate sensor's states arrive", Patience, TimeSpan.FromMilliseconds(20));
            Assert.Null(ha.Latest("homeassistant/sensor/ntp-newtechpark/climate-cer-pressure/config"));
            Assert.Equal(HomeAssistantRules.Problems("sensor", ha.ParsedConfigs()["homeassistant/sensor/ntp-newtechpark/climate-cer-co2/config"]), []);
            await Eventually.UntilAsync(() => ha.Latest("ntp/ha/newtechpark/device-pi-climate-online/state") == "ON", "the climate Pi shows online", Patience, TimeSpan.FromMilliseconds(20));

            // Every sensor state is a number (invariant culture); every binary sensor state ON or OFF.
            foreach (var config in ha.ParsedConfigs())
            {
                var topic = config.Value.GetProperty("state_topic").GetString()!;
                foreach (var state in ha.All(topic))
                {
                    if (config.Key.StartsWith("homeassistant/sensor/", StringComparison.Ordinal))
                    {
                        Assert.True(double.TryParse(state, NumberStyles.Float, CultureInfo.InvariantCulture, out _), $"{topic}: '{state}' is not a number");
                    }
                    else
                    {
                        Assert.Contains(state, new[] { "ON", "OFF" });
                    }
                }
            }

            // Home Assistant's birth message: every config comes again.
            var before = ha.ConfigMessages;
            await ha.SendBirthAsync();
            await Eventually.UntilAsync(() => ha.ConfigMessages >= before + ha.ParsedConfigs().Count, "the configs come again after Home Assistant's birth message", Patience, TimeSpan.FromMilliseconds(50));

            // A clean stop: availability goes offline, so Home Assistant shows every entity unavailable.
            await collector.DisposeAsync();
            stopped = true;
            await Eventually.UntilAsync(() => ha.Latest("ntp/ha/newtechpark/status") == "offline", "the collector says offline at its stop", Patience);
        }
        finally
        {
            if (!stopped)
            {
                await collector.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Unique_ids_survive_a_restart_and_a_room_left_out_of_the_site_file_gets_an_empty_retained_config()
    {
        using var data = new TempDirectory();
        var site = SiteLoader.Load(TestSite.Path);
        // A room no meter or sensor stands in; it goes with its doors, as a re-plan would take it out.
        var gone = site.Rooms.First(r => r.Id != "ontmoetingsplek" && !site.Meters.Any(m => m.Room == r.Id) && !site.Sensors.Any(s => s.Room == r.Id));
        var goneTopic = $"homeassistant/sensor/ntp-newtechpark/room-{gone.Id}-occupancy/config";
        var expected = Expected(site);
        var smaller = JsonNode.Parse(await File.ReadAllTextAsync(TestSite.Path))!;
        var rooms = smaller["rooms"]!.AsArray();
        rooms.Remove(rooms.First(r => (string?)r!["id"] == gone.Id));
        var doors = smaller["doors"]!.AsArray();
        foreach (var door in doors.Where(d => (string?)d!["from"] == gone.Id || (string?)d!["to"] == gone.Id).ToList())
        {
            doors.Remove(door);
        }

        var smallerSite = data.File("site-without-a-room.json");
        await File.WriteAllTextAsync(smallerSite, smaller.ToJsonString());
        var remaining = Expected(SiteLoader.Load(smallerSite));
        var removed = expected.Select(e => e.ObjectId).Except(remaining.Select(e => e.ObjectId)).ToList();
        Assert.Contains($"room-{gone.Id}-occupancy", removed);

        HashSet<string?> first;
        var collector = await StartAsync(data.Path, TestSite.Path);
        try
        {
            await using var ha = await ListenAsync(collector);
            await Eventually.UntilAsync(() => ha.ParsedConfigs().Count >= expected.Count, $"{expected.Count} configs arrive", Patience, TimeSpan.FromMilliseconds(50));
            first = [.. ha.ParsedConfigs().Values.Select(c => c.GetProperty("unique_id").GetString())];
            Assert.Contains(goneTopic, ha.Configs.Keys);
        }
        finally
        {
            await collector.DisposeAsync();
        }

        collector = await StartAsync(data.Path, smallerSite);
        try
        {
            await using var ha = await ListenAsync(collector);
            await Eventually.UntilAsync(() => ha.ParsedConfigs().Count >= remaining.Count, $"{remaining.Count} configs arrive", Patience, TimeSpan.FromMilliseconds(50));
            // Home Assistant, (re)connecting, announces itself; the collector clears what it removed.
            await ha.SendBirthAsync();
            await Eventually.UntilAsync(() => ha.All(goneTopic).Contains(string.Empty), "the removed room's config is emptied", Patience, TimeSpan.FromMilliseconds(20));
            // A subscriber that comes now gets every retained config but the removed ones.
            await using var late = await ListenAsync(collector);
            await Eventually.UntilAsync(() => late.ParsedConfigs().Count >= remaining.Count, $"{remaining.Count} retained configs arrive", Patience, TimeSpan.FromMilliseconds(50));
            Assert.Null(late.Latest(goneTopic));

            var second = ha.ParsedConfigs().Values.Select(c => c.GetProperty("unique_id").GetString()).ToHashSet();
            Assert.Equal(first.Where(id => !removed.Any(r => id == $"ntp-newtechpark-{r}")).Order(), second.Order());
            Assert.All(removed, r => Assert.DoesNotContain($"/{r}/config", string.Join(' ', ha.ParsedConfigs().Keys)));
        }
        finally
        {
            await collector.DisposeAsync();
        }
    }

    private static long _seq = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private static async Task Publish(MqttProbe device, string deviceId, params string[] readings)
    {
        var now = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
        var body = string.Join(",", readings.Select(r => r.Replace("{ \"sensor\"", $"{{ \"ts\": \"{now}\", \"sensor\"", StringComparison.Ordinal)));
        var batch = $$"""{ "v": 1, "seq": {{Interlocked.Increment(ref _seq)}}, "sent": "{{now}}", "readings": [ {{body}} ] }""";
        var result = await device.PublishAsync($"ntp/v1/newtechpark/{deviceId}/readings", batch);
        Assert.True(result.IsSuccess, $"{deviceId}'s readings refused: {result.ReasonCode} {result.ReasonString}");
    }
}

/// <summary>With the collector's embedded broker: the configs and states are injected into the MQTTnet server.</summary>
[Trait("Category", "Slow")]
public sealed class EmbeddedBrokerHomeAssistantTests : HomeAssistantDiscoveryTests
{
    protected override (string User, string Password) HomeAssistantLogin => (TestCredentials.Reader, TestCredentials.PasswordOf(TestCredentials.Reader));

    protected override int BrokerPort(RunningCollector collector) => collector.BrokerPort;

    protected override Task<RunningCollector> StartCollectorAsync(string[] settings) => RunningCollector.StartAsync(extra: settings);

    protected override string PasswordOf(string device) => TestCredentials.PasswordOf(device);

    /// <summary>
    /// MQTTnet reads the retained messages for a subscription before adding it, so a subscriber
    /// arriving mid-publish could miss a config for good: a discovery subscription brings a full
    /// publish, live, after the retained round.
    /// </summary>
    [Fact]
    public async Task A_new_discovery_subscription_brings_every_config_again()
    {
        using var data = new TempDirectory();
        var expected = HomeAssistantEntities.Build(SiteLoader.Load(TestSite.Path), new Dictionary<string, IReadOnlySet<string>>()).Count;
        await using var collector = await RunningCollector.StartAsync(extra: ["--Collector:HomeAssistant:Enabled=true", $"--Collector:DataDirectory={data.Path}"]);
        await using var first = await HomeAssistantListener.ConnectAsync(collector.BrokerPort, HomeAssistantLogin.User, HomeAssistantLogin.Password);
        await Eventually.UntilAsync(() => first.ParsedConfigs().Count >= expected, $"{expected} configs arrive", TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(50));

        await using var second = await HomeAssistantListener.ConnectAsync(collector.BrokerPort, HomeAssistantLogin.User, HomeAssistantLogin.Password);
        // The retained round, then the publish its subscription asked for (not a birth message).
        await Eventually.UntilAsync(() => second.ConfigMessages >= 2 * expected, $"{2 * expected} config messages arrive", TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(50));
        Assert.Equal(expected, second.ParsedConfigs().Count);
    }
}

/// <summary>
/// With Debian's Mosquitto on the shipped <c>hardware/mosquitto/acl</c>: the collector writes the
/// discovery and state topics as <c>ntp-collector</c>, with its will as availability, and Home
/// Assistant's user <c>homeassistant</c> reads them and sends its birth message.
/// </summary>
[Trait("Category", "Slow")]
public sealed class MosquittoHomeAssistantTests : HomeAssistantDiscoveryTests, IAsyncLifetime
{
    private SecuredMosquitto _broker = null!;

    public async Task InitializeAsync() => _broker = await SecuredMosquitto.StartAsync("homeassistant", "pi-test", "pi-climate");

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    protected override (string User, string Password) HomeAssistantLogin => ("homeassistant", _broker.Passwords["homeassistant"]);

    protected override int BrokerPort(RunningCollector collector) => _broker.PlainPort;

    protected override Task<RunningCollector> StartCollectorAsync(string[] settings) =>
        RunningCollector.StartAsync(outsideBrokerPort: _broker.PlainPort, extra: [.. settings, "--Collector:Broker:Username=ntp-collector", $"--Collector:Broker:Password={_broker.Passwords["ntp-collector"]}"]);

    protected override string PasswordOf(string device) => _broker.Passwords[device];

    [Fact]
    public async Task The_collectors_will_says_offline_when_it_dies()
    {
        using var data = new TempDirectory();
        await using var ha = await HomeAssistantListener.ConnectAsync(_broker.PlainPort, "homeassistant", _broker.Passwords["homeassistant"]);
        // A collector process, killed with kill -9: no goodbye, Mosquitto publishes its will.
        await using var collector = ChildProcess.StartDotnet("collector", "collector.dll",
        [
            "--urls=http://127.0.0.1:0", $"--Collector:DataDirectory={data.Path}", $"--Collector:SiteFile={TestSite.Path}",
            "--Collector:Broker:Embedded=false", $"--Collector:Broker:Port={_broker.PlainPort}",
            "--Collector:Broker:Username=ntp-collector", $"--Collector:Broker:Password={_broker.Passwords["ntp-collector"]}",
            "--Collector:HomeAssistant:Enabled=true",
        ]);
        await Eventually.UntilAsync(() => ha.Latest("ntp/ha/newtechpark/status") == "online" || collector.HasExited, "the collector is available", TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(50));
        Assert.False(collector.HasExited, collector.Output);
        await collector.KillAsync();
        await Eventually.UntilAsync(() => ha.Latest("ntp/ha/newtechpark/status") == "offline", "the will says offline", TimeSpan.FromSeconds(20));
    }
}
