using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Readers.Climate;
using NewTechPark.Edge.Agent.Readers.Filters;
using NewTechPark.Edge.Agent.Tests.Support;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Agent.Tests.Filters;

/// <summary>Each publish filter on its own and together, driven by reading timestamps only.</summary>
public sealed class ReadingFilterTests
{
    private static readonly DateTimeOffset T0 = TestClock.Start;

    private static Reading Climate(double seconds, double celsius, double humidity = 45.0) =>
        new()
        {
            Ts = T0.AddSeconds(seconds),
            Sensor = "climate-test",
            Kind = ReadingKinds.Climate,
            Values = new(StringComparer.Ordinal) { [ClimateValues.TemperatureC] = celsius, [ClimateValues.HumidityPct] = humidity },
        };

    private static (ReadingFilter Filter, RecordingSink Sink) Make(Dictionary<string, double>? delta = null, TimeSpan? throttle = null, TimeSpan? heartbeat = null)
    {
        var options = new FilterOptions { Throttle = throttle, Heartbeat = heartbeat };
        foreach (var (field, value) in delta ?? [])
        {
            options.Delta[field] = value;
        }

        var sink = new RecordingSink();
        return (new ReadingFilter(options, sink), sink);
    }

    private static double[] Temperatures(RecordingSink sink) => [.. sink.Readings.Select(r => r.Values![ClimateValues.TemperatureC])];

    [Fact]
    public void Without_filters_the_sink_is_the_queue_itself()
    {
        var next = new RecordingSink();
        Assert.Same(next, ReadingFilter.For(new SensorOptions { Id = "dc-bench-1" }, next));
    }

    [Fact]
    public void Delta_publishes_the_first_reading_then_only_moves_of_more_than_the_delta_from_the_last_published()
    {
        var (filter, sink) = Make(new() { [ClimateValues.TemperatureC] = 0.2 });
        double[] input = [21.00, 21.10, 21.19, 21.25, 21.30, 21.40, 21.46, 21.30, 21.25];
        for (var i = 0; i < input.Length; i++)
        {
            Assert.True(filter.TryAdd(Climate(i * 10, input[i])));
        }

        // Against the last published value, not the last seen: a slow creep is published once it adds up.
        Assert.Equal([21.00, 21.25, 21.46, 21.25], Temperatures(sink));
        Assert.Equal(input.Length, filter.Received);
        Assert.Equal(4, filter.Published);
    }

    [Theory]
    [InlineData(21.3, 21.4, 0.1, false)] // exactly the delta: not more than it (ESPHome), whatever the binary fractions say
    [InlineData(21.4, 21.3, 0.1, false)]
    [InlineData(1013.2, 1013.7, 0.5, false)]
    [InlineData(0.1, 0.3, 0.2, false)]
    [InlineData(21.3, 21.41, 0.1, true)]
    [InlineData(21.3, 21.19, 0.1, true)] // down as well as up
    [InlineData(21.3, 21.3, 0, false)] // delta 0: the same value again is not published...
    [InlineData(21.3, 21.31, 0, true)] // ...any change is
    public void The_exact_threshold_is_not_a_move(double first, double second, double delta, bool published)
    {
        var (filter, sink) = Make(new() { [ClimateValues.TemperatureC] = delta });
        filter.TryAdd(Climate(0, first));
        filter.TryAdd(Climate(10, second));
        Assert.Equal(published ? 2 : 1, sink.Readings.Count);
    }

    [Fact]
    public void Any_field_with_a_delta_that_moved_publishes_the_whole_reading_and_fields_without_one_ride_along()
    {
        var (filter, sink) = Make(new() { [ClimateValues.TemperatureC] = 0.5, [ClimateValues.HumidityPct] = 2 });
        filter.TryAdd(Climate(0, 21.0, 45));
        filter.TryAdd(Climate(10, 21.1, 46)); // neither moved enough
        filter.TryAdd(Climate(20, 21.2, 47.5)); // humidity moved 2.5
        filter.TryAdd(Climate(30, 21.3, 47.0)); // neither (from 21.2 / 47.5)

        Assert.Equal([45.0, 47.5], sink.Readings.Select(r => r.Values![ClimateValues.HumidityPct]));
        Assert.Equal([21.0, 21.2], Temperatures(sink));

        // A field with no delta never publishes on its own.
        var (pressureOnly, out2) = Make(new() { [ClimateValues.TemperatureC] = 0.5 });
        pressureOnly.TryAdd(Climate(0, 21.0, 40));
        pressureOnly.TryAdd(Climate(10, 21.0, 90));
        Assert.Single(out2.Readings);
    }

