using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Hardware;
using NewTechPark.Edge.Agent.Hosting;
using NewTechPark.Edge.Agent.Tests.Support;
using NewTechPark.Edge.Contracts.Configuration;
using Xunit.Abstractions;

namespace NewTechPark.Edge.Agent.Tests.Settings;

/// <summary>
/// Every setting of the agent, found by reflection on <see cref="AgentOptions"/>, is given values it
/// must refuse; the agent must refuse each one at start, naming the setting. All of them through the
/// agent's own registration and start-up validation in-process, a few through the real program
/// (exit code 2, message on stderr, no stack trace).
/// </summary>
public sealed class AgentSettingsValidationTests(ITestOutputHelper output)
{
    private const string SensorId = "sensor-under-test";

    /// <summary>A valid sensor of the type each sensor setting belongs to.</summary>
    private static readonly Dictionary<string, Dictionary<string, string>> Sensors = new(StringComparer.Ordinal)
    {
        ["door"] = new() { ["Type"] = "door-beams", ["BeamOuterPin"] = "17", ["BeamInnerPin"] = "27" },
        ["s0"] = new() { ["Type"] = "s0-meter", ["PulsePin"] = "22" },
        ["badge"] = new() { ["Type"] = "mfrc522" },
        ["onewire"] = new() { ["Type"] = "ds18b20", ["OneWireId"] = "28-0000075a1b2c" },
        ["co2"] = new() { ["Type"] = "scd4x" },
        ["tof"] = new() { ["Type"] = "vl53l1x-door" },
        ["dc"] = new() { ["Type"] = "ina219", ["Address"] = "64" },
    };

    private static readonly Dictionary<string, string> SensorOf = new(StringComparer.Ordinal)
    {
        ["Id"] = "door", ["Type"] = "door", ["Room"] = "door", ["BeamOuterPin"] = "door", ["BeamInnerPin"] = "door", ["BrokenLevel"] = "door", ["Debounce"] = "door",
        ["PulsePin"] = "s0", ["PulsesPerKwh"] = "s0", ["PowerTimeout"] = "s0", ["SampleInterval"] = "s0",
        ["SpiBus"] = "badge", ["ChipSelect"] = "badge", ["SpiClockHz"] = "badge", ["ResetPin"] = "badge", ["RepeatSuppression"] = "badge",
        ["OneWireId"] = "onewire", ["AutomaticSelfCalibration"] = "co2", ["AmbientPressureHpa"] = "co2",
        ["PresenceBelowMm"] = "tof", ["RoiWidth"] = "tof", ["RoiHeight"] = "tof", ["OuterRoiCentre"] = "tof", ["InnerRoiCentre"] = "tof",
        ["I2cBus"] = "dc", ["Address"] = "dc", ["ShuntOhms"] = "dc", ["MaxCurrentA"] = "dc",
        ["Delta"] = "dc", ["Throttle"] = "dc", ["Heartbeat"] = "dc",
    };

