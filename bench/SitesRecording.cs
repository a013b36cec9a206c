using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Contracts.Payloads;
using NewTechPark.Edge.Contracts.Serialization;
using NewTechPark.Edge.Demo;
using NewTechPark.Edge.Simulation;

namespace NewTechPark.Edge.Bench;

/// <summary>One message a simulated Pi published: when (from the recording's start), by which device, what.</summary>
public sealed record RecordedMessage(TimeSpan At, string Device, bool IsStatus, bool Retain, byte[] Payload, ReadingsBatch? Batch, int TopicBytes);

/// <summary>
/// What the default site's Pis publish, recorded live: the demo's simulated agents (the real agent
/// code on simulated buses, one per device of the site file, DC benches sampled every 100 ms as the
/// shipped agent settings do) and the demo's scenario (a school class, the week's MBO group in the
/// DC-Lab, arrivals every two seconds, the day plan's groups) publish to a bare MQTTnet broker,
/// where a subscriber keeps every message with its arrival time. The scenario's busy start is the
/// load: a busier minute than most of a real day's.
/// </summary>
public sealed class SitesRecording
{
    private SitesRecording(SiteModel site, IReadOnlyList<RecordedMessage> messages, TimeSpan length, DateTimeOffset startedAt)
    {
        Site = site;
        StartedAt = startedAt;
        Messages = messages;
        Length = length;
    }

    public SiteModel Site { get; }

    /// <summary>The wall clock at the recording's zero: readings' timestamps are shifted from it.</summary>
    public DateTimeOffset StartedAt { get; }

    public IReadOnlyList<RecordedMessage> Messages { get; }

    public TimeSpan Length { get; }

    public IReadOnlyList<string> Devices => Messages.Select(m => m.Device).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    public static async Task<SitesRecording> RecordAsync(TimeSpan length)
    {
        var site = SiteLoader.Load(Path.Combine(AppContext.BaseDirectory, "Site", "default-site.json"));
        await using var broker = await BareBroker.StartAsync();
        using var data = new TempDirectory("ntp-bench-sites-record-");
        var messages = new List<RecordedMessage>();
        var watch = new Stopwatch();
        using var subscriber = await Mqtt.ConnectAsync(broker.Port, $"bench-recorder-{Guid.NewGuid():N}");
        subscriber.ApplicationMessageReceivedAsync += e =>
        {
            if (!watch.IsRunning)
            {
                return Task.CompletedTask;
            }

            // ntp/v1/{site}/{device}/{readings|status}
            var parts = e.ApplicationMessage.Topic.Split('/');
            var payload = System.Buffers.BuffersExtensions.ToArray(e.ApplicationMessage.Payload);
            var isStatus = parts[^1] == "status";
            var batch = isStatus ? null : JsonSerializer.Deserialize(payload, ContractJsonContext.Default.ReadingsBatch);
            lock (messages)
            {
                messages.Add(new RecordedMessage(watch.Elapsed, parts[3], isStatus, e.ApplicationMessage.Retain, payload, batch, e.ApplicationMessage.Topic.Length));
            }

            return Task.CompletedTask;
        };
        await subscriber.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("ntp/v1/#", MqttQualityOfServiceLevel.AtLeastOnce).Build());

        var demo = DemoSite.Build(site, "127.0.0.1", broker.Port, _ => "bench-recording", data.Path, TimeSpan.FromMilliseconds(100));
        var agents = new List<IHost>();
        var startedAt = DateTimeOffset.UtcNow;
        using var stop = new CancellationTokenSource();
        try
        {
            startedAt = DateTimeOffset.UtcNow;
            watch.Start();
            foreach (var agent in demo.Agents)
            {
                var host = SimulatedAgentHost.Create(agent.Settings, agent.Hardware, logging => logging.SetMinimumLevel(LogLevel.Error));
                await host.StartAsync();
                agents.Add(host);
            }

            var scenario = new DemoScenario(site, demo, seed: 2026, arrivalsPerMinute: 30);
            var running = scenario.RunAsync(TimeProvider.System, stop.Token);
            await Task.Delay(length);
            watch.Stop();
            await stop.CancelAsync();
            try
            {
                await running;
            }
            catch (OperationCanceledException)
            {
            }
        }
        finally
        {
            foreach (var agent in agents)
            {
                await agent.StopAsync();
                agent.Dispose();
            }
        }

        lock (messages)
        {
            return new SitesRecording(site, messages.Where(m => m.At < length).OrderBy(m => m.At).ToList(), length, startedAt);
        }
    }
}
