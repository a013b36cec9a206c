using System.Device.Gpio;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NewTechPark.Edge.Agent.Hosting;
using NewTechPark.Edge.Agent.Readers.Energy;
using NewTechPark.Edge.Simulation;
using NewTechPark.Edge.Agent.State;

namespace NewTechPark.Edge.Bench;

/// <summary>
/// The real agent with 20 S0 meter readers on the simulated GPIO driver; a thread drives 2,000
/// edges a second across the 20 pins (each a 50 Hz pulse train, 10 ms low, 10 ms high) for 60 s.
/// Lost edges: edges driven minus edges the driver delivered to a reader; lost pulses: pulses
/// driven minus the pulses the readers counted (their persisted pulses_total).
/// </summary>
public static class PulsesScenario
{
    private const int Channels = 20;
    private const int FirstPin = 2;
    private const double EdgesPerSecond = 2000;

    public static async Task<string> RunAsync(TimeSpan duration)
    {
        using var data = new TempDirectory("ntp-bench-pulses-");
        var hardware = new SimulatedHardware();
        var settings = new List<KeyValuePair<string, string?>>
        {
            new("Agent:Site", "newtechpark"),
            new("Agent:Device", "pi-pulses"),
            new("Agent:DataDirectory", data.Path),
            new("Agent:Broker:Host", "127.0.0.1"),
            new("Agent:Broker:Port", FreePort.Next().ToString()), // nothing listens: readings wait in the outbox
        };
        for (var c = 0; c < Channels; c++)
        {
            hardware.Gpio.SetInput(FirstPin + c, PinValue.High);
            settings.Add(new($"Agent:Sensors:{c}:Id", $"meter-{c}"));
            settings.Add(new($"Agent:Sensors:{c}:Type", "s0-meter"));
            settings.Add(new($"Agent:Sensors:{c}:PulsePin", (FirstPin + c).ToString()));
            settings.Add(new($"Agent:Sensors:{c}:Debounce", "00:00:00.002"));
            settings.Add(new($"Agent:Sensors:{c}:SampleInterval", "00:00:01"));
        }

        using var host = SimulatedAgentHost.Create(settings, hardware, logging => logging.SetMinimumLevel(LogLevel.Error));
        await host.StartAsync();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!Enumerable.Range(FirstPin, Channels).All(hardware.Gpio.IsOpen))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("the S0 readers did not open their pins");
            }

            await Task.Delay(20);
        }

        var state = host.Services.GetRequiredService<AgentStateStore>();
        var before = Enumerable.Range(0, Channels).Sum(c => state.GetCounter($"meter-{c}", S0MeterReader.PulsesCounter));
        var deliveredBefore = hardware.Gpio.EdgesDelivered;
        var totalEdges = (long)(EdgesPerSecond * duration.TotalSeconds);
        long fired = 0;
        double maxLagMs = 0;
        long definitelyShort = 0, possiblyShort = 0;
        var debounceTicks = TimeSpan.FromMilliseconds(2).TotalSeconds * Stopwatch.Frequency;
        var driver = new Thread(() =>
        {
            var watch = Stopwatch.StartNew();
            var level = new bool[Channels]; // true: pulse active (line low)
            var fallBefore = new long[Channels];
            var fallAfter = new long[Channels];
            while (fired < totalEdges)
            {
                var now = watch.Elapsed.TotalMilliseconds;
                while (fired < totalEdges && fired * 1000.0 / EdgesPerSecond <= now)
                {
                    maxLagMs = Math.Max(maxLagMs, now - fired * 1000.0 / EdgesPerSecond);
                    var c = (int)(fired % Channels);
                    level[c] = !level[c];
                    var before = Stopwatch.GetTimestamp();
                    hardware.Gpio.SetInput(FirstPin + c, level[c] ? PinValue.Low : PinValue.High);
                    var after = Stopwatch.GetTimestamp();
                    if (level[c])
                    {
                        (fallBefore[c], fallAfter[c]) = (before, after);
                    }
                    else
                    {
                        // How long the line was low as a reader could have seen it: between these bounds.
                        // A late driver thread can make a pulse narrower than the debounce; the reader
                        // rightly ignores such a pulse (it is contact bounce to it).
                        definitelyShort += after - fallBefore[c] < debounceTicks ? 1 : 0;
                        possiblyShort += before - fallAfter[c] < debounceTicks ? 1 : 0;
                    }

                    fired++;
                }

                Thread.Sleep(1);
            }
        }) { IsBackground = true, Priority = ThreadPriority.Highest, Name = "bench-pulses" };
        var run = Stopwatch.StartNew();
        driver.Start();
        driver.Join();
        var elapsed = run.Elapsed;
        // Every line is back high; the readers persist their totals each sample interval.
        await Task.Delay(2500);
        var delivered = hardware.Gpio.EdgesDelivered - deliveredBefore;
        var counted = Enumerable.Range(0, Channels).Sum(c => state.GetCounter($"meter-{c}", S0MeterReader.PulsesCounter)) - before;
        await host.StopAsync();
        var pulses = fired / 2;
        var lostEdges = fired - delivered;
        var lostPulses = pulses - counted;
        Console.WriteLine($"  {Channels} S0 readers, {fired:N0} edges driven in {elapsed.TotalSeconds:F1} s ({fired / elapsed.TotalSeconds:N0}/s; driver thread max lag {maxLagMs:F1} ms)");
        Console.WriteLine($"  edges delivered to readers {delivered:N0}, lost {lostEdges}; pulses driven {pulses:N0}, counted {counted:N0}, lost {lostPulses}");
        Console.WriteLine($"  pulses the late driver thread made narrower than the 2 ms debounce: at least {definitelyShort}, at most {possiblyShort}");
        var unexplained = Math.Max(0, lostPulses - possiblyShort);
        Console.WriteLine($"  target: no lost edge: {(lostEdges == 0 && unexplained == 0 ? "met" : "MISSED")} ({unexplained} pulses lost beyond those too short to count)");
        return $"pulses: {lostEdges} edges lost of {fired:N0} ({fired / elapsed.TotalSeconds:F0} edges/s across {Channels} channels, {elapsed.TotalSeconds:F0} s); pulses {lostPulses} not counted, {unexplained} beyond the {possiblyShort} the driver made shorter than the debounce";
    }
}
