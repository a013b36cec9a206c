using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Contracts.Payloads;
using NewTechPark.Edge.Contracts.Topics;

namespace NewTechPark.Edge.Collector.Tests.Http;

/// <summary><c>GET /api/v1/energy/curve</c>: the kiosk's today-against-yesterday curve and the sun's share.</summary>
public sealed class PowerCurveApiTests
{
    private static readonly TimeZoneInfo Amsterdam = TimeZoneInfo.FindSystemTimeZoneById("Europe/Amsterdam");

    private static async Task<JsonElement> Json(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    /// <summary>
    /// The default site's grid meter draws a steady 2 kW and its solar meter makes 500 W from 10:00
    /// to 16:00 local time, both read every 5 minutes (power and counter) from <paramref name="from"/> to <paramref name="to"/>.
    /// </summary>
    private static void Meters(InProcessCollector collector, DateTimeOffset from, DateTimeOffset to)
    {
        var store = collector.Services.GetRequiredService<SqliteStore>();
        var readings = new List<Reading>();
        var solarWh = 0.0;
        for (var (t, i) = (from, 0); t <= to; t = t.AddMinutes(5), i++)
        {
            var hour = TimeZoneInfo.ConvertTime(t, Amsterdam).Hour;
            var sunny = hour is >= 10 and < 16;
            // The counter at t holds the energy of the five minutes before t.
            var previousHour = TimeZoneInfo.ConvertTime(t.AddMinutes(-5), Amsterdam).Hour;
            if (i > 0 && previousHour is >= 10 and < 16)
            {
                solarWh += 500.0 / 12;
            }

            readings.Add(new Reading { Ts = t, Sensor = "meter-grid", Kind = ReadingKinds.Energy, Values = new() { ["power_w"] = 2000, ["energy_wh_total"] = 100_000 + (2000.0 / 12 * i) } });
            readings.Add(new Reading { Ts = t, Sensor = "meter-solar", Kind = ReadingKinds.Energy, Values = new() { ["power_w"] = sunny ? 500 : 0, ["energy_wh_total"] = 5_000 + solarWh } });
        }

        var seq = 1UL;
        foreach (var chunk in readings.Chunk(500))
        {
            store.Commit([new ReadingsItem(new TopicAddress("newtechpark", "pi-entrance", TopicChannel.Readings), new ReadingsBatch { Seq = seq++, Sent = to, Readings = [.. chunk] }, to)]);
        }
    }

    private static double?[] Values(JsonElement day, string name) =>
        [.. day.GetProperty(name).EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Null ? (double?)null : v.GetDouble())];

    private static int Slot(JsonElement curves, string clock) =>
        curves.GetProperty("slots").EnumerateArray().Select(s => s.GetString()).ToList().IndexOf(clock);

    [Fact]
    public async Task The_autumn_day_of_25_hours_lays_both_passes_of_two_oclock_on_the_same_slots()
    {
        await using var collector = await InProcessCollector.StartAsync();
        Meters(collector, new DateTimeOffset(2026, 10, 23, 0, 0, 0, TimeSpan.FromHours(2)), new DateTimeOffset(2026, 10, 26, 1, 0, 0, TimeSpan.FromHours(1)));

        var response = await collector.Http.GetAsync("/api/v1/energy/curve?date=2026-10-25");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var curves = await Json(response);
        Assert.Equal(15, curves.GetProperty("step_minutes").GetInt32());
        Assert.Equal("Europe/Amsterdam", curves.GetProperty("time_zone").GetString());
        Assert.Equal(96, curves.GetProperty("slots").GetArrayLength());
        Assert.Equal("00:00", curves.GetProperty("slots")[0].GetString());
        Assert.Equal("23:45", curves.GetProperty("slots")[95].GetString());

        var today = curves.GetProperty("today");
        Assert.Equal("2026-10-25", today.GetProperty("date").GetString());
        Assert.Equal(25, today.GetProperty("hours").GetDouble());
        Assert.All(Values(today, "grid_w"), w => Assert.Equal(2000, w));
        var solar = Values(today, "solar_w");
        Assert.Equal(500, solar[Slot(curves, "12:00")]);
        Assert.Equal(0, solar[Slot(curves, "20:00")]);
        Assert.Equal(2500, Values(today, "use_w")[Slot(curves, "12:00")]);
        Assert.Equal(2000, Values(today, "use_w")[Slot(curves, "02:15")]);

        // Energy over the whole local day, 25 hours of it: 50 kWh from the grid, 3 kWh from the roof.
        Assert.Equal(50_000, today.GetProperty("grid_import_wh").GetDouble(), 1);
        Assert.Equal(3_000, today.GetProperty("solar_wh").GetDouble(), 1);
        Assert.Equal(53_000, today.GetProperty("use_wh").GetDouble(), 1);
        Assert.Equal(Math.Round(3_000 / 53_000.0, 4), today.GetProperty("solar_share").GetDouble(), 3);

        var yesterday = curves.GetProperty("yesterday");
        Assert.Equal("2026-10-24", yesterday.GetProperty("date").GetString());
        Assert.Equal(24, yesterday.GetProperty("hours").GetDouble());
        Assert.Equal(48_000 + 3_000, yesterday.GetProperty("use_wh").GetDouble(), 1);
        Assert.All(Values(yesterday, "grid_w"), w => Assert.Equal(2000, w));
    }

