using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using NewTechPark.Edge.Agent.Readers;
using NewTechPark.Edge.Agent.State;
using NewTechPark.Edge.Agent.Tests.Support;
using NewTechPark.Edge.Contracts.Payloads;
using NewTechPark.Edge.Contracts.Serialization;
using NewTechPark.Edge.Simulation;

namespace NewTechPark.Edge.Agent.Tests.Filters;

/// <summary>
/// The filters in the agent's real pipeline (simulated INA219 → reader → filter → queue → batch
/// recorder → outbox), on a fake clock advanced one sample at a time: the same samples with and
/// without a filter, and what reaches the outbox.
/// </summary>
public sealed class FilterPipelineTests
{
    private const string Bench = "dc-bench-1";

    [Fact]
    public async Task With_a_deadband_a_steady_bench_publishes_its_first_reading_its_changes_and_heartbeats_only()
    {
        var published = await RunAsync(filtered: true);

        // 51 samples (0-5 s every 100 ms), the load changes between 2.5 and 2.6 s: the first, the
        // heartbeat 2 s later, the change, and the heartbeat 2 s after that.
        Assert.Equal([0.0, 2.0, 2.6, 4.6], published.Select(r => r.Seconds));
        Assert.Equal(1.0, published[1].Amps, 3);
        Assert.Equal(1.5, published[2].Amps, 3);
    }

    [Fact]
    public async Task Without_a_filter_every_sample_is_published()
    {
        var published = await RunAsync(filtered: false);

        Assert.Equal(Enumerable.Range(0, 51).Select(i => i / 10.0), published.Select(r => r.Seconds));
    }

    [Fact]
    public async Task A_throttled_bench_publishes_a_mean_per_second_and_its_held_window_when_the_part_fails()
    {
        using var dir = new TempDirectory();
        var clock = TestClock.Create();
        var hardware = new SimulatedHardware();
        var part = hardware.I2c.Attach(1, 0x40, new SimulatedIna219(1, 0x40, 0.1));
        part.SetLoad(24.0, 1.0);
        var settings = AgentSettings.Base(dir.Path);
        AgentSettings.AddIna219(settings, 0, Bench, 0x40);
        settings["Agent:Sensors:0:SampleInterval"] = "00:00:00.100";
        settings["Agent:Sensors:0:Filters:Throttle"] = "00:00:01";

        using var host = SimulatedAgentHost.Create(settings, hardware, clock: clock);
        await host.StartAsync();
        try
        {
            var health = host.Services.GetRequiredService<SensorHealth>();
            await Eventually.UntilAsync(() => health.Get(Bench) == SensorHealth.Ok, "the first sample is read");
            for (var tick = 1; tick <= 12; tick++)
            {
                var reads = part.Reads;
                clock.Advance(TimeSpan.FromMilliseconds(100));
                await Eventually.UntilAsync(() => part.Reads >= reads + 3, $"sample {tick} is read");
                if (tick == 4)
                {
                    part.SetLoad(24.0, 2.0);
                }
            }

            // The part goes away: the next read fails, the supervisor reports it, and the filter
            // gives the window it held (1.0-1.2 s) instead of keeping it until the part is back.
            hardware.I2c.Detach(1, 0x40);
            clock.Advance(TimeSpan.FromMilliseconds(100));
            await Eventually.UntilAsync(() => health.Get(Bench).StartsWith("error: ", StringComparison.Ordinal), "the failure is reported");

            var outbox = host.Services.GetRequiredService<Outbox>();
            await Eventually.UntilAsync(() => outbox.PendingReadings >= 2, "two readings are in the outbox");
            var readings = Read(outbox);
            Assert.Equal([0.9, 1.2], readings.Select(r => r.Seconds));
            Assert.Equal(1.5, readings[0].Amps, 3); // five samples at 1 A, five at 2 A
            Assert.Equal(2.0, readings[1].Amps, 3);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    private static List<(double Seconds, double Amps)> Read(Outbox outbox) =>
        [.. outbox.ReadAfter(0, 1000)
            .SelectMany(b => JsonSerializer.Deserialize(b.Payload, ContractJsonContext.Default.ReadingsBatch)!.Readings)
            .Select(r => (Math.Round((r.Ts - TestClock.Start).TotalSeconds, 3), r.Values![ReadingKinds.DcValues.CurrentA]))];

    private static async Task<IReadOnlyList<(double Seconds, double Amps)>> RunAsync(bool filtered)
    {
        using var dir = new TempDirectory();
        var clock = TestClock.Create();
        var hardware = new SimulatedHardware();
        var part = hardware.I2c.Attach(1, 0x40, new SimulatedIna219(1, 0x40, 0.1));
        part.SetLoad(24.0, 1.0);
        var settings = AgentSettings.Base(dir.Path);
        AgentSettings.AddIna219(settings, 0, Bench, 0x40);
        settings["Agent:Sensors:0:SampleInterval"] = "00:00:00.100";
        if (filtered)
        {
            settings["Agent:Sensors:0:Filters:Delta:current_a"] = "0.01";
            settings["Agent:Sensors:0:Filters:Delta:voltage_v"] = "0.05";
            settings["Agent:Sensors:0:Filters:Heartbeat"] = "00:00:02";
        }

        using var host = SimulatedAgentHost.Create(settings, hardware, clock: clock);
        await host.StartAsync();
        try
        {
            var health = host.Services.GetRequiredService<SensorHealth>();
            await Eventually.UntilAsync(() => health.Get(Bench) == SensorHealth.Ok, "the first sample is read");
            for (var tick = 1; tick <= 50; tick++)
            {
                var reads = part.Reads;
                clock.Advance(TimeSpan.FromMilliseconds(100));
                // Bus voltage, current and power: three register reads a sample.
                await Eventually.UntilAsync(() => part.Reads >= reads + 3, $"sample {tick} is read");
                if (tick == 25)
                {
                    part.SetLoad(24.0, 1.5);
                }
            }

            var outbox = host.Services.GetRequiredService<Outbox>();
            var expected = filtered ? 4 : 51;
            await Eventually.UntilAsync(() => outbox.PendingReadings >= expected, $"{expected} readings are in the outbox");
            var readings = outbox.ReadAfter(0, 1000)
                .SelectMany(b => JsonSerializer.Deserialize(b.Payload, ContractJsonContext.Default.ReadingsBatch)!.Readings)
                .ToList();
            Assert.All(readings, r => Assert.Equal(Bench, r.Sensor));
            return [.. readings.Select(r => (Math.Round((r.Ts - TestClock.Start).TotalSeconds, 3), r.Values![ReadingKinds.DcValues.CurrentA]))];
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
