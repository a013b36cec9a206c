using Microsoft.Extensions.Logging.Abstractions;
using NewTechPark.Edge.Agent.State;
using NewTechPark.Edge.Collector.Sinks;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Reliability.Tests;

/// <summary>
/// Issue 14: the agent's outbox and the InfluxDB sink's durable queue give their WAL space back
/// after a burst. Bursts of 200,000 readings or points, a fifth of the collector's million, so the
/// WAL must end at most a fifth of 64 MiB.
/// </summary>
public sealed class WalBoundTests : IDisposable
{
    private const int Burst = 200_000;
    private const long Limit = 64L * 1024 * 1024 * Burst / 1_000_000;

    private readonly TempDirectory _dir = new();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    private static long WalBytes(string file) => new FileInfo(file + "-wal") is { Exists: true } wal ? wal.Length : 0;

    [Fact]
    public void The_outbox_wal_is_small_once_a_burst_drained()
    {
        var path = _dir.File("agent.db");
        using var state = new AgentStateStore(path);
        using var outbox = new Outbox(state, new OutboxOptions(), 1000, TimeProvider.System, NullLogger<Outbox>.Instance);
        var now = DateTimeOffset.UtcNow;
        long largest = 0;
        for (var b = 0; b < Burst / 1000; b++)
        {
            outbox.Append([.. Enumerable.Range(0, 1000).Select(i => new Reading
            {
                Ts = now.AddMilliseconds(b * 1000 + i),
                Sensor = "load-1",
                Kind = "load",
                Values = new Dictionary<string, double> { ["n_total"] = b * 1000 + i },
            })]);
            largest = Math.Max(largest, WalBytes(path));
        }

        ulong after = 0;
        while (outbox.ReadAfter(after, 100) is { Count: > 0 } batches)
        {
            foreach (var batch in batches)
            {
                outbox.Acknowledge(batch);
                after = batch.Seq;
            }

            outbox.Flush();
        }

        Assert.Equal(0, outbox.PendingBatches);
        Assert.True(WalBytes(path) <= Limit, $"outbox WAL {WalBytes(path)} bytes after the burst (largest {largest}), limit {Limit}");
    }

    [Fact]
    public void The_durable_queue_wal_is_small_once_a_burst_drained()
    {
        var path = _dir.File("influx-queue.db");
        using var queue = new DurableQueue(path, 1L << 30, 1000, NullLogger.Instance);
        var line = "load,site=s,device=d,sensor=x n_total=1 " + new string('1', 13);
        long largest = 0;
        for (var i = 0; i < Burst / 1000; i++)
        {
            queue.Append([.. Enumerable.Repeat(line, 1000)], i);
            largest = Math.Max(largest, WalBytes(path));
        }

        while (queue.Peek() is { } chunk)
        {
            queue.Remove(chunk);
        }

        Assert.Equal(0, queue.Chunks);
        Assert.True(WalBytes(path) <= Limit, $"queue WAL {WalBytes(path)} bytes after the burst (largest {largest}), limit {Limit}");
    }
}
