using Microsoft.Extensions.Logging.Abstractions;
using NewTechPark.Edge.Collector.Sinks;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Contracts.Payloads;
using NewTechPark.Edge.Contracts.Topics;

namespace NewTechPark.Edge.Reliability.Tests;

/// <summary>The InfluxDB sink's durable queue and its line protocol, without a server.</summary>
public sealed class DurableQueueTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ntp-queue-").FullName;

    private string QueuePath => Path.Combine(_directory, "influx-queue.db");

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public void Chunks_survive_a_reopen_and_leave_in_order_only_when_removed()
    {
        using (var queue = new DurableQueue(QueuePath, 1L << 30, 2, NullLogger.Instance))
        {
            queue.Append(["a v=1 1", "a v=2 2", "a v=3 3"], 0);
            Assert.Equal(3, queue.Points);
            Assert.Equal(2, queue.Chunks);
        }

        using (var queue = new DurableQueue(QueuePath, 1L << 30, 2, NullLogger.Instance))
        {
            var first = queue.Peek()!;
            Assert.Equal(["a v=1 1", "a v=2 2"], first.Lines());
            queue.Remove(first);
            Assert.Equal(["a v=3 3"], queue.Peek()!.Lines());
            Assert.Equal(1, queue.Points);
        }
    }

    [Fact]
    public void A_queue_past_its_bound_drops_the_oldest_points_and_counts_them()
    {
        using var queue = new DurableQueue(QueuePath, 1 << 20, 1000, NullLogger.Instance);
        var line = "load,site=s,device=d,sensor=x n_total=1 " + new string('1', 13);
        for (var i = 0; i < 40; i++)
        {
            queue.Append([.. Enumerable.Repeat(line, 1000)], i);
        }

        Assert.True(queue.Bytes <= 1 << 20);
        Assert.Equal(40_000, queue.Points + queue.DroppedPoints);
        Assert.True(queue.DroppedPoints > 0);
    }

    [Fact]
    public void Readings_become_one_line_each_with_kind_as_measurement_and_site_device_sensor_as_tags_and_a_badge_scan_without_its_pseudonym()
    {
        var lines = new List<string>();
        LineProtocol.Append(new ReadingsItem(
            new TopicAddress("newtechpark", "pi-dc-lab", TopicChannel.Readings),
            new ReadingsBatch
            {
                Seq = 1,
                Sent = DateTimeOffset.UnixEpoch,
                Readings =
                [
                    new Reading { Ts = DateTimeOffset.FromUnixTimeMilliseconds(1_795_856_400_123), Sensor = "dc-bench-1", Kind = "dc", Values = new() { ["voltage_v"] = 24.01, ["current_a"] = 1.5 } },
                    new Reading { Ts = DateTimeOffset.FromUnixTimeMilliseconds(1_795_856_400_124), Sensor = "badge-entrance", Kind = "badge", Visitor = "Zk3J9aQ2mX0pR7tV1wY4bC" },
                ],
            },
            DateTimeOffset.UnixEpoch), lines);

        Assert.Equal(
        [
            "dc,device=pi-dc-lab,sensor=dc-bench-1,site=newtechpark current_a=1.5,voltage_v=24.01 1795856400123",
            "badge,device=pi-dc-lab,sensor=badge-entrance,site=newtechpark scans=1i 1795856400124",
        ], lines);
        // The pseudonym never leaves the collector's store, where the scan retention reaches it.
        Assert.DoesNotContain(lines, l => l.Contains("Zk3J9aQ2mX0pR7tV1wY4bC", StringComparison.Ordinal));
    }
}
