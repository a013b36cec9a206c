using NewTechPark.Edge.Simulation.Scenario;

namespace NewTechPark.Edge.Agent.Tests;

/// <summary>The scenario library: deterministic for a seed, with the magnitudes of the centre's annual report.</summary>
public sealed class ScenarioTests
{
    private static IReadOnlyList<DayPlan> Year(int seed)
    {
        var calendar = new SiteCalendar(seed);
        return Enumerable.Range(0, 365).Select(d => calendar.Plan(new DateOnly(2024, 1, 1).AddDays(d))).ToList();
    }

    [Fact]
    public void The_same_seed_gives_the_same_year_and_another_seed_another()
    {
        var a = Year(7);
        var b = Year(7);
        var c = Year(8);
        Assert.Equal(a.Select(d => (d.Open, d.EventDay, d.Visitors)), b.Select(d => (d.Open, d.EventDay, d.Visitors)));
        Assert.NotEqual(a.Select(d => d.Visitors), c.Select(d => d.Visitors));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2026)]
    public void A_year_has_the_annual_reports_magnitudes(int seed)
    {
        var year = Year(seed);
        var pupils = year.SelectMany(d => d.Groups).Where(g => g.Kind == GroupKind.SchoolClass).Sum(g => g.Size);
        var classes = year.SelectMany(d => d.Groups).Where(g => g.Kind == GroupKind.SchoolClass).ToList();
        var events = year.Count(d => d.EventDay);
        var eventVisitors = year.SelectMany(d => d.Groups).Where(g => g.Kind == GroupKind.EventVisitors).Select(g => g.Size).ToList();
        var mboPerWeek = year.SelectMany(d => d.Groups).Where(g => g.Kind == GroupKind.MboGroup).Sum(g => g.Size) / 52.0;
        var festival = year.SelectMany(d => d.Groups).Where(g => g.Kind == GroupKind.FestivalClass).Sum(g => g.Size);
        var visitors = year.Sum(d => d.Visitors) - festival;

        Assert.InRange(pupils, 3_000, 5_000); // Technodiscovery: 3,500-4,500 a year
        Assert.All(classes, c => Assert.InRange(c.Size, 25, 30));
        Assert.InRange(events, 40, 80); // 50-70 events a year
        Assert.All(eventVisitors, v => Assert.InRange(v, 120, 450)); // hundreds per event day
        Assert.InRange(mboPerWeek, 50, 110); // about 90-100 MBO students a week in term time
        Assert.InRange(visitors, 12_000, 30_000); // 15,000-17,000 unique visitors, more visits
        Assert.InRange(festival, 4_000, 5_600); // the festival: 3,500 PO/VMBO and 1,300 VO pupils in three weeks
        Assert.All(year.Where(d => d.Date.DayOfWeek == DayOfWeek.Sunday), d => Assert.False(d.Open));
    }

    [Fact]
    public void The_sun_makes_nothing_at_night_and_most_around_noon_in_summer()
    {
        var solar = new SolarModel(seed: 3, peakKw: 60);
        var night = new DateTimeOffset(2026, 6, 21, 0, 0, 0, TimeSpan.FromHours(2));
        var noon = new DateTimeOffset(2026, 6, 21, 13, 40, 0, TimeSpan.FromHours(2));
        var winterNoon = new DateTimeOffset(2026, 12, 21, 12, 40, 0, TimeSpan.FromHours(1));
        Assert.Equal(0, solar.PowerW(night));
        Assert.InRange(solar.ElevationDegrees(noon), 60, 62); // 90 - 52.2 + 23.4
        Assert.InRange(solar.ElevationDegrees(winterNoon), 13, 15.5);
        Assert.True(solar.PowerW(noon) > 0);
        Assert.True(solar.PowerW(noon) <= 60_000);
    }

    [Fact]
    public void Co2_rises_with_people_in_the_room_and_falls_back_when_they_leave()
    {
        var air = new RoomAir(volumeM3: 150, airChangesPerHour: 2);
        var start = air.Co2Ppm;
        for (var minute = 0; minute < 60; minute++)
        {
            air.Advance(TimeSpan.FromMinutes(1), people: 28);
        }

        var full = air.Co2Ppm;
        Assert.InRange(full, 1000, 2000); // a class in a classroom-sized lab
        for (var minute = 0; minute < 120; minute++)
        {
            air.Advance(TimeSpan.FromMinutes(1), people: 0);
        }

        Assert.True(full > start);
        Assert.InRange(air.Co2Ppm, RoomAir.OutdoorCo2Ppm, 500);
    }

    [Fact]
    public void Returning_visitors_reuse_earlier_cards()
    {
        var pool = new VisitorPool(seed: 11, returningShare: 0.3);
        var cards = Enumerable.Range(0, 1000).Select(_ => Convert.ToHexString(pool.Next())).ToList();
        var distinct = cards.Distinct().Count();
        Assert.InRange(distinct, 600, 780);
        Assert.All(cards, c => Assert.True(c.Length is 8 or 14));
        Assert.DoesNotContain(cards, c => c.StartsWith("88", StringComparison.Ordinal) && c.Length == 8);
    }

    [Fact]
    public void A_pulse_train_makes_the_energy_of_the_power_it_is_given_as_pulses_a_meter_reader_counts()
    {
        var driver = new Simulation.SimulatedGpioDriver();
        using var gpio = new System.Device.Gpio.GpioController(driver);
        gpio.OpenPin(22, System.Device.Gpio.PinMode.InputPullUp);
        var timeline = new Timeline();
        var train = new PulseTrain(driver, 22, pulsesPerKwh: 1000, timeline);
        train.Idle();
        var counter = new Readers.Energy.S0PulseCounter(1000, TimeSpan.FromMilliseconds(20), TimeSpan.FromMinutes(5));
        var t0 = DateTimeOffset.UnixEpoch;
        var now = t0;
        gpio.RegisterCallbackForPinValueChangedEvent(22, System.Device.Gpio.PinEventTypes.Rising | System.Device.Gpio.PinEventTypes.Falling,
            (_, e) => counter.OnLevel(e.ChangeType == System.Device.Gpio.PinEventTypes.Falling, now));

        // 3.6 kW for ten simulated minutes in steps of 10 ms: 600 Wh = 600 pulses, one a second.
        for (var ms = 0; ms <= 600_000; ms += 10)
        {
            now = t0.AddMilliseconds(ms);
            train.Advance(now, ms == 0 ? TimeSpan.Zero : TimeSpan.FromMilliseconds(10), 3600);
            timeline.RunDue(now);
        }

        now = now.AddSeconds(1);
        timeline.RunDue(now);
        Assert.InRange(train.Pulses, 599, 600);
        Assert.Equal(train.Pulses, counter.Pulses);
        Assert.InRange(counter.PowerW(now.AddMilliseconds(-900))!.Value, 3590, 3610);
    }

    [Fact]
    public void The_scenario_clock_runs_at_its_factor()
    {
        var real = Support.TestClock.Create();
        var origin = new DateTimeOffset(2026, 3, 2, 8, 0, 0, TimeSpan.FromHours(1));
        var clock = new ScenarioClock(real, origin, factor: 60);
        real.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(origin.AddHours(1), clock.Now);
        Assert.Equal(TimeSpan.FromSeconds(1), clock.RealFor(TimeSpan.FromMinutes(1)));
    }
}
