using Microsoft.Data.Sqlite;
using NewTechPark.Edge.Agent.State;
using NewTechPark.Edge.Agent.Tests.Support;

namespace NewTechPark.Edge.Agent.Tests;

public sealed class AgentStateStoreTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A clock at 1970-01-01, where a new store's sequence starts at zero.</summary>
    private static readonly TimeProvider Epoch = new FakeTimeProvider(DateTimeOffset.UnixEpoch);

    private string DbPath => _dir.File("agent-pi-test.db");

    [Fact]
    public void A_new_store_starts_its_sequence_at_the_time_in_microseconds_so_a_lost_state_file_never_reuses_numbers()
    {
        var earlier = new FakeTimeProvider(new DateTimeOffset(2026, 11, 28, 9, 0, 0, TimeSpan.Zero));
        ulong lastBeforeLoss;
        using (var store = new AgentStateStore(DbPath, earlier))
        {
            Assert.Equal(1_795_856_400_000_000UL, store.LastSequence);
            for (var i = 0; i < 1000; i++)
            {
                store.NextSequence();
            }

            lastBeforeLoss = store.LastSequence;
        }

        // The SD card is replaced a second later: the state file is gone.
        File.Delete(DbPath);
        using var fresh = new AgentStateStore(DbPath, new FakeTimeProvider(new DateTimeOffset(2026, 11, 28, 9, 0, 1, TimeSpan.Zero)));
        Assert.True(fresh.NextSequence() > lastBeforeLoss);
    }

    [Fact]
    public void A_new_store_at_the_epoch_starts_at_sequence_zero_and_counts_up_by_one()
    {
        using var store = new AgentStateStore(DbPath, Epoch);

        Assert.Equal(0UL, store.LastSequence);
        Assert.Equal(1UL, store.NextSequence());
        Assert.Equal(2UL, store.NextSequence());
        Assert.Equal(3UL, store.NextSequence());
        Assert.Equal(3UL, store.LastSequence);
    }

    [Fact]
    public void The_sequence_survives_reopening_the_file()
    {
        using (var store = new AgentStateStore(DbPath, Epoch))
        {
            store.NextSequence();
            store.NextSequence();
        }

        using (var store = new AgentStateStore(DbPath, Epoch))
        {
            Assert.Equal(2UL, store.LastSequence);
            Assert.Equal(3UL, store.NextSequence());
        }

        using (var store = new AgentStateStore(DbPath, Epoch))
        {
            Assert.Equal(4UL, store.NextSequence());
        }
    }

    [Fact]
    public void The_store_creates_its_directory()
    {
        var path = Path.Combine(_dir.Path, "nested", "deeper", "agent.db");

        using var store = new AgentStateStore(path, Epoch);

        Assert.Equal(1UL, store.NextSequence());
        Assert.True(File.Exists(path));
    }

    [Fact]
    public void Counters_set_before_NextSequence_are_persisted_with_it()
    {
        using (var store = new AgentStateStore(DbPath, Epoch))
        {
            store.SetCounter("door-main", "in_total", 5321);
            store.SetCounter("door-main", "out_total", 5310);
            store.SetCounter("meter-grid", "energy_wh_total", 1_234_567);
            store.NextSequence();
        }

        using (var store = new AgentStateStore(DbPath, Epoch))
        {
            Assert.Equal(5321, store.GetCounter("door-main", "in_total"));
            Assert.Equal(5310, store.GetCounter("door-main", "out_total"));
            Assert.Equal(1_234_567, store.GetCounter("meter-grid", "energy_wh_total"));
            Assert.Equal(0, store.GetCounter("door-main", "never_set_total"));
        }
    }

    /// <summary>
    /// By design: a counter reaches the disk only with the next sequence number, in the same
    /// transaction as the batch that carries it. A value set after the last NextSequence belongs
    /// to readings not yet in any batch, so after a restart the store holds the last total that
    /// was actually handed to a batch.
    /// </summary>
    [Fact]
    public void Counters_set_after_the_last_NextSequence_are_not_persisted_by_design()
    {
        using (var store = new AgentStateStore(DbPath, Epoch))
        {
            store.SetCounter("door-main", "in_total", 10);
            store.NextSequence();
            store.SetCounter("door-main", "in_total", 11);
            store.SetCounter("door-side", "in_total", 3);
            Assert.Equal(11, store.GetCounter("door-main", "in_total")); // in memory it is current
        }

        using (var store = new AgentStateStore(DbPath, Epoch))
        {
            Assert.Equal(10, store.GetCounter("door-main", "in_total"));
            Assert.Equal(0, store.GetCounter("door-side", "in_total"));
            Assert.Equal(1UL, store.LastSequence);
        }
    }

    [Fact]
    public void Only_changed_counters_are_written_and_later_values_win()
    {
        using (var store = new AgentStateStore(DbPath, Epoch))
        {
            store.SetCounter("door-main", "in_total", 1);
            store.SetCounter("door-main", "out_total", 1);
            store.NextSequence();
            store.SetCounter("door-main", "in_total", 2);
            store.SetCounter("door-main", "in_total", 3);
            store.NextSequence();
        }

        using (var store = new AgentStateStore(DbPath, Epoch))
        {
            Assert.Equal(3, store.GetCounter("door-main", "in_total"));
            Assert.Equal(1, store.GetCounter("door-main", "out_total"));
            Assert.Equal(2UL, store.LastSequence);
        }
    }

    [Fact]
    public void The_database_is_in_WAL_mode()
    {
        using var store = new AgentStateStore(DbPath, Epoch);
        store.NextSequence();

        var connectionString = new SqliteConnectionStringBuilder { DataSource = DbPath, Pooling = false, Mode = SqliteOpenMode.ReadOnly }.ToString();
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";

        Assert.Equal("wal", command.ExecuteScalar() as string);
    }
}
