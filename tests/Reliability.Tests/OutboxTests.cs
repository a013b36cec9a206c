using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using NewTechPark.Edge.Agent.State;
using NewTechPark.Edge.Contracts.Payloads;
using NewTechPark.Edge.Contracts.Serialization;

namespace NewTechPark.Edge.Reliability.Tests;

/// <summary>The agent's durable outbox, on its own: order, persistence, bounds, and the sequence it shares with the state file.</summary>
public sealed class OutboxTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ntp-outbox-").FullName;

    private string DbPath => Path.Combine(_directory, "agent-pi-test.db");

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public void Batches_are_numbered_in_order_and_come_back_in_order_after_a_reopen_until_acknowledged()
    {
        ulong first;
        using (var state = new AgentStateStore(DbPath))
        using (var outbox = NewOutbox(state))
        {
            var entries = outbox.Append(Readings(2500));
            Assert.Equal([1000, 1000, 500], entries.Select(e => e.Readings));
            Assert.Equal(entries.Select(e => e.Seq).Order(), entries.Select(e => e.Seq));
            Assert.Equal(entries[^1].Seq, state.LastSequence);
            first = entries[0].Seq;
            var read = outbox.ReadAfter(0, 10);
            outbox.Acknowledge(read[0]);
            outbox.Flush();
            Assert.Equal(1500, outbox.PendingReadings);
        }

        // A restart (or a power cut after the commit): the unacknowledged batches are still there, in order.
        using (var state = new AgentStateStore(DbPath))
        using (var outbox = NewOutbox(state))
        {
            Assert.Equal(1500, outbox.PendingReadings);
            var left = outbox.ReadAfter(0, 10);
            Assert.Equal([first + 1, first + 2], left.Select(b => b.Seq));
            var batch = JsonSerializer.Deserialize(left[0].Payload, ContractJsonContext.Default.ReadingsBatch)!;
            Assert.Equal(first + 1, batch.Seq);
            Assert.Equal(1000, batch.Readings.Count);

            // New batches continue the sequence; the sequence never goes back.
            var more = outbox.Append(Readings(10));
            Assert.Equal(first + 3, more[0].Seq);
        }
    }

    [Fact]
    public void A_batch_over_256_KiB_is_split_without_skipping_a_sequence_number()
    {
        using var state = new AgentStateStore(DbPath);
        using var outbox = NewOutbox(state);
        var big = Enumerable.Range(0, 1000).Select(i => new Reading
        {
            Ts = DateTimeOffset.UtcNow,
            Sensor = "climate-" + i % 7,
            Kind = "climate",
            Values = Enumerable.Range(0, 8).ToDictionary(v => $"value_{v}_with_a_long_name_pct", v => i * 1.234567891 + v),
        }).ToList();

        var entries = outbox.Append(big);

        Assert.True(entries.Count > 1);
        Assert.Equal(1000, entries.Sum(e => e.Readings));
        for (var i = 1; i < entries.Count; i++)
        {
            Assert.Equal(entries[i - 1].Seq + 1, entries[i].Seq);
        }

        Assert.All(outbox.ReadAfter(0, 100), b => Assert.True(b.Payload.Length <= 256 * 1024));
    }

    [Fact]
    public void A_full_outbox_drops_the_oldest_batches_first_and_counts_their_readings_durably()
    {
        var options = new OutboxOptions { MaxBytes = 1 << 20 };
        long dropped;
        using (var state = new AgentStateStore(DbPath))
        using (var outbox = new Outbox(state, options, 1000, TimeProvider.System, NullLogger<Outbox>.Instance))
        {
            var all = new List<OutboxEntry>();
            for (var i = 0; i < 40; i++)
            {
                all.AddRange(outbox.Append(Readings(1000)));
            }

            Assert.True(outbox.PendingBytes <= options.MaxBytes);
            dropped = outbox.DroppedReadings;
            Assert.True(dropped > 0);
            var left = outbox.ReadAfter(0, 1000);
            Assert.Equal(all.Sum(e => (long)e.Readings), dropped + left.Sum(b => (long)b.Readings));

            // Oldest first: what is left is the newest run of batches.
            Assert.Equal(all.TakeLast(left.Count).Select(e => e.Seq), left.Select(b => b.Seq));
        }

        using (var state = new AgentStateStore(DbPath))
        using (var outbox = new Outbox(state, options, 1000, TimeProvider.System, NullLogger<Outbox>.Instance))
        {
            Assert.Equal(dropped, outbox.DroppedReadings);
        }
    }

    [Fact]
    public void The_batch_in_flight_is_never_dropped_and_a_sender_holding_an_older_window_must_read_again()
    {
        using var state = new AgentStateStore(DbPath);
        using var outbox = new Outbox(state, new OutboxOptions { MaxBytes = 1 << 20 }, 1000, TimeProvider.System, NullLogger<Outbox>.Instance);
        outbox.Append(Readings(1000));
        var generation = outbox.DropGeneration;
        var window = outbox.ReadAfter(0, 1);
        Assert.True(outbox.TrySetInFlight(window[0].Seq, generation));
        for (var i = 0; i < 40; i++)
        {
            outbox.Append(Readings(1000));
        }

        Assert.NotEqual(generation, outbox.DropGeneration);
        Assert.False(outbox.TrySetInFlight(window[0].Seq, generation));
        Assert.Equal(window[0].Seq, outbox.ReadAfter(0, 1)[0].Seq);
    }

    [Fact]
    public void Batches_older_than_the_age_bound_are_dropped()
    {
        var clock = new ShiftedClock();
        using var state = new AgentStateStore(DbPath, clock);
        using var outbox = new Outbox(state, new OutboxOptions { MaxAge = TimeSpan.FromDays(14) }, 1000, clock, NullLogger<Outbox>.Instance);
        outbox.Append(Readings(100));
        clock.Shift = TimeSpan.FromDays(15);

        outbox.Append(Readings(5));

        Assert.Equal(100, outbox.DroppedReadings);
        Assert.Equal(5, outbox.PendingReadings);
    }

    private static Outbox NewOutbox(AgentStateStore state) => new(state, new OutboxOptions(), 1000, TimeProvider.System, NullLogger<Outbox>.Instance);

    private static List<Reading> Readings(int count)
    {
        var now = DateTimeOffset.UtcNow;
        return [.. Enumerable.Range(0, count).Select(i => new Reading
        {
            Ts = now.AddMilliseconds(i),
            Sensor = "load-1",
            Kind = "load",
            Values = new Dictionary<string, double> { ["n_total"] = i },
        })];
    }

    private sealed class ShiftedClock : TimeProvider
    {
        public TimeSpan Shift { get; set; }

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Shift;
    }
}
