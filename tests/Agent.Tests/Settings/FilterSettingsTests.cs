using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Readers;

namespace NewTechPark.Edge.Agent.Tests.Settings;

/// <summary>Publish filters are checked at start: never on counters, only on the type's own fields, sane windows.</summary>
public sealed class FilterSettingsTests
{
    private static SensorOptions Counter(string type) => type switch
    {
        SensorTypes.DoorBeams => new() { Id = "door-dc-lab", Type = type, BeamOuterPin = 17, BeamInnerPin = 27 },
        SensorTypes.S0Meter => new() { Id = "meter-dc-lab", Type = type, PulsePin = 22 },
        SensorTypes.Mfrc522 => new() { Id = "badge-entrance", Type = type },
        _ => new() { Id = "door-tof", Type = type },
    };

    private static SensorOptions Bench(Action<FilterOptions> filters, TimeSpan? interval = null)
    {
        var sensor = new SensorOptions { Id = "dc-bench-1", Type = SensorTypes.Ina219, Address = 0x40, SampleInterval = interval ?? TimeSpan.FromMilliseconds(100) };
        filters(sensor.Filters);
        return sensor;
    }

    private static SensorOptions Climate(string type, Action<FilterOptions> filters)
    {
        var sensor = new SensorOptions { Id = "climate-test", Type = type, OneWireId = type == SensorTypes.Ds18b20 ? "28-0000075a1b2c" : null };
        filters(sensor.Filters);
        return sensor;
    }

    private static IReadOnlyList<string> Failures(SensorOptions sensor)
    {
        var options = new AgentOptions { Device = "pi-test", SiteKey = "a-site-key-of-32-characters-long", Sensors = [sensor] };
        var result = new AgentOptionsValidator().Validate(null, options);
        return result.Failed ? [.. result.Failures!] : [];
    }

    [Theory]
    [InlineData(SensorTypes.DoorBeams, "Throttle")]
    [InlineData(SensorTypes.DoorBeams, "Delta")]
    [InlineData(SensorTypes.Vl53l1xDoor, "Delta")]
    [InlineData(SensorTypes.S0Meter, "Delta")]
    [InlineData(SensorTypes.S0Meter, "Throttle")]
    [InlineData(SensorTypes.S0Meter, "Heartbeat")]
    [InlineData(SensorTypes.Mfrc522, "Throttle")]
    public void A_filter_on_a_counter_is_refused_naming_the_setting(string type, string filter)
    {
        var sensor = Counter(type);
        switch (filter)
        {
            case "Delta":
                sensor.Filters.Delta["power_w"] = 10;
                break;
            case "Throttle":
                sensor.Filters.Throttle = TimeSpan.FromMinutes(1);
                break;
            default:
                sensor.Filters.Heartbeat = TimeSpan.FromMinutes(10);
                break;
        }

        var failure = Assert.Single(Failures(sensor));
        var setting = filter == "Delta" ? "Filters:Delta:power_w" : $"Filters:{filter}";
        Assert.StartsWith($"Agent:Sensors:0 ({sensor.Id}):{setting}", failure, StringComparison.Ordinal);
        Assert.Contains("never filtered", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Counters_without_filters_and_filtered_climate_and_dc_sensors_pass()
    {
        Assert.Empty(Failures(Counter(SensorTypes.DoorBeams)));
        Assert.Empty(Failures(Bench(f =>
        {
            f.Delta["current_a"] = 0.01;
            f.Delta["voltage_v"] = 0;
            f.Throttle = TimeSpan.FromSeconds(1);
            f.Heartbeat = TimeSpan.FromMinutes(1);
        })));
        Assert.Empty(Failures(Climate(SensorTypes.Scd4x, f => f.Delta["co2_ppm"] = 25)));
        Assert.Empty(Failures(Climate(SensorTypes.Bme280, f => f.Delta["pressure_hpa"] = 0.5)));
        Assert.Empty(Failures(Climate(SensorTypes.Ds18b20, f => f.Throttle = TimeSpan.FromMinutes(5))));
    }

    [Theory]
    [InlineData(SensorTypes.Ina219, "temperature_c")]
    [InlineData(SensorTypes.Sht4x, "pressure_hpa")] // an SHT4x measures no pressure
    [InlineData(SensorTypes.Ds18b20, "humidity_pct")]
    [InlineData(SensorTypes.Bme280, "co2_ppm")]
    [InlineData(SensorTypes.Bme280, "Temperature_C")] // field names are exact
    public void A_delta_on_a_field_the_type_does_not_have_is_refused(string type, string field)
    {
        var sensor = type == SensorTypes.Ina219 ? Bench(f => f.Delta[field] = 1) : Climate(type, f => f.Delta[field] = 1);
        var failure = Assert.Single(Failures(sensor));
        Assert.StartsWith($"Agent:Sensors:0 ({sensor.Id}):Filters:Delta:{field}: '{field}' is not a value", failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-0.001)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void A_negative_or_non_finite_delta_is_refused(double delta)
    {
        var failure = Assert.Single(Failures(Bench(f => f.Delta["current_a"] = delta)));
        Assert.StartsWith("Agent:Sensors:0 (dc-bench-1):Filters:Delta:current_a", failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("00:00:00.100", null)] // not longer than the sample interval
    [InlineData("00:00:00", null)]
    [InlineData("-00:00:01", null)]
    [InlineData("01:00:00.001", null)]
    [InlineData(null, "00:00:00.100")] // a heartbeat must outlast a sample...
    [InlineData("00:00:10", "00:00:10")] // ...and the throttle window
    [InlineData(null, "01:00:01")]
    public void Throttle_and_heartbeat_outside_their_bounds_are_refused(string? throttle, string? heartbeat)
    {
        var sensor = Bench(f =>
        {
            f.Delta["current_a"] = 0.01;
            f.Throttle = throttle is null ? null : TimeSpan.Parse(throttle, System.Globalization.CultureInfo.InvariantCulture);
            f.Heartbeat = heartbeat is null ? null : TimeSpan.Parse(heartbeat, System.Globalization.CultureInfo.InvariantCulture);
        });
        var failure = Assert.Single(Failures(sensor));
        Assert.StartsWith($"Agent:Sensors:0 (dc-bench-1):Filters:{(heartbeat is not null ? "Heartbeat" : "Throttle")} ", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void A_heartbeat_without_a_deadband_is_refused()
    {
        var failure = Assert.Single(Failures(Bench(f => f.Heartbeat = TimeSpan.FromMinutes(1))));
        Assert.StartsWith("Agent:Sensors:0 (dc-bench-1):Filters:Heartbeat is set without Filters:Delta", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void The_default_heartbeat_applies_only_with_a_deadband()
    {
        Assert.Null(new FilterOptions { Throttle = TimeSpan.FromMinutes(1) }.HeartbeatInForce);
        var deadband = new FilterOptions();
        deadband.Delta["co2_ppm"] = 25;
        Assert.Equal(TimeSpan.FromMinutes(5), deadband.HeartbeatInForce);
    }
}
