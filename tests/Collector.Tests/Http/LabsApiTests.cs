using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Contracts.Payloads;
using NewTechPark.Edge.Contracts.Topics;

namespace NewTechPark.Edge.Collector.Tests.Http;

/// <summary><c>GET /api/v1/labs</c>: the kiosk's lab slides in one call.</summary>
public sealed class LabsApiTests
{
    [Fact]
    public async Task Every_lab_of_the_site_file_with_its_air_and_energy_where_it_has_the_sensors()
    {
        await using var collector = await InProcessCollector.StartAsync();
        var store = collector.Services.GetRequiredService<SqliteStore>();
        var now = DateTimeOffset.UtcNow;
        var zone = TimeZoneInfo.FindSystemTimeZoneById("Europe/Amsterdam");
        var localDate = TimeZoneInfo.ConvertTime(now, zone).Date;
        var midnight = new DateTimeOffset(localDate, zone.GetUtcOffset(localDate));
        Reading At(DateTimeOffset ts, string sensor, string kind, Dictionary<string, double> values) => new() { Ts = ts, Sensor = sensor, Kind = kind, Values = values };
        // The DC-Lab: a battery thermometer (no CO2), its room sensor with CO2, and its meter (300 Wh since midnight).
        Reading[] readings =
        [
            At(now.AddMinutes(-3), "temp-dc-lab-battery", "climate", new() { ["temperature_c"] = 35.0 }),
            At(now.AddMinutes(-2), "climate-dc-lab", "climate", new() { ["temperature_c"] = 22.5, ["co2_ppm"] = 650 }),
            At(midnight.AddSeconds(30), "meter-dc-lab", "energy", new() { ["power_w"] = 100, ["energy_wh_total"] = 7_000 }),
            At(now.AddSeconds(-10), "meter-dc-lab", "energy", new() { ["power_w"] = 100, ["energy_wh_total"] = 7_300 }),
        ];
        store.Commit([new ReadingsItem(new TopicAddress("newtechpark", "pi-dc-lab", TopicChannel.Readings), new ReadingsBatch { Seq = 1, Sent = now, Readings = readings }, now)]);
        // The Climate Experience Room's air was measured an hour ago: not "now" any more.
        store.Commit([new ReadingsItem(new TopicAddress("newtechpark", "pi-climate", TopicChannel.Readings),
            new ReadingsBatch { Seq = 1, Sent = now, Readings = [At(now.AddHours(-1), "climate-cer", "climate", new() { ["temperature_c"] = 19.0, ["co2_ppm"] = 480 })] }, now)]);

        var response = await collector.Http.GetAsync("/api/v1/labs");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(localDate.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), result.GetProperty("date").GetString());
        var labs = result.GetProperty("labs").EnumerateArray().ToList();
        Assert.Equal(["technodiscovery", "creatieve-zorgwerkplaats", "waterloopkundig-lab", "dc-lab", "3d-printlab", "climate-experience-room", "medical-technology"],
            labs.Select(l => l.GetProperty("room").GetString()));

        var dcLab = labs.Single(l => l.GetProperty("room").GetString() == "dc-lab");
        Assert.Equal("DC-Lab", dcLab.GetProperty("name").GetProperty("nl").GetString());
        Assert.Equal(0, dcLab.GetProperty("count").GetInt64());
        Assert.Equal(0, dcLab.GetProperty("entries_today").GetInt64());
        var air = dcLab.GetProperty("air");
        Assert.Equal("climate-dc-lab", air.GetProperty("sensor").GetString());
        Assert.Equal(650, air.GetProperty("co2_ppm").GetDouble());
        Assert.Equal(22.5, air.GetProperty("temperature_c").GetDouble());
        Assert.Equal(300, dcLab.GetProperty("energy_wh_today").GetDouble());

        var cer = labs.Single(l => l.GetProperty("room").GetString() == "climate-experience-room");
        Assert.Equal(JsonValueKind.Null, cer.GetProperty("air").ValueKind);
        var medical = labs.Single(l => l.GetProperty("room").GetString() == "medical-technology");
        Assert.Equal(JsonValueKind.Null, medical.GetProperty("air").ValueKind);
        Assert.Equal(JsonValueKind.Null, medical.GetProperty("energy_wh_today").ValueKind);

        Assert.Contains("\"/api/v1/labs\"", await collector.Http.GetStringAsync("/openapi/v1.json"), StringComparison.Ordinal);
    }
}
