using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Live;
using NewTechPark.Edge.Collector.Metrics;

namespace NewTechPark.Edge.Collector.Tests;

/// <summary>The live fan-out: batches handed over without waiting, per-client buffers bounded in events, slow clients dropped.</summary>
public sealed class LiveFanOutTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private static readonly DateTimeOffset Noon = new(2026, 6, 10, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_slow_client_is_dropped_while_a_fast_one_gets_every_event()
    {
        var metrics = new CollectorMetrics();
        using var hub = new LiveEventHub(metrics, Options.Create(new CollectorOptions { Stream = new StreamOptions { ClientBufferEvents = 100 } }));
        using var fast = hub.Subscribe();
        using var slow = hub.Subscribe();

        var received = new List<LiveEvent>();
        for (var batch = 0; batch < 50; batch++)
        {
            var events = Enumerable.Range(0, 10).Select(i => (LiveEvent)Reading(batch * 10 + i)).ToList();
            hub.Publish(events);
            // The fast client reads each batch as it comes; the slow one never reads.
            Assert.True(await fast.WaitAsync(CancellationToken.None).AsTask().WaitAsync(Patience));
            while (received.Count < (batch + 1) * 10)
            {
                if (fast.TryTake(out var taken))
                {
                    received.AddRange(taken.Events);
                }
                else
                {
                    Assert.True(await fast.WaitAsync(CancellationToken.None).AsTask().WaitAsync(Patience));
                }
            }
        }

        Assert.Equal(Enumerable.Range(0, 500).Select(i => (double)i), received.Select(e => ((ReadingEvent)e).Values!["power_w"]));
        Assert.True(slow.IsDropped);
        Assert.True(slow.Dropped.IsCancellationRequested || await Cancelled(slow.Dropped));
        Assert.False(await slow.WaitAsync(CancellationToken.None).AsTask().WaitAsync(Patience));
        Assert.False(fast.IsDropped);
        Assert.Equal(1, hub.Subscribers);
        Assert.Equal(1, metrics.StreamClientsDropped.WithLabels("slow").Value);
    }

    [Fact]
    public void Publishing_never_waits_and_drops_what_the_fan_out_queue_cannot_hold()
    {
        var metrics = new CollectorMetrics();
        using var hub = new LiveEventHub(metrics);
        using var idle = hub.Subscribe();
        var big = Enumerable.Range(0, LiveEventHub.FanOutCapacityEvents / 2).Select(i => (LiveEvent)Reading(i)).ToList();

        // Each call only writes to a queue; whatever the fan-out task has not taken yet counts.
        for (var i = 0; i < 10; i++)
        {
            hub.Publish(big);
        }

        Assert.True(hub.FanOutQueued <= LiveEventHub.FanOutCapacityEvents);
    }

    [Fact]
    public async Task One_commit_group_goes_out_as_one_batch_with_occupancy_events_in_order()
    {
        var metrics = new CollectorMetrics();
        using var hub = new LiveEventHub(metrics);
        using var client = hub.Subscribe();
        using (hub.Gather())
        {
            hub.Publish(Reading(1));
            hub.Publish(new OccupancyEvent("hall", 1, 100, Noon, 1));
            hub.Publish(Reading(2));
        }

        Assert.True(await client.WaitAsync(CancellationToken.None).AsTask().WaitAsync(Patience));
        Assert.True(client.TryTake(out var batch));
        Assert.Equal(["reading", "occupancy", "reading"], batch.Events.Select(e => e.Type));

        var json = new JsonSerializerOptions(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
        var text = Encoding.UTF8.GetString(batch.Sse(json).Span);
        Assert.StartsWith("event: reading\ndata: {\"device\":\"pi-meter\"", text, StringComparison.Ordinal);
        Assert.Contains("\n\nevent: occupancy\ndata: {\"room\":\"hall\",\"count\":1,", text, StringComparison.Ordinal);
        Assert.EndsWith("}\n\n", text, StringComparison.Ordinal);
        // Formatted once, shared by every client.
        Assert.True(batch.Sse(json).Span == batch.Sse(json).Span);
    }

    private static ReadingEvent Reading(int i) =>
        new("pi-meter", "meter-grid", "energy", Noon.AddMilliseconds(i), new Dictionary<string, double> { ["power_w"] = i });

    private static async Task<bool> Cancelled(CancellationToken token)
    {
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var registration = token.Register(() => cancelled.TrySetResult());
        await cancelled.Task.WaitAsync(Patience);
        return true;
    }
}