    /// <summary>Bad values that attributes cannot derive.</summary>
    private static readonly Dictionary<string, string[]> Custom = new(StringComparer.Ordinal)
    {
        ["Agent:Site"] = ["Not A Slug"],
        ["Agent:Device"] = ["Not A Slug"],
        ["Agent:SiteKey"] = ["too-short"],
        ["Agent:OneWirePin"] = ["-1", "54"],
        ["Agent:Broker:CaCertificateFile"] = ["/nonexistent/ca.pem"],
        ["Agent:Broker:KeepAlive"] = ["00:00:00.500", "1.00:00:00"],
        ["Agent:Broker:SessionExpiry"] = ["00:00:00", "50000.00:00:00"],
        ["Agent:Broker:ReconnectMinDelay"] = ["00:00:00", "00:01:00"],
        ["Agent:Broker:ReconnectMaxDelay"] = ["00:00:00.500", "2.00:00:00"],
        ["Agent:Publishing:BatchLinger"] = ["00:02:00"],
        ["Agent:Publishing:HeartbeatInterval"] = ["00:00:00", "00:01:01"],
        ["Agent:Outbox:MaxAge"] = ["00:00:30", "401.00:00:00"],
        ["Agent:Outbox:MaxBytes"] = ["1000"],
        ["Agent:Outbox:DeleteGroup"] = ["0", "10001"],
        ["Agent:Sensors:0:Id"] = ["Not A Slug", ""],
        ["Agent:Sensors:0:Type"] = ["warp-drive", ""],
        ["Agent:Sensors:0:Room"] = ["Not A Slug"],
        ["Agent:Sensors:0:BeamOuterPin"] = ["-1", "54"],
        ["Agent:Sensors:0:BeamInnerPin"] = ["-1", "54", "17"],
        ["Agent:Sensors:0:Debounce"] = ["00:00:02"],
        ["Agent:Sensors:0:PulsePin"] = ["-1", "54"],
        ["Agent:Sensors:0:PulsesPerKwh"] = ["0", "100001"],
        ["Agent:Sensors:0:PowerTimeout"] = ["00:00:01", "2.00:00:00"],
        ["Agent:Sensors:0:SampleInterval"] = ["00:00:00.100", "02:00:00"],
        ["Agent:Sensors:0:SpiBus"] = ["-1", "7"],
        ["Agent:Sensors:0:ChipSelect"] = ["-1", "3"],
        ["Agent:Sensors:0:SpiClockHz"] = ["9999", "10000001"],
        ["Agent:Sensors:0:ResetPin"] = ["-1", "54"],
        ["Agent:Sensors:0:RepeatSuppression"] = ["02:00:00"],
        ["Agent:Sensors:0:OneWireId"] = ["29-xyz"],
        ["Agent:Sensors:0:AmbientPressureHpa"] = ["699", "1201"],
        ["Agent:Sensors:0:PresenceBelowMm"] = ["99", "4001"],
        ["Agent:Sensors:0:RoiWidth"] = ["3", "17"],
        ["Agent:Sensors:0:RoiHeight"] = ["3", "17"],
        ["Agent:Sensors:0:OuterRoiCentre"] = ["-1", "256"],
        ["Agent:Sensors:0:InnerRoiCentre"] = ["-1", "256"],
        ["Agent:Sensors:0:I2cBus"] = ["-1"],
        ["Agent:Sensors:0:Address"] = ["2", "120"],
        ["Agent:Sensors:0:ShuntOhms"] = ["0", "11"],
        ["Agent:Sensors:0:MaxCurrentA"] = ["0", "101"],
        // The base INA219 samples every second; FilterSettingsTests has the refusals case by case.
        ["Agent:Sensors:0:Filters:Delta:example"] = ["-1", "NaN"],
        ["Agent:Sensors:0:Filters:Throttle"] = ["00:00:01", "01:00:01"],
        ["Agent:Sensors:0:Filters:Heartbeat"] = ["00:00:01", "01:00:01"],
    };

    /// <summary>Settings that take any value of their type, and why.</summary>
    private static readonly Dictionary<string, string> AnyValue = new(StringComparer.Ordinal)
    {
        ["Agent:Broker:Username"] = "whatever user name the broker has (a password is then required)",
        ["Agent:Broker:Password"] = "whatever password the broker has",
    };

    private static IEnumerable<Setting> All => SettingsWalker.Leaves(typeof(AgentOptions), AgentOptions.Section);

    [Fact]
    public void Every_setting_has_values_to_refuse_or_a_reason_it_takes_any()
    {
        var missing = All.Where(s => SettingsWalker.NeedsTable(s) && !Custom.ContainsKey(s.Path) && !AnyValue.ContainsKey(s.Path)).Select(s => s.Path).ToList();
        Assert.True(missing.Count == 0, "Settings without a range, a [Required] or a custom check: give them one (and bad values here), or list why any value is fine: " + string.Join(", ", missing));
        Assert.Empty(All.Where(s => s.Path.StartsWith("Agent:Sensors:0:", StringComparison.Ordinal) && !SensorOf.ContainsKey(s.Name)).Select(s => s.Path));
        Assert.Empty(Custom.Keys.Concat(AnyValue.Keys).Except(All.Select(s => s.Path)));
    }