    [Fact]
    public void Heartbeat_publishes_a_steady_value_once_the_last_published_is_that_old()
    {
        var (filter, sink) = Make(new() { [ClimateValues.TemperatureC] = 0.5 }, heartbeat: TimeSpan.FromMinutes(1));
        for (var s = 0; s <= 300; s += 10)
        {
            filter.TryAdd(Climate(s, s == 130 ? 22.0 : 21.0));
        }

        // 0; 60 and 120 by heartbeat; 130 moved; 140 moved back; then 60 s after 140: 200, 260.
        Assert.Equal([0.0, 60, 120, 130, 140, 200, 260], sink.Readings.Select(r => (r.Ts - T0).TotalSeconds));
    }

    [Fact]
    public void The_heartbeat_is_five_minutes_when_not_given_and_a_clock_that_went_back_publishes_at_once()
    {
        var (filter, sink) = Make(new() { [ClimateValues.TemperatureC] = 0.5 });
        filter.TryAdd(Climate(0, 21));
        filter.TryAdd(Climate(299, 21));
        filter.TryAdd(Climate(300, 21));
        filter.TryAdd(Climate(290, 21)); // NTP stepped the clock back
        Assert.Equal([0.0, 300, 290], sink.Readings.Select(r => (r.Ts - T0).TotalSeconds));
    }

    [Fact]
    public void Non_finite_values_are_no_move_no_baseline_and_never_published()
    {
        var (filter, sink) = Make(new() { [ClimateValues.TemperatureC] = 0.5 });
        filter.TryAdd(Climate(0, 21.0));
        filter.TryAdd(Climate(10, double.NaN));
        filter.TryAdd(Climate(20, double.PositiveInfinity, humidity: double.NaN)); // nothing finite left: dropped
        filter.TryAdd(Climate(30, 21.4)); // against 21.0, not against NaN
        filter.TryAdd(Climate(40, 21.6));

        Assert.Equal([0.0, 40], sink.Readings.Select(r => (r.Ts - T0).TotalSeconds));
        Assert.All(sink.Readings, r => Assert.All(r.Values!.Values, v => Assert.True(double.IsFinite(v))));

        // A heartbeat that falls on a reading with a NaN field publishes its finite fields only.
        var (beat, out2) = Make(new() { [ClimateValues.TemperatureC] = 0.5 }, heartbeat: TimeSpan.FromSeconds(30));
        beat.TryAdd(Climate(0, 21.0));
        beat.TryAdd(Climate(30, double.NaN, humidity: 50));
        Assert.Equal(2, out2.Readings.Count);
        Assert.False(out2.Readings[1].Values!.ContainsKey(ClimateValues.TemperatureC));
        Assert.Equal(50, out2.Readings[1].Values![ClimateValues.HumidityPct]);

        // The throttle leaves non-finite values out of the mean.
        var (throttle, out3) = Make(throttle: TimeSpan.FromMinutes(1));
        throttle.TryAdd(Climate(0, 20));
        throttle.TryAdd(Climate(10, double.NaN));
        throttle.TryAdd(Climate(20, 22));
        throttle.Flush();
        Assert.Equal(21, Assert.Single(out3.Readings).Values![ClimateValues.TemperatureC]);
    }

