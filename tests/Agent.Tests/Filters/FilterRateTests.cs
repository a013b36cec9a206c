using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Readers.Climate;
using NewTechPark.Edge.Agent.Readers.Dc;
using NewTechPark.Edge.Agent.Readers.Filters;
using NewTechPark.Edge.Agent.Tests.Support;
using NewTechPark.Edge.Simulation.Scenario;
using Xunit.Abstractions;

namespace NewTechPark.Edge.Agent.Tests.Filters;

/// <summary>
/// Readings per hour that a default DC bench (INA219 every 100 ms) and a default climate sensor
/// (BME280 every 30 s) publish with and without the filters of the sample settings, from the
/// simulation's bench and room-air models with sensor-like noise added (seeded), through the real
/// reading factories (rounding) and the real filter. The figures are printed for the README.
/// </summary>
public sealed class FilterRateTests(ITestOutputHelper output)
{
    private static readonly DateTimeOffset Start = new(2026, 11, 26, 9, 0, 0, TimeSpan.Zero);

    private static FilterOptions Filters(TimeSpan? throttle = null, TimeSpan? heartbeat = null, params (string Field, double Delta)[] delta)
    {
        var options = new FilterOptions { Throttle = throttle, Heartbeat = heartbeat };
        foreach (var (field, value) in delta)
        {
            options.Delta[field] = value;
        }

        return options;
    }

    /// <summary>
    /// The DC sample settings: deadband 10 mA / 50 mV, heartbeat 5 s (so a steady bench keeps a
    /// trace in the DC-Lab page's shortest live window, 10 s).
    /// </summary>
    private static FilterOptions DcDeadband(TimeSpan? throttle = null) =>
        Filters(throttle, TimeSpan.FromSeconds(5), (DcReadings.Fields[1], 0.01), (DcReadings.Fields[0], 0.05));

    /// <summary>The climate sample settings: 0.1 °C, 1 %RH, 0.5 hPa, 25 ppm, heartbeat 5 minutes.</summary>
    private static FilterOptions ClimateDeadband() =>
        Filters(null, null, (ClimateValues.TemperatureC, 0.1), (ClimateValues.HumidityPct, 1), (ClimateValues.PressureHpa, 0.5), (ClimateValues.Co2Ppm, 25));

    private static long Bench(FilterOptions? filters, bool inUse)
    {
        var model = new BenchModel(0);
        var noise = new Random(15);
        var sink = new RecordingSink();
        var filter = filters is null ? null : new ReadingFilter(filters, sink);
        for (var i = 0; i < 36_000; i++)
        {
            var at = Start.AddMilliseconds(i * 100);
            var (volts, amps) = model.At(at, inUse);
            // About one LSB of noise: 4 mV on the bus voltage, 0.1 mA on the current (0.1 Ω shunt).
            volts += (noise.NextDouble() - 0.5) * 0.008;
            amps += (noise.NextDouble() - 0.5) * 0.0002;
            var reading = DcReadings.Create("dc-bench-1", at, volts, amps, volts * amps);
            if (filter is null)
            {
                sink.TryAdd(reading);
            }
            else
            {
                filter.TryAdd(reading);
            }
        }

        return sink.Readings.Count;
    }

    private static long Climate(FilterOptions? filters, bool classInRoom)
    {
        var air = new RoomAir(volumeM3: 250);
        var noise = new Random(15);
        var sink = new RecordingSink();
        var filter = filters is null ? null : new ReadingFilter(filters, sink);
        // Settle the room first (an empty hour), then measure an hour.
        for (var s = 0; s < 3600; s += 30)
        {
            air.Advance(TimeSpan.FromSeconds(30), 0);
        }

        for (var s = 0; s < 3600; s += 30)
        {
            // A class of 28 for the first 45 minutes of the hour.
            air.Advance(TimeSpan.FromSeconds(30), classInRoom && s < 45 * 60 ? 28 : 0);
            // BME280 noise with its default oversampling: about 0.01 °C, 0.05 %RH, 0.02 hPa.
            var reading = ClimateValues.Create("climate-dc-lab", Start.AddSeconds(s),
                celsius: air.Celsius + ((noise.NextDouble() - 0.5) * 0.02),
                humidity: air.HumidityPct + ((noise.NextDouble() - 0.5) * 0.1),
                hpa: air.PressureHpa + ((noise.NextDouble() - 0.5) * 0.04));
            if (filter is null)
            {
                sink.TryAdd(reading);
            }
            else
            {
                filter.TryAdd(reading);
            }
        }

        return sink.Readings.Count;
    }

    [Fact]
    public void Readings_per_hour_with_and_without_the_sample_filters()
    {
        var rows = new (string What, long InUse, long Idle)[]
        {
            ("dc bench, 100 ms, no filter", Bench(null, true), Bench(null, false)),
            ("dc bench, deadband 10 mA / 50 mV, heartbeat 5 s", Bench(DcDeadband(), true), Bench(DcDeadband(), false)),
            ("dc bench, throttle 1 s (means)", Bench(Filters(TimeSpan.FromSeconds(1)), true), Bench(Filters(TimeSpan.FromSeconds(1)), false)),
            ("dc bench, throttle 1 s + deadband, heartbeat 5 s", Bench(DcDeadband(TimeSpan.FromSeconds(1)), true), Bench(DcDeadband(TimeSpan.FromSeconds(1)), false)),
            ("climate bme280, 30 s, no filter", Climate(null, true), Climate(null, false)),
            ("climate bme280, deadband 0.1 °C / 1 %RH / 0.5 hPa, heartbeat 5 min", Climate(ClimateDeadband(), true), Climate(ClimateDeadband(), false)),
        };
        output.WriteLine("| sensor and filter | readings/hour, in use | readings/hour, idle |");
        output.WriteLine("|---|---|---|");
        foreach (var (what, inUse, idle) in rows)
        {
            output.WriteLine($"| {what} | {inUse:N0} | {idle:N0} |");
        }

        Assert.Equal(36_000, rows[0].InUse);
        Assert.Equal(120, rows[4].Idle);
        // Idle, a deadband leaves the heartbeats (and the first reading).
        Assert.InRange(rows[1].Idle, 720, 721);
        Assert.InRange(rows[3].Idle, 720, 721);
        Assert.InRange(rows[5].Idle, 12, 13);
        // A throttle gives one mean a window whatever happens.
        Assert.InRange(rows[2].InUse, 3599, 3600);
        // In use, a deadband keeps about half of a load that never stops moving (the motor's
        // ripple, the LED driver's flicker); throttle and deadband together keep under 5 %.
        Assert.InRange(rows[1].InUse, rows[0].InUse / 4, rows[0].InUse * 3 / 4);
        Assert.InRange(rows[3].InUse, 1, rows[0].InUse / 20);
        Assert.InRange(rows[5].InUse, 13, rows[4].InUse / 4);
    }
}