    [Fact]
    public async Task The_spring_day_of_23_hours_leaves_the_hour_that_does_not_exist_empty()
    {
        await using var collector = await InProcessCollector.StartAsync();
        Meters(collector, new DateTimeOffset(2026, 3, 27, 0, 0, 0, TimeSpan.FromHours(1)), new DateTimeOffset(2026, 3, 30, 1, 0, 0, TimeSpan.FromHours(2)));

        var curves = await Json(await collector.Http.GetAsync("/api/v1/energy/curve?date=2026-03-29&step=30"));
        Assert.Equal(48, curves.GetProperty("slots").GetArrayLength());
        var today = curves.GetProperty("today");
        Assert.Equal(23, today.GetProperty("hours").GetDouble());
        var grid = Values(today, "grid_w");
        Assert.Null(grid[Slot(curves, "02:00")]);
        Assert.Null(grid[Slot(curves, "02:30")]);
        Assert.Equal(46, grid.Count(w => w == 2000));
        Assert.Equal(46_000, today.GetProperty("grid_import_wh").GetDouble(), 1);
        Assert.Equal(3_000, today.GetProperty("solar_wh").GetDouble(), 1);
        Assert.Equal(49_000, today.GetProperty("use_wh").GetDouble(), 1);
        Assert.Equal(24, curves.GetProperty("yesterday").GetProperty("hours").GetDouble());
    }

    [Fact]
    public async Task A_day_without_readings_has_empty_slots_and_no_share()
    {
        await using var collector = await InProcessCollector.StartAsync();

        // Today by default, on an empty store: the slots are there, every value null, no share to divide.
        var response = await collector.Http.GetAsync("/api/v1/energy/curve");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var curves = await Json(response);
        var today = curves.GetProperty("today");
        Assert.Equal(TimeZoneInfo.ConvertTime(curves.GetProperty("now").GetDateTimeOffset(), Amsterdam).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), today.GetProperty("date").GetString());
        Assert.Equal(96, today.GetProperty("grid_w").GetArrayLength());
        Assert.All(Values(today, "grid_w"), Assert.Null);
        Assert.All(Values(today, "use_w"), Assert.Null);
        Assert.Equal(0, today.GetProperty("use_wh").GetDouble());
        Assert.Equal(JsonValueKind.Null, today.GetProperty("solar_share").ValueKind);

        var past = await Json(await collector.Http.GetAsync("/api/v1/energy/curve?date=2026-01-15&step=60"));
        Assert.Equal(24, past.GetProperty("today").GetProperty("grid_w").GetArrayLength());
        Assert.All(Values(past.GetProperty("yesterday"), "solar_w"), Assert.Null);

        var openApi = await collector.Http.GetStringAsync("/openapi/v1.json");
        Assert.Contains("\"/api/v1/energy/curve\"", openApi, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_hostile_parameter_gets_a_named_problem()
    {
        (string Query, string Title)[] cases =
        [
            ("date=yesterday", "date is not valid"),
            ("date=2026-02-30", "date is not valid"),
            ("date=2026-1-5", "date is not valid"),
            ("date=2026-01-05T00:00:00Z", "date is not valid"),
            ("date=%3Cscript%3E", "date is not valid"),
            ("date=" + new string('9', 4000), "date is not valid"),
            ("date=1999-12-31", "date is out of range"),
            ("date=2199-12-31", "date is in the future"),
            ("date=9999-12-31", "date is out of range"),
            ("step=7", "step is not valid"),
            ("step=0", "step is not valid"),
            ("step=-15", "step is not valid"),
            ("step=%2B15", "step is not valid"),
            ("step=15.0", "step is not valid"),
            ("step=99999999999999999999", "step is not valid"),
            ("step=1440", "step is not valid"),
        ];
        await using var collector = await InProcessCollector.StartAsync();
        foreach (var (query, title) in cases)
        {
            var response = await collector.Http.GetAsync("/api/v1/energy/curve?" + query);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{query}: {response.StatusCode}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(title, (await Json(response)).GetProperty("title").GetString());
        }
    }
}
