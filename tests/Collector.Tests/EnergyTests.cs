using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Energy;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Collector.Storage.Rollups;
using NewTechPark.Edge.Contracts.Payloads;
using static NewTechPark.Edge.Collector.Tests.TestData;

namespace NewTechPark.Edge.Collector.Tests;

public sealed class EnergyTests : IDisposable
{
    public static readonly SiteModel MeteredSite = SmallSite with
    {
        Meters =
        [
            new Meter { Id = "meter-grid", Role = "grid", PulsesPerKwh = 1000, Room = Hall, Device = "pi-entrance" },
            new Meter { Id = "meter-solar", Role = "solar", PulsesPerKwh = 1000, Room = Hall, Device = "pi-entrance" },
        ],
    };

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>The grid meter draws a steady 1 kW and the solar meter makes 250 W, read every 15 minutes.</summary>
    private static void Steady(SqliteStore store, DateTimeOffset from, DateTimeOffset to, Func<DateTimeOffset, double, double>? grid = null, Func<DateTimeOffset, bool>? lost = null)
    {
        var readings = new List<Reading>();
        var i = 0;
        for (var t = from; t <= to; t = t.AddMinutes(15), i++)
        {
            if (lost?.Invoke(t) == true)
            {
                continue;
            }

            var gridTotal = 1_000_000 + (250.0 * i);
            readings.Add(new Reading { Ts = t, Sensor = "meter-grid", Kind = ReadingKinds.Energy, Values = new() { ["power_w"] = 1000, ["energy_wh_total"] = grid?.Invoke(t, gridTotal) ?? gridTotal } });
            readings.Add(new Reading { Ts = t, Sensor = "meter-solar", Kind = ReadingKinds.Energy, Values = new() { ["power_w"] = 250, ["energy_wh_total"] = 500 + (62.5 * i) } });
        }

        var seq = 1UL;
        foreach (var chunk in readings.Chunk(500))
        {
            store.Commit([Batch("pi-entrance", seq++, from, chunk)]);
        }
    }

    private EnergyService Service(SqliteStore store) => new(MeteredSite, new StoreQueries(store), Options.Create(new CollectorOptions()));

    [Fact]
    public void The_spring_night_of_29_March_2026_makes_a_local_day_of_23_hours()
    {
        using var store = Store(_dir);
        var day = new DateTimeOffset(2026, 3, 29, 0, 0, 0, TimeSpan.FromHours(1));
        Steady(store, day.AddDays(-1), day.AddDays(2));
        var energy = Service(store);

        var days = energy.Report(day, day.AddHours(23), CalendarBucket.Day);
        var sunday = Assert.Single(days.Buckets);
        Assert.Equal("2026-03-29", sunday.Label);
        Assert.Equal(23, sunday.Hours);
        Assert.Equal(23_000, sunday.GridImportWh);
        Assert.Equal(23 * 250, sunday.SolarWh);
        Assert.Equal(23 * 250, sunday.SelfConsumptionWh);
        Assert.Equal(23_000 + (23 * 250), sunday.ConsumptionWh);
        Assert.Equal(23 * 0.33, sunday.Co2Kg, 3);

        var hours = energy.Report(day, day.AddHours(23), CalendarBucket.Hour);
        Assert.Equal(23, hours.Buckets.Count);
        Assert.All(hours.Buckets, h => Assert.Equal(1000, h.GridImportWh));
        Assert.DoesNotContain(hours.Buckets, h => h.Label.StartsWith("2026-03-29T02:", StringComparison.Ordinal)); // 02:00–03:00 does not exist
        var grid = hours.Meters.Single(m => m.Meter == "meter-grid");
        Assert.All(grid.Buckets, b => Assert.Equal(1000, b.MeanPowerW));

        var monday = energy.Report(day.AddHours(23), day.AddHours(47), CalendarBucket.Day).Buckets.Single();
        Assert.Equal(24, monday.Hours);
        Assert.Equal(24_000, monday.GridImportWh);
    }

    [Fact]
    public void The_autumn_night_of_25_October_2026_makes_a_local_day_of_25_hours()
    {
        using var store = Store(_dir);
        var day = new DateTimeOffset(2026, 10, 25, 0, 0, 0, TimeSpan.FromHours(2));
        Steady(store, day.AddDays(-1), day.AddDays(2));
        var energy = Service(store);

        var sunday = energy.Report(day, day.AddHours(25), CalendarBucket.Day).Buckets.Single();
        Assert.Equal(25, sunday.Hours);
        Assert.Equal(25_000, sunday.GridImportWh);
        var hours = energy.Report(day, day.AddHours(25), CalendarBucket.Hour).Buckets;
        Assert.Equal(25, hours.Count);
        Assert.Equal(2, hours.Count(h => h.Label.StartsWith("2026-10-25T02:", StringComparison.Ordinal))); // 02:00–03:00 twice
        Assert.All(hours, h => Assert.Equal(1000, h.GridImportWh));

        // The month holds every hour once: October 2026 has 31 × 24 + 1 hours, of which the data covers three days.
        var october = energy.Report(day, day.AddHours(1), CalendarBucket.Month).Buckets.Single();
        Assert.Equal((31 * 24) + 1, october.Hours);
        Assert.Equal(energy.Report(day.AddDays(-1), day.AddDays(2).AddHours(1), CalendarBucket.Day).Buckets.Sum(b => b.GridImportWh), october.GridImportWh);
    }

    [Fact]
    public void A_meter_reset_books_no_negative_and_no_spike_and_a_lost_reading_is_closed()
    {
        using var store = Store(_dir);
        var day = new DateTimeOffset(2026, 6, 10, 0, 0, 0, TimeSpan.FromHours(2));
        var reset = day.AddHours(14);
        // At 14:00 the meter is swapped: its total starts again from 0 (the 15 minutes before the swap are lost).
        // From 09:15 to 10:45 nothing arrives (Wi-Fi down); the total at 11:00 closes the gap.
        Steady(store, day.AddDays(-1), day.AddDays(1),
            grid: (t, total) => t >= reset ? total - 1_000_000 - (250.0 * 4 * 38) : total,
            lost: t => t > day.AddHours(9) && t < day.AddHours(11));
        var energy = Service(store);

        var wednesday = energy.Report(day, day.AddDays(1), CalendarBucket.Day);
        Assert.Equal(24_000 - 250, wednesday.Buckets.Single().GridImportWh);
        Assert.Equal(1, wednesday.Meters.Single(m => m.Meter == "meter-grid").Buckets.Single().CounterResets);
        var hours = energy.Report(day, day.AddDays(1), CalendarBucket.Hour).Buckets;
        Assert.All(hours, h => Assert.InRange(h.GridImportWh, 0, 3000));
        Assert.Equal(0, hours.Single(h => h.Label.StartsWith("2026-06-10T10:", StringComparison.Ordinal)).GridImportWh);
        Assert.Equal(2000 + 750, hours.Single(h => h.Label.StartsWith("2026-06-10T11:", StringComparison.Ordinal)).GridImportWh); // 09:00–11:00 booked with 11:00
        Assert.Equal(750, hours.Single(h => h.Label.StartsWith("2026-06-10T14:", StringComparison.Ordinal)).GridImportWh);
    }
}