    [Fact]
    public void Throttle_publishes_one_reading_per_window_with_each_fields_mean_and_the_windows_last_time()
    {
        var (filter, sink) = Make(throttle: TimeSpan.FromMinutes(1));
        // Windows on whole minutes: the clock starts at 09:15:00.
        filter.TryAdd(Climate(0, 20.0, 40));
        filter.TryAdd(Climate(20, 21.0, 41));
        filter.TryAdd(Climate(40, 22.5, 45));
        Assert.Empty(sink.Readings); // the window is still open
        filter.TryAdd(Climate(60, 30.0, 50)); // opens the next window: the first is published
        filter.TryAdd(Climate(119.9, 32.0, 52));
        filter.TryAdd(Climate(185, 10.0, 10)); // skips a window without readings: nothing for it

        Assert.Equal(2, sink.Readings.Count);
        var first = sink.Readings[0];
        Assert.Equal(T0.AddSeconds(40), first.Ts);
        Assert.Equal(21.167, first.Values![ClimateValues.TemperatureC]); // (20 + 21 + 22.5) / 3, one decimal more than readings have
        Assert.Equal(42, first.Values[ClimateValues.HumidityPct]);
        Assert.Equal("climate-test", first.Sensor);
        Assert.Equal(ReadingKinds.Climate, first.Kind);
        var second = sink.Readings[1];
        Assert.Equal(T0.AddSeconds(119.9), second.Ts);
        Assert.Equal(31, second.Values![ClimateValues.TemperatureC]);

        // Flush (the reader stopped or failed) gives what is held, once.
        Assert.True(filter.Flush());
        Assert.True(filter.Flush());
        Assert.Equal(3, sink.Readings.Count);
        Assert.Equal(10, sink.Readings[2].Values![ClimateValues.TemperatureC]);
        Assert.Equal(T0.AddSeconds(185), sink.Readings[2].Ts);
    }

    [Fact]
    public void A_single_reading_in_a_window_goes_on_unchanged_and_a_field_missing_from_some_readings_is_averaged_over_those_that_have_it()
    {
        var (filter, sink) = Make(throttle: TimeSpan.FromSeconds(10));
        filter.TryAdd(Climate(0, 20.25));
        filter.TryAdd(Climate(10, 21.0) with { Values = new(StringComparer.Ordinal) { [ClimateValues.TemperatureC] = 21.0 } });
        filter.TryAdd(Climate(15, 23.0, humidity: 60));
        filter.Flush();

        Assert.Equal(20.25, sink.Readings[0].Values![ClimateValues.TemperatureC]);
        Assert.Equal(22, sink.Readings[1].Values![ClimateValues.TemperatureC]);
        Assert.Equal(60, sink.Readings[1].Values![ClimateValues.HumidityPct]);
    }

    [Fact]
    public void Throttle_then_delta_a_steady_mean_is_held_back_until_the_heartbeat()
    {
        var (filter, sink) = Make(new() { [ClimateValues.TemperatureC] = 0.5 }, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5));
        // A reading every 10 s for 12 minutes, steady at 21 with noise of ±0.2, a step to 23 at minute 8.
        for (var s = 0; s < 12 * 60; s += 10)
        {
            var noise = (s / 10 % 2 == 0) ? 0.2 : -0.2;
            filter.TryAdd(Climate(s, (s >= 8 * 60 ? 23 : 21) + noise));
        }

        // Means of minutes 0..10 are published as minute 11 opens: minute 0 (first), 5 (heartbeat),
        // 8 (the step), and nothing more until 13.
        Assert.Equal([0, 5, 8], sink.Readings.Select(r => (int)(r.Ts - T0).TotalMinutes));
        Assert.All(sink.Readings, r => Assert.Equal(50, r.Ts.Second));
        Assert.Equal([21.0, 21.0, 23.0], Temperatures(sink));
    }

    [Fact]
    public void A_refusing_queue_is_reported_as_false()
    {
        var filter = new ReadingFilter(new FilterOptions { Throttle = TimeSpan.FromSeconds(10) }, new RefusingSink());
        Assert.True(filter.TryAdd(Climate(0, 20)));
        Assert.False(filter.TryAdd(Climate(10, 20)));
    }

    private sealed class RefusingSink : NewTechPark.Edge.Agent.Readers.IReadingSink
    {
        public bool TryAdd(Reading reading) => false;
    }
}
