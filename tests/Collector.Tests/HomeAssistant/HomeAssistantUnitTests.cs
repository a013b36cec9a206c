using System.Text.Json;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Broker.Security;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.HomeAssistant;
using NewTechPark.Edge.Collector.Site;

namespace NewTechPark.Edge.Collector.Tests.HomeAssistant;

/// <summary>
/// Home Assistant discovery without a broker: reader rights, the entity table of the default site,
/// stable ids, and the removal record refusing what is not its own. Over real MQTT:
/// tests/EndToEnd.Tests/HomeAssistant.
/// </summary>
public sealed class HomeAssistantUnitTests
{
    private static readonly SiteModel Site = SiteLoader.Load(Path.Combine(AppContext.BaseDirectory, "shipped-site", "default-site.json"));

    private static BrokerAuthorization Authorization(bool enabled) =>
        new(Options.Create(new CollectorOptions
        {
            Broker = new EmbeddedBrokerOptions { Readers = ["homeassistant"] },
            HomeAssistant = new HomeAssistantOptions { Enabled = enabled },
        }), Site);

    [Fact]
    public void A_reader_reads_discovery_and_states_and_may_publish_only_home_assistants_status()
    {
        var auth = Authorization(enabled: true);
        Assert.True(auth.MaySubscribe("homeassistant", "homeassistant/#"));
        Assert.True(auth.MaySubscribe("homeassistant", "ntp/ha/#"));
        Assert.True(auth.MaySubscribe("homeassistant", "ntp/v1/#"));
        Assert.False(auth.MaySubscribe("homeassistant", "#"));
        Assert.False(auth.MaySubscribe("homeassistant", "+/status"));
        Assert.True(auth.MayPublish("homeassistant", "homeassistant/status"));
        Assert.False(auth.MayPublish("homeassistant", "homeassistant/sensor/ntp-newtechpark/room-dc-lab-occupancy/config"));
        Assert.False(auth.MayPublish("homeassistant", "homeassistant/status/x"));
        Assert.False(auth.MayPublish("homeassistant", "ntp/ha/newtechpark/status"));
        Assert.False(auth.MayPublish("homeassistant", "ntp/v1/newtechpark/pi-entrance/readings"));
    }

    [Theory]
    [InlineData("homeassistant-1", true)]
    [InlineData("5Gx0QbT1nE9pZk2LmR7sWa", true)] // Home Assistant's own random id (base62)
    [InlineData("pi-entrance", false)] // a device's id: its session and queue
    [InlineData("ntp-newtechpark-pi-entrance", false)]
    [InlineData("NTP-collector", false)]
    [InlineData("", false)]
    public void A_readers_client_id_never_takes_a_devices_session(string clientId, bool allowed) =>
        Assert.Equal(allowed, Authorization(enabled: true).MayUseClientId("homeassistant", clientId));

    [Fact]
    public void Devices_get_nothing_of_home_assistant_and_readers_nothing_while_it_is_off()
    {
        var on = Authorization(enabled: true);
        Assert.False(on.MaySubscribe("pi-entrance", "homeassistant/#"));
        Assert.False(on.MayPublish("pi-entrance", "homeassistant/status"));
        Assert.False(on.MayPublish("pi-entrance", "homeassistant/sensor/ntp-newtechpark/x/config"));
        Assert.True(on.MayPublish("pi-entrance", "ntp/v1/newtechpark/pi-entrance/readings"));

        var off = Authorization(enabled: false);
        Assert.False(off.MaySubscribe("homeassistant", "homeassistant/#"));
        Assert.False(off.MayPublish("homeassistant", "homeassistant/status"));
        Assert.True(off.MaySubscribe("homeassistant", "ntp/v1/#"));
    }

    [Fact]
    public void The_default_site_gives_every_room_meter_bench_and_pi_one_entity_per_value_with_unique_stable_ids()
    {
        var climate = new Dictionary<string, IReadOnlySet<string>> { ["climate-cer"] = new HashSet<string> { "co2_ppm", "temperature_c" } };
        var first = HomeAssistantEntities.Build(Site, climate);
        var second = HomeAssistantEntities.Build(Site with { }, climate);
        Assert.Equal(first.Select(e => e.ObjectId), second.Select(e => e.ObjectId));
        Assert.Equal(first.Count, first.Select(e => e.ObjectId).Distinct().Count());

        Assert.Equal(Site.Rooms.Count, first.Count(e => e.Room is not null));
        Assert.Single(first, e => e.ObjectId == "building-occupancy");
        Assert.Equal(Site.Meters.Count * 2, first.Count(e => e.Sensor is { } s && Site.Meters.Any(m => m.Id == s)));
        Assert.Equal(Site.Sensors.Count(s => s.Kind == "dc") * 3, first.Count(e => e.Sensor is { } s && Site.Sensors.Any(x => x.Id == s && x.Kind == "dc")));
        Assert.Equal(Site.Devices.Count(), first.Count(e => e.Component == HomeAssistantEntities.BinarySensor));
        Assert.Equal(["climate-cer-co2", "climate-cer-temperature"], first.Where(e => e.Sensor == "climate-cer").Select(e => e.ObjectId).Order());
        Assert.All(first, e => Assert.Matches("^[a-z0-9-]+$", e.ObjectId));

        var energy = Assert.Single(first, e => e.ObjectId == "meter-grid-energy");
        Assert.Equal(("energy", "total_increasing", "Wh"), (energy.DeviceClass, energy.StateClass, energy.Unit));
    }

