using NewTechPark.Edge.EndToEnd.Tests.Infrastructure;

namespace NewTechPark.Edge.EndToEnd.Tests;

/// <summary>The README's main command: the collector with <c>--demo</c> shows people in rooms within 30 seconds.</summary>
public sealed class DemoTests
{
    [Fact]
    public async Task The_demo_puts_people_in_rooms_within_30_seconds_over_real_mqtt()
    {
        await using var collector = await RunningCollector.StartAsync(demo: true);
        var occupancy = await collector.EventuallyAsync<OccupancyDto>("/api/v1/occupancy",
            o => o.Building > 0 && o.Rooms.Any(r => r.Room != "ontmoetingsplek" && r.Count > 0), TimeSpan.FromSeconds(30));
        Assert.True(occupancy.Rooms.Sum(r => r.Count) <= occupancy.Building, "more people in rooms than in the building");
        Assert.All(occupancy.Rooms, r => Assert.Equal(0, r.Drift));

        // Every simulated Pi of the site file is online, and the DC benches are being measured.
        var devices = await collector.EventuallyAsync<List<DeviceDto>>("/api/v1/devices",
            list => list.Count > 0 && list.All(d => d.State == "online"), TimeSpan.FromSeconds(10));
        Assert.Contains(devices, d => d.Device == "pi-dc-lab");
        var series = await collector.EventuallyAsync<SeriesDto>("/api/v1/series?sensor=dc-bench-1&field=power_w&points=10",
            s => s.Points.Count > 0, TimeSpan.FromSeconds(10));
        Assert.All(series.Points, p => Assert.True(p.Max > 0));
    }
}
