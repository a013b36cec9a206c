using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Hosting;
using NewTechPark.Edge.Agent.Readers;
using NewTechPark.Edge.Simulation;
using NewTechPark.Edge.Agent.Tests.Support;

namespace NewTechPark.Edge.Agent.Tests;

public sealed class AgentOptionsValidatorTests
{
    private static SensorOptions Door(string id = "door-dc-lab", int? outer = 17, int? inner = 27) => new()
    {
        Id = id,
        Type = SensorTypes.DoorBeams,
        Room = "dc-lab",
        BeamOuterPin = outer,
        BeamInnerPin = inner,
    };

    private static SensorOptions Ina(string id = "dc-bench-1", int? address = 0x40, int bus = 1) => new()
    {
        Id = id,
        Type = SensorTypes.Ina219,
        Room = "dc-lab",
        I2cBus = bus,
        Address = address,
        SampleInterval = TimeSpan.FromMilliseconds(100),
    };

    private static AgentOptions Valid() => new()
    {
        Site = "newtechpark",
        Device = "pi-dc-lab",
        DataDirectory = "data",
        Sensors = [Door(), Ina()],
    };

    private static ValidateOptionsResult Validate(AgentOptions options) => new AgentOptionsValidator().Validate(null, options);

    /// <summary>Validates and returns the single failure message.</summary>
    private static string SingleFailure(AgentOptions options)
    {
        var result = Validate(options);
        Assert.True(result.Failed, "the configuration should be refused");
        Assert.NotNull(result.Failures);
        return Assert.Single(result.Failures);
    }

    [Fact]
    public void A_valid_configuration_passes()
    {
        var result = Validate(Valid());

        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Fact]
    public void An_unknown_sensor_type_names_the_type_and_the_sensor()
    {
        var options = Valid();
        options.Sensors[1].Type = "ina228"; // a real part the agent has no reader for

        var failure = SingleFailure(options);

        Assert.Contains("'ina228'", failure, StringComparison.Ordinal);
        Assert.Contains("Agent:Sensors:1 (dc-bench-1):Type", failure, StringComparison.Ordinal);
        Assert.Contains("door-beams", failure, StringComparison.Ordinal); // lists the known types
    }

    [Fact]
    public void The_same_GPIO_used_twice_names_both_users()
    {
        var options = Valid();
        options.Sensors.Add(Door("door-lounge", outer: 22, inner: 17));

        var failure = SingleFailure(options);

        Assert.Contains("GPIO 17", failure, StringComparison.Ordinal);
        Assert.Contains("door-lounge", failure, StringComparison.Ordinal);
        Assert.Contains("BeamInnerPin", failure, StringComparison.Ordinal);
        Assert.Contains("already used by door-dc-lab (BeamOuterPin)", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void One_sensor_using_one_GPIO_for_both_beams_is_refused()
    {
        var options = Valid();
        options.Sensors[0].BeamInnerPin = 17;

        var failure = SingleFailure(options);

        Assert.Contains("BeamInnerPin GPIO 17 is already used by door-dc-lab (BeamOuterPin)", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_BeamInnerPin_names_the_setting()
    {
        var options = Valid();
        options.Sensors[0].BeamInnerPin = null;

        var failure = SingleFailure(options);

        Assert.Contains("Agent:Sensors:0 (door-dc-lab):BeamInnerPin is missing", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_I2C_address_names_the_setting()
    {
        var options = Valid();
        options.Sensors[1].Address = null;

        var failure = SingleFailure(options);

        Assert.Contains("Agent:Sensors:1 (dc-bench-1):Address is missing", failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0x80)]
    [InlineData(0x02)]
    public void An_address_outside_the_7_bit_range_is_refused(int address)
    {
        var options = Valid();
        options.Sensors[1].Address = address;

        var failure = SingleFailure(options);

        Assert.Contains($"Address {address} (0x{address:x2}) is outside the 7-bit I2C range", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_address_twice_on_one_bus_is_refused_naming_the_first_user()
    {
        var options = Valid();
        options.Sensors.Add(Ina("dc-bench-2", 0x40));

        var failure = SingleFailure(options);

        Assert.Contains("Agent:Sensors:2 (dc-bench-2):Address 0x40 on I2C bus 1 is already used by dc-bench-1", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_address_on_two_different_buses_is_fine()
    {
        var options = Valid();
        options.Sensors.Add(Ina("dc-bench-2", 0x40, bus: 3));

        Assert.True(Validate(options).Succeeded);
    }

    [Theory]
    [InlineData("Pi-DC-Lab")]
    [InlineData("pi_dc_lab")]
    [InlineData("")]
    [InlineData("-pi")]
    public void A_device_id_that_is_not_a_slug_is_refused(string device)
    {
        var options = Valid();
        options.Device = device;

        var failure = SingleFailure(options);

        Assert.Contains($"Agent:Device '{device}' is not a slug", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void A_heartbeat_of_two_minutes_breaks_the_contract_and_is_refused()
    {
        var options = Valid();
        options.Publishing.HeartbeatInterval = TimeSpan.FromMinutes(2);

        var failure = SingleFailure(options);

        Assert.Contains("Agent:Publishing:HeartbeatInterval", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void A_heartbeat_of_exactly_60_seconds_is_allowed()
    {
        var options = Valid();
        options.Publishing.HeartbeatInterval = TimeSpan.FromSeconds(60);

        Assert.True(Validate(options).Succeeded);
    }

    [Fact]
    public void A_sample_interval_of_5_ms_is_refused()
    {
        var options = Valid();
        options.Sensors[1].SampleInterval = TimeSpan.FromMilliseconds(5);

        var failure = SingleFailure(options);

        Assert.Contains("Agent:Sensors:1 (dc-bench-1):SampleInterval", failure, StringComparison.Ordinal);
        Assert.Contains("10 ms", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_problem_is_reported_at_once()
    {
        var options = Valid();
        options.Device = "Pi";
        options.Sensors[0].BeamInnerPin = null;
        options.Sensors[1].Address = 0x80;

        var result = Validate(options);

        Assert.True(result.Failed);
        Assert.Equal(3, result.Failures!.Count());
    }

    [Fact]
    public async Task Start_up_fails_on_a_pin_conflict_with_a_message_that_names_it()
    {
        using var dir = new TempDirectory();
        var settings = AgentSettings.Base(dir.Path);
        AgentSettings.AddDoor(settings, 0, "door-dc-lab", outerPin: 17, innerPin: 27);
        AgentSettings.AddDoor(settings, 1, "door-lounge", outerPin: 27, innerPin: 22);
        using var host = SimulatedAgentHost.Create(settings, new SimulatedHardware());

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("Agent:Sensors:1 (door-lounge):BeamOuterPin GPIO 27 is already used by door-dc-lab (BeamInnerPin)", error.Message, StringComparison.Ordinal);
    }
}