    [Fact]
    public void A_room_left_out_of_the_site_file_loses_its_entity_and_nothing_else()
    {
        var empty = new Dictionary<string, IReadOnlySet<string>>();
        var before = HomeAssistantEntities.Build(Site, empty).Select(e => e.ObjectId).ToHashSet();
        var after = HomeAssistantEntities.Build(Site with { Rooms = [.. Site.Rooms.Where(r => r.Id != "dc-lab")] }, empty).Select(e => e.ObjectId).ToHashSet();
        Assert.Equal(["room-dc-lab-occupancy"], before.Except(after));
        Assert.Empty(after.Except(before));
    }

    [Fact]
    public void A_config_names_its_device_availability_and_origin()
    {
        var topics = new HomeAssistantTopics(new HomeAssistantOptions(), Site.Site);
        var entity = HomeAssistantEntities.Build(Site, new Dictionary<string, IReadOnlySet<string>>()).First(e => e.ObjectId == "dc-bench-1-voltage");
        using var config = JsonDocument.Parse(DiscoveryConfig.Build(entity, topics, Site, "1.2.3", new Dictionary<string, string> { ["pi-dc-lab"] = "0.9.0" }));
        var root = config.RootElement;
        Assert.Equal("ntp-newtechpark-dc-bench-1-voltage", root.GetProperty("unique_id").GetString());
        Assert.Equal("ntp/ha/newtechpark/dc-bench-1-voltage/state", root.GetProperty("state_topic").GetString());
        Assert.Equal("ntp/ha/newtechpark/status", root.GetProperty("availability")[0].GetProperty("topic").GetString());
        var device = root.GetProperty("device");
        Assert.Equal("ntp-newtechpark-pi-dc-lab", device.GetProperty("identifiers")[0].GetString());
        Assert.Equal("ntp-newtechpark", device.GetProperty("via_device").GetString());
        Assert.Equal("0.9.0", device.GetProperty("sw_version").GetString());
        Assert.Equal("homeassistant/sensor/ntp-newtechpark/dc-bench-1-voltage/config", topics.Config(entity.Component, entity.ObjectId));
    }

    [Theory]
    [InlineData("homeassistant/sensor/ntp-newtechpark/room-x-occupancy/config", true)]
    [InlineData("other/binary_sensor/ntp-newtechpark/device-pi-x-online/config", true)]
    [InlineData("homeassistant/sensor/zigbee2mqtt/room-x/config", false)]
    [InlineData("homeassistant/light/ntp-newtechpark/x/config", false)]
    [InlineData("homeassistant/sensor/ntp-newtechpark/x/y/config", false)]
    [InlineData("homeassistant/sensor/ntp-newtechpark/+/config", false)]
    [InlineData("homeassistant/sensor/ntp-newtechpark/#", false)]
    [InlineData("ntp/v1/newtechpark/pi-x/status", false)]
    public void Only_own_config_topics_are_ever_cleared(string topic, bool own) =>
        Assert.Equal(own, new HomeAssistantTopics(new HomeAssistantOptions(), "newtechpark").IsOwnConfigTopic(topic));

    [Fact]
    public void A_damaged_oversized_or_foreign_record_is_ignored_with_a_reason()
    {
        using var dir = new TempDirectory();
        var path = dir.File(DiscoveryRecord.FileName);
        Assert.Empty(DiscoveryRecord.Load(path, out var none).Configs);
        Assert.Null(none);

        File.WriteAllText(path, "{ not json");
        Assert.Empty(DiscoveryRecord.Load(path, out var broken).Configs);
        Assert.Contains("cannot be read", broken);

        File.WriteAllText(path, """{ "v": 2, "configs": ["a"], "climate": {} }""");
        Assert.Empty(DiscoveryRecord.Load(path, out var version).Configs);
        Assert.NotNull(version);

        using (var big = File.Create(path))
        {
            big.SetLength(DiscoveryRecord.MaxBytes + 1);
        }

        Assert.Empty(DiscoveryRecord.Load(path, out var oversized).Configs);
        Assert.Contains("more than", oversized);

        var record = new DiscoveryRecord { Configs = ["homeassistant/sensor/ntp-newtechpark/room-x-occupancy/config"], Climate = new() { ["climate-cer"] = ["co2_ppm"] } };
        record.Save(path);
        var read = DiscoveryRecord.Load(path, out var fine);
        Assert.Null(fine);
        Assert.Equal(record.Configs, read.Configs);
        Assert.Equal(["co2_ppm"], read.Climate["climate-cer"]);
    }
}
