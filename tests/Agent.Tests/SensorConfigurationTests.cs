using Microsoft.Extensions.Options;
using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Readers;

namespace NewTechPark.Edge.Agent.Tests;

/// <summary>Every new sensor type is checked at start, with messages that name the sensor and the setting.</summary>
public sealed class SensorConfigurationTests
{
    private static AgentOptions With(params SensorOptions[] sensors) => new()
    {
        Site = "newtechpark",
        Device = "pi-entrance",
        SiteKey = "a-site-key-of-enough-length",
        Sensors = [.. sensors],
    };

    private static string Failure(AgentOptions options)
    {
        var result = new AgentOptionsValidator().Validate(null, options);
        Assert.True(result.Failed, "the configuration should be refused");
        return result.FailureMessage;
    }

    private static SensorOptions Door(int outer = 17, int inner = 27) => new() { Id = "door-main", Type = SensorTypes.DoorBeams, BeamOuterPin = outer, BeamInnerPin = inner };

    private static SensorOptions Meter(int? pin = 22) => new() { Id = "meter-grid", Type = SensorTypes.S0Meter, PulsePin = pin };

    [Fact]
    public void A_full_pi_with_every_kind_of_sensor_is_accepted()
    {
        var options = With(
            Door(),
            Meter(),
            new() { Id = "dc-bench-1", Type = SensorTypes.Ina219, Address = 0x40 },
            new() { Id = "dc-bench-2", Type = SensorTypes.Ina226, Address = 0x41, SampleInterval = TimeSpan.FromMilliseconds(10) },
            new() { Id = "dc-bench-3", Type = SensorTypes.Ina236, Address = 0x42, SampleInterval = TimeSpan.FromSeconds(1) },
            new() { Id = "climate-a", Type = SensorTypes.Bme280 },
            new() { Id = "climate-b", Type = SensorTypes.Sht4x },
            new() { Id = "climate-c", Type = SensorTypes.Scd4x, AmbientPressureHpa = 1000, AutomaticSelfCalibration = false },
            new() { Id = "temp-a", Type = SensorTypes.Ds18b20, OneWireId = "28-0000075a1b2c" },
            new() { Id = "badge-entrance", Type = SensorTypes.Mfrc522, ResetPin = 25 });
        var result = new AgentOptionsValidator().Validate(null, options);
        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Fact]
    public void A_meter_on_a_door_pin_is_refused_naming_both()
    {
        var failure = Failure(With(Door(), Meter(pin: 27)));
        Assert.Contains("Agent:Sensors:1 (meter-grid):PulsePin GPIO 27 is already used by door-main (BeamInnerPin)", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void A_beam_on_the_i2c_or_spi_pins_in_use_is_refused()
    {
        var failure = Failure(With(
            Door(outer: 3, inner: 8),
            new() { Id = "climate-a", Type = SensorTypes.Bme280 },
            new() { Id = "badge-entrance", Type = SensorTypes.Mfrc522 }));
        Assert.Contains("BeamOuterPin GPIO 3 is already used by I2C bus 1 (SCL)", failure, StringComparison.Ordinal);
        Assert.Contains("BeamInnerPin GPIO 8 is already used by SPI bus 0 (CE0, badge-entrance)", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void A_meter_without_its_pin_or_with_a_bad_pulse_rate_is_refused()
    {
        var meter = Meter(pin: null);
        meter.PulsesPerKwh = 0;
        var failure = Failure(With(meter));
        Assert.Contains("Agent:Sensors:0 (meter-grid):PulsePin is missing", failure, StringComparison.Ordinal);
        Assert.Contains("Agent:Sensors:0 (meter-grid):PulsesPerKwh 0 must be above 0", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void An_address_the_part_cannot_have_is_refused()
    {
        var failure = Failure(With(new SensorOptions { Id = "climate-a", Type = SensorTypes.Bme280, Address = 0x40 }));
        Assert.Contains("Agent:Sensors:0 (climate-a):Address 0x40 is not an address a BME280", failure, StringComparison.Ordinal);
        Assert.Contains("0x76, 0x77", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_parts_at_one_default_address_are_refused()
    {
        var failure = Failure(With(new SensorOptions { Id = "climate-a", Type = SensorTypes.Sht4x }, new SensorOptions { Id = "climate-b", Type = SensorTypes.Sht4x }));
        Assert.Contains("Agent:Sensors:1 (climate-b):Address 0x44 on I2C bus 1 is already used by climate-a", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void A_badge_reader_without_a_site_key_is_refused()
    {
        var options = With(new SensorOptions { Id = "badge-entrance", Type = SensorTypes.Mfrc522 });
        options.SiteKey = null;
        Assert.Contains("Agent:Sensors:0 (badge-entrance): a badge reader needs Agent:SiteKey", Failure(options), StringComparison.Ordinal);
        options.SiteKey = "short";
        Assert.Contains("Agent:SiteKey must have at least 16 characters", Failure(options), StringComparison.Ordinal);
    }

    [Fact]
    public void A_thermometer_without_a_valid_id_and_a_co2_sensor_with_a_bad_pressure_are_refused()
    {
        var failure = Failure(With(
            new SensorOptions { Id = "temp-a", Type = SensorTypes.Ds18b20 },
            new SensorOptions { Id = "temp-b", Type = SensorTypes.Ds18b20, OneWireId = "10-12345" },
            new SensorOptions { Id = "co2-a", Type = SensorTypes.Scd4x, AmbientPressureHpa = 101300 }));
        Assert.Contains("Agent:Sensors:0 (temp-a):OneWireId is missing", failure, StringComparison.Ordinal);
        Assert.Contains("Agent:Sensors:1 (temp-b):OneWireId '10-12345' is not a DS18B20 id", failure, StringComparison.Ordinal);
        Assert.Contains("Agent:Sensors:2 (co2-a):AmbientPressureHpa 101300 must be between 700 and 1200 hPa", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Sample_rates_outside_a_types_range_are_refused()
    {
        var failure = Failure(With(
            new SensorOptions { Id = "dc-bench-1", Type = SensorTypes.Ina226, Address = 0x40, SampleInterval = TimeSpan.FromSeconds(2) },
            new SensorOptions { Id = "co2-a", Type = SensorTypes.Scd4x, SampleInterval = TimeSpan.FromSeconds(1) }));
        Assert.Contains("Agent:Sensors:0 (dc-bench-1):SampleInterval 00:00:02 must be between 10 ms (100 Hz) and 1 s (1 Hz) for ina226", failure, StringComparison.Ordinal);
        Assert.Contains("Agent:Sensors:1 (co2-a):SampleInterval 00:00:01 must be between 5 s and 1 hour for scd4x", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_badge_readers_on_one_chip_select_are_refused()
    {
        var failure = Failure(With(new SensorOptions { Id = "badge-a", Type = SensorTypes.Mfrc522 }, new SensorOptions { Id = "badge-b", Type = SensorTypes.Mfrc522 }));
        Assert.Contains("Agent:Sensors:1 (badge-b):ChipSelect 0 on SPI bus 0 is already used by badge-a", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_type_in_the_table_has_a_kind_of_the_contract()
    {
        string[] kinds = ["door", "energy", "dc", "climate", "badge"];
        Assert.All(SensorTypes.All.Values, t => Assert.Contains(t.Kind, kinds));
        Assert.Equal(11, SensorTypes.All.Count);
    }

    [Fact]
    public void The_agent_refuses_to_start_on_a_bad_setting()
    {
        var options = With(Door(), Meter(pin: 17));
        var validator = new AgentOptionsValidator();
        var result = validator.Validate(Options.DefaultName, options);
        Assert.True(result.Failed);
        Assert.Contains("PulsePin GPIO 17 is already used by door-main (BeamOuterPin)", result.FailureMessage, StringComparison.Ordinal);
    }
}
