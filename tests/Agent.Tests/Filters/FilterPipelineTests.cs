using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
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
        await using var bench = await BenchPipeline.StartAsync(("Throttle", "00:00:01"));
        await bench.SampleAsync(12, changeAfter: 4, amps: 2.0);

        // The part goes away: the next read fails, the supervisor reports it, and the filter
        // gives the window it held (1.0-1.2 s) instead of keeping it until the part is back.
        bench.Hardware.I2c.Detach(1, 0x40);
        bench.Clock.Advance(TimeSpan.FromMilliseconds(100));
        await Eventually.UntilAsync(() => bench.Health.Get(Bench).StartsWith("error: ", StringComparison.Ordinal), "the failure is reported");

        var readings = await bench.PublishedAsync(2);
        Assert.Equal([0.9, 1.2], readings.Select(r => r.Seconds));
        Assert.Equal(1.5, readings[0].Amps, 3); // five samples at 1 A, five at 2 A
        Assert.Equal(2.0, readings[1].Amps, 3);
    }

    private static async Task<IReadOnlyList<(double Seconds, double Amps)>> RunAsync(bool filtered)
    {
        (string, string)[] filters = filtered
            ? [("Delta:current_a", "0.01"), ("Delta:voltage_v", "0.05"), ("Heartbeat", "00:00:02")]
            : [];
        await using var bench = await BenchPipeline.StartAsync(filters);
        await bench.SampleAsync(50, changeAfter: 25, amps: 1.5);
        return await bench.PublishedAsync(filtered ? 4 : 51);
    }

    /// <summary>One simulated INA219 at 24 V / 1 A, sampled every 100 ms, in a running agent on a fake clock.</summary>
    private sealed class BenchPipeline : IAsyncDisposable
    {
        private readonly TempDirectory _dir;
        private readonly IHost _host;
        private readonly SimulatedIna219 _part;

        private BenchPipeline(TempDirectory dir, FakeTimeProvider clock, SimulatedHardware hardware, SimulatedIna219 part, IHost host)
        {
            _dir = dir;
            Clock = clock;
            Hardware = hardware;
            _part = part;
            _host = host;
        }

        public FakeTimeProvider Clock { get; }

        public SimulatedHardware Hardware { get; }

        public SensorHealth Health => _host.Services.GetRequiredService<SensorHealth>();

        /// <summary>Starts the agent with the bench's filter settings (below <c>Filters:</c>) and waits for its first sample.</summary>
        public static async Task<BenchPipeline> StartAsync(params (string Key, string Value)[] filters)
        {
            var dir = new TempDirectory();
            var clock = TestClock.Create();
            var hardware = new SimulatedHardware();
            var part = hardware.I2c.Attach(1, 0x40, new SimulatedIna219(1, 0x40, 0.1));
            part.SetLoad(24.0, 1.0);
            var settings = AgentSettings.Base(dir.Path);
            AgentSettings.AddIna219(settings, 0, Bench, 0x40);
            settings["Agent:Sensors:0:SampleInterval"] = "00:00:00.100";
            foreach (var (key, value) in filters)
            {
                settings["Agent:Sensors:0:Filters:" + key] = value;
            }

            var host = SimulatedAgentHost.Create(settings, hardware, clock: clock);
            var bench = new BenchPipeline(dir, clock, hardware, part, host);
            await host.StartAsync();
            await Eventually.UntilAsync(() => bench.Health.Get(Bench) == SensorHealth.Ok, "the first sample is read");
            return bench;
        }

        /// <summary>Advances the clock one sample at a time; after sample <paramref name="changeAfter"/> the current becomes <paramref name="amps"/>.</summary>
        public async Task SampleAsync(int samples, int changeAfter, double amps)
        {
            for (var tick = 1; tick <= samples; tick++)
            {
                var reads = _part.Reads;
                Clock.Advance(TimeSpan.FromMilliseconds(100));
                // Bus voltage, current and power: three register reads a sample.
                await Eventually.UntilAsync(() => _part.Reads >= reads + 3, $"sample {tick} is read");
                if (tick == changeAfter)
                {
                    _part.SetLoad(24.0, amps);
                }
            }
        }

        /// <summary>Waits for <paramref name="expected"/> readings in the outbox; their seconds after the start and current.</summary>
        public async Task<List<(double Seconds, double Amps)>> PublishedAsync(int expected)
        {
            var outbox = _host.Services.GetRequiredService<Outbox>();
            await Eventually.UntilAsync(() => outbox.PendingReadings >= expected, $"{expected} readings are in the outbox");
            var readings = outbox.ReadAfter(0, 1000)
                .SelectMany(b => JsonSerializer.Deserialize(b.Payload, ContractJsonContext.Default.ReadingsBatch)!.Readings)
                .ToList();
            Assert.All(readings, r => Assert.Equal(Bench, r.Sensor));
            return [.. readings.Select(r => (Math.Round((r.Ts - TestClock.Start).TotalSeconds, 3), r.Values![ReadingKinds.DcValues.CurrentA]))];
        }

        public async ValueTask DisposeAsync()
        {
            await _host.StopAsync();
            _host.Dispose();
            _dir.Dispose();
        }
    }
}
