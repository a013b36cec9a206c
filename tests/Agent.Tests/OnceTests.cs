using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using NewTechPark.Edge.Agent.Hosting;
using NewTechPark.Edge.Agent.Readers;
using NewTechPark.Edge.Simulation;
using NewTechPark.Edge.Agent.Tests.Support;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Agent.Tests;

/// <summary><c>--once</c> and <c>--list-sensors</c>: every sensor read once through the real readers, no broker.</summary>
[Trait("Category", "Slow")]
public sealed class OnceTests
{
    [Fact]
    public async Task The_built_agent_run_with_once_prints_a_door_energy_dc_climate_and_badge_reading_from_simulated_devices()
    {
        using var temp = new TempDirectory();
        var output = await RunAgentAsync(temp, "--once");

        Assert.Equal(0, output.ExitCode);
        var lines = output.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        foreach (var kind in new[] { "door", "energy", "dc", "climate", "badge" })
        {
            Assert.Contains(lines, l => l.StartsWith(kind + " ", StringComparison.Ordinal));
        }

        Assert.Contains(lines, l => l.StartsWith("door ", StringComparison.Ordinal) && l.Contains("in_total=", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("energy ", StringComparison.Ordinal) && l.Contains("energy_wh_total=", StringComparison.Ordinal) && l.Contains("power_w=", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("dc ", StringComparison.Ordinal) && l.Contains("voltage_v=", StringComparison.Ordinal) && l.Contains("power_w=", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("climate ", StringComparison.Ordinal) && l.Contains("co2_ppm=", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("climate ", StringComparison.Ordinal) && l.Contains("pressure_hpa=", StringComparison.Ordinal));
        Assert.Matches(@"badge\s+\S+\s+visitor=[A-Za-z0-9_-]{22}\s", output.Stdout);
        Assert.DoesNotContain("error", output.Stdout, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task List_sensors_prints_every_configured_sensor_with_its_health()
    {
        using var temp = new TempDirectory();
        var output = await RunAgentAsync(temp, "--list-sensors");

        Assert.Equal(0, output.ExitCode);
        foreach (var type in new[] { "door-beams", "s0-meter", "ina219", "ina226", "ina236", "bme280", "sht4x", "scd4x", "ds18b20", "mfrc522" })
        {
            Assert.Matches($@"\S+\s+{type}\s+\S+\s+.*\sok\s*$", output.Stdout.Split('\n').First(l => l.Contains($" {type} ", StringComparison.Ordinal)));
        }

        Assert.Contains("hardware: Simulated", output.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failing_sensor_is_reported_while_the_others_give_their_readings()
    {
        using var temp = new TempDirectory();
        var hardware = new SimulatedHardware();
        var sht = hardware.I2c.Attach(1, 0x44, new SimulatedSht4x(1, 0x44));
        sht.CorruptCrc = true;
        var bench = hardware.I2c.Attach(1, 0x40, new SimulatedIna219(1, 0x40, 0.1));
        bench.SetLoad(24, 1);
        hardware.OneWire.Attach("28-0000075a1b2c", new SimulatedDs18b20 { Celsius = 18.5 });
        var settings = new Dictionary<string, string?>
        {
            ["Agent:Device"] = "pi-test",
            ["Agent:DataDirectory"] = temp.Path,
            ["Agent:Sensors:0:Id"] = "climate-bad",
            ["Agent:Sensors:0:Type"] = "sht4x",
            ["Agent:Sensors:1:Id"] = "dc-bench-1",
            ["Agent:Sensors:1:Type"] = "ina219",
            ["Agent:Sensors:1:Address"] = "64",
            ["Agent:Sensors:2:Id"] = "temp-a",
            ["Agent:Sensors:2:Type"] = "ds18b20",
            ["Agent:Sensors:2:OneWireId"] = "28-0000075a1b2c",
            ["Agent:Sensors:3:Id"] = "climate-missing",
            ["Agent:Sensors:3:Type"] = "bme280",
        };
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddLogging();
        builder.Services.AddEdgeAgentSensors(builder.Configuration, hardware.ToAgentHardware());
        using var host = builder.Build();
        await host.StartAsync();

        var results = await SensorCheck.ReadOnceAsync(host.Services, TimeSpan.FromSeconds(10));
        await host.StopAsync();

        var byId = results.ToDictionary(r => r.Sensor.Id);
        Assert.Null(byId["climate-bad"].Reading);
        Assert.StartsWith("error: ", byId["climate-bad"].Health, StringComparison.Ordinal);
        Assert.Contains("CRC", byId["climate-bad"].Health, StringComparison.Ordinal);
        Assert.Null(byId["climate-missing"].Reading);
        Assert.Contains("no ACK at 0x76", byId["climate-missing"].Health, StringComparison.Ordinal);
        Assert.Equal(ReadingKinds.Dc, byId["dc-bench-1"].Reading!.Kind);
        Assert.Equal(18.5, byId["temp-a"].Reading!.Values!["temperature_c"]);
        Assert.Equal(SensorHealth.Ok, byId["dc-bench-1"].Health);

        var printed = SensorCheck.FormatReadings(results);
        Assert.Contains("error: SHT4x CRC error", printed, StringComparison.Ordinal);
        Assert.Contains("dc       dc-bench-1", printed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_production_agent_off_a_pi_stops_with_2_and_points_to_the_simulation()
    {
        if (File.Exists("/dev/gpiochip0"))
        {
            return; // a Pi: the real drivers are there
        }

        using var temp = new TempDirectory();
        var output = await RunAgentAsync(temp, "--once", "edge-agent.dll");

        Assert.Equal(2, output.ExitCode);
        Assert.Contains("Agent:GpioChip: /dev/gpiochip0 does not exist", output.Stderr, StringComparison.Ordinal);
        Assert.Contains("dotnet run --project simulation", output.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_production_agent_refuses_the_simulated_hardware_mode_by_name()
    {
        using var temp = new TempDirectory();
        var output = await RunAgentAsync(temp, "--list-sensors", "edge-agent.dll", "--Agent:Hardware=Simulated");

        Assert.Equal(2, output.ExitCode);
        Assert.Contains("Agent:Hardware 'Simulated' is not a hardware mode of the edge agent", output.Stderr, StringComparison.Ordinal);
        Assert.Contains("dotnet run --project simulation", output.Stderr, StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAgentAsync(TempDirectory temp, string mode, string program = "simulated-agent.dll", params string[] extra)
    {
        var agent = Path.Combine(AppContext.BaseDirectory, program);
        // No broker is running: --once must not need one.
        return await ChildProcess.RunToEndAsync("dotnet", [agent, mode, $"--Agent:DataDirectory={temp.Path}", "--Agent:Broker:Port=1", .. extra], TimeSpan.FromSeconds(90), temp.Path);
    }
}
