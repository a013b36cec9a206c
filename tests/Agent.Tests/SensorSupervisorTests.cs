using Microsoft.Extensions.DependencyInjection;
using NewTechPark.Edge.Agent.Hosting;
using NewTechPark.Edge.Agent.Readers;
using NewTechPark.Edge.Simulation;
using NewTechPark.Edge.Agent.Tests.Support;

namespace NewTechPark.Edge.Agent.Tests;

public sealed class SensorSupervisorTests
{
    [Fact]
    public async Task A_failing_sensor_is_reported_as_an_error_while_the_other_sensors_keep_working()
    {
        using var dir = new TempDirectory();
        var hardware = new SimulatedHardware();
        var healthyPart = hardware.I2c.Attach(1, 0x40, new SimulatedIna219(1, 0x40, 0.1));
        healthyPart.SetLoad(24.0, 1.5);
        // Nothing is attached at 0x41: that sensor's reader fails with "no ACK".
        var settings = AgentSettings.Base(dir.Path);
        AgentSettings.AddDoor(settings, 0, "door-dc-lab", outerPin: 17, innerPin: 27);
        AgentSettings.AddIna219(settings, 1, "dc-bench-1", 0x40);
        AgentSettings.AddIna219(settings, 2, "dc-bench-2", 0x41);

        using var host = SimulatedAgentHost.Create(settings, hardware);
        await host.StartAsync();
        try
        {
            var health = host.Services.GetRequiredService<SensorHealth>();
            await Eventually.UntilAsync(
                () => health.Get("dc-bench-2").StartsWith("error: ", StringComparison.Ordinal)
                    && health.Get("dc-bench-1") == SensorHealth.Ok
                    && health.Get("door-dc-lab") == SensorHealth.Ok,
                "the missing INA219 is reported and the others are ok");

            Assert.StartsWith("error: no ACK at 0x41", health.Get("dc-bench-2"), StringComparison.Ordinal);

            // The healthy INA219 keeps being sampled after the other one failed.
            var reads = healthyPart.Reads;
            await Eventually.UntilAsync(() => healthyPart.Reads >= reads + 6, "the healthy INA219 keeps being read");
            Assert.Equal(SensorHealth.Ok, health.Get("dc-bench-1"));
            Assert.Equal(SensorHealth.Ok, health.Get("door-dc-lab"));

            // The door reader is listening on its pins.
            Assert.True(hardware.Gpio.IsOpen(17));
            Assert.True(hardware.Gpio.IsOpen(27));
        }
        finally
        {
            await host.StopAsync();
        }

        // Stopping the host stops the readers: the door's pins are released.
        Assert.False(hardware.Gpio.IsOpen(17));
        Assert.False(hardware.Gpio.IsOpen(27));
    }
}