    [Fact]
    public void Every_sensor_used_as_a_base_is_valid()
    {
        using var data = new TempDirectory();
        foreach (var sensor in Sensors.Keys)
        {
            Assert.Null(Refusal(Base(data.Path, sensor)));
        }

        Assert.Null(Refusal(Base(data.Path, sensor: null)));
    }

    [Fact]
    public void Every_setting_refuses_values_out_of_its_range_naming_itself()
    {
        using var data = new TempDirectory();
        var started = Stopwatch.StartNew();
        var problems = new List<string>();
        var cases = 0;
        var settings = All.ToList();
        foreach (var setting in settings)
        {
            var sensor = setting.Path.StartsWith("Agent:Sensors:0:", StringComparison.Ordinal) ? SensorOf[setting.Name] : null;
            foreach (var value in BadValues(setting))
            {
                cases++;
                var config = Base(data.Path, sensor);
                config[setting.Path] = value;
                var refusal = Refusal(config)?.Replace($" ({SensorId})", string.Empty, StringComparison.Ordinal);
                if (refusal is null)
                {
                    problems.Add($"{setting.Path}={value} was accepted");
                }
                else if (!refusal.Contains(setting.Path, StringComparison.Ordinal) && !(setting.Name == "Id" && refusal.Contains("Agent:Sensors:0:Id", StringComparison.Ordinal)))
                {
                    problems.Add($"{setting.Path}={value} was refused without naming the setting: {refusal}");
                }
            }
        }

        output.WriteLine($"{cases} bad values of {settings.Count} settings checked in {started.Elapsed.TotalSeconds:0.0} s");
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    [Theory]
    [InlineData("Agent:Broker:Port", "70000")]
    [InlineData("Agent:Publishing:QueueCapacity", "1")]
    [InlineData("Agent:Publishing:MaxReadingsPerBatch", "lots")]
    [InlineData("Agent:Hardware", "Sideways")]
    [InlineData("Agent:Outbox:MaxAge", "-00:00:01")]
    public async Task The_program_exits_with_2_naming_the_setting(string setting, string value)
    {
        using var data = new TempDirectory();
        var (exit, stderr, printed) = await SettingsWalker.RunProgramAsync("edge-agent.dll", data.Path, ["--Agent:Device=options-test", "--Agent:Hardware=Real", $"--Agent:DataDirectory={data.Path}", $"--{setting}={value}"]);
        output.WriteLine(printed);
        Assert.Equal(2, exit);
        Assert.Contains(setting, stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", printed, StringComparison.Ordinal);
    }

    private static IEnumerable<string> BadValues(Setting setting) => SettingsWalker.BadValues(setting, Custom);

    private static Dictionary<string, string?> Base(string dataDirectory, string? sensor)
    {
        var config = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Agent:Device"] = "options-test",
            ["Agent:Hardware"] = "Real",
            ["Agent:DataDirectory"] = dataDirectory,
            ["Agent:SiteKey"] = "a-site-key-of-32-characters-long",
        };
        if (sensor is not null)
        {
            config["Agent:Sensors:0:Id"] = SensorId;
            foreach (var (key, value) in Sensors[sensor])
            {
                config[$"Agent:Sensors:0:{key}"] = value;
            }
        }

        return config;
    }

    /// <summary>The agent's options registration and start-up validation, as the program runs them; the refusal it would print, or null.</summary>
    private static string? Refusal(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        // The settings, not the machine: off a Pi the real hardware's /dev/gpiochipN check would refuse every case.
        builder.Services.AddEdgeAgentSensors(builder.Configuration, AgentHardware.Real with { RequiresGpioChip = false });
        using var host = builder.Build();
        try
        {
            host.Services.GetRequiredService<IStartupValidator>().Validate();
            return null;
        }
        catch (OptionsValidationException e)
        {
            return string.Join(Environment.NewLine, e.Failures);
        }
        catch (InvalidOperationException e) when (BindingError.Explain(e) is { } problem)
        {
            return problem;
        }
    }
}
