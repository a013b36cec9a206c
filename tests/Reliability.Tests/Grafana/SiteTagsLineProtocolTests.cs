using NewTechPark.Edge.Collector.Sinks;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Contracts.Payloads;
using NewTechPark.Edge.Contracts.Topics;

namespace NewTechPark.Edge.Reliability.Tests.Grafana;

/// <summary>The site file's facts as line-protocol tags: what the Grafana dashboards select on.</summary>
public sealed class SiteTagsLineProtocolTests
{
    private static readonly SiteModel Site = SiteLoader.Load(Path.Combine(SettingsFiles.RepositoryRoot(), "collector", "Site", "default-site.json"));

    [Fact]
    public void A_door_gets_from_and_to_a_meter_room_and_role_a_sensor_its_room_and_an_unknown_sensor_nothing()
    {
        var lines = Lines("pi-entrance",
            ("door-main", "door", "in_total", 5),
            ("meter-solar", "energy", "energy_wh_total", 1234.5),
            ("climate-entrance", "climate", "co2_ppm", 612),
            ("pi-entrance/thermometer", "climate", "temperature_c", 21));

        Assert.Equal(
        [
            "door,device=pi-entrance,from=outside,sensor=door-main,site=newtechpark,to=ontmoetingsplek in_total=5 1795856400000",
            "energy,device=pi-entrance,role=solar,room=ontmoetingsplek,sensor=meter-solar,site=newtechpark energy_wh_total=1234.5 1795856400000",
            "climate,device=pi-entrance,room=ontmoetingsplek,sensor=climate-entrance,site=newtechpark co2_ppm=612 1795856400000",
            "climate,device=pi-entrance,sensor=pi-entrance/thermometer,site=newtechpark temperature_c=21 1795856400000",
        ], lines);
    }

    [Fact]
    public void A_batch_of_another_site_gets_no_tags_from_this_sites_file()
    {
        var lines = new List<string>();
        LineProtocol.Append(Item("elsewhere", "pi-entrance", ("door-main", "door", "in_total", 5)), lines, new SiteTags(Site));
        Assert.Equal(["door,device=pi-entrance,sensor=door-main,site=elsewhere in_total=5 1795856400000"], lines);
    }

    private static List<string> Lines(string device, params (string Sensor, string Kind, string Field, double Value)[] readings)
    {
        var lines = new List<string>();
        LineProtocol.Append(Item(Site.Site, device, readings), lines, new SiteTags(Site));
        return lines;
    }

    private static ReadingsItem Item(string site, string device, params (string Sensor, string Kind, string Field, double Value)[] readings) =>
        new(new TopicAddress(site, device, TopicChannel.Readings),
            new ReadingsBatch
            {
                Seq = 1,
                Sent = DateTimeOffset.UnixEpoch,
                Readings = [.. readings.Select(r => new Reading
                {
                    Ts = DateTimeOffset.FromUnixTimeMilliseconds(1_795_856_400_000),
                    Sensor = r.Sensor,
                    Kind = r.Kind,
                    Values = new() { [r.Field] = r.Value },
                })],
            },
            DateTimeOffset.UnixEpoch);
}
