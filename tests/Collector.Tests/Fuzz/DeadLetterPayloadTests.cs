using System.Buffers;
using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using NewTechPark.Edge.Collector.Ingest;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Contracts.Topics;
using NewTechPark.Edge.Contracts.Validation;
using static NewTechPark.Edge.Collector.Tests.TestData;

namespace NewTechPark.Edge.Collector.Tests.Fuzz;

/// <summary>Dead letters keep the start of a refused payload and its length, so junk cannot fill the disk at the rate it arrives.</summary>
public sealed class DeadLetterPayloadTests : IDisposable
{
    private static readonly DateTimeOffset Noon = new(2026, 6, 10, 10, 0, 0, TimeSpan.Zero);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_multi_megabyte_message_is_dead_lettered_with_its_first_64_KiB_and_its_length()
    {
        var payload = new byte[5 * 1024 * 1024];
        new Random(7).NextBytes(payload);
        var intake = new IngestIntake(new FakeTimeProvider(Noon));

        var dead = Assert.IsType<DeadLetterItem>(intake.Read(ContractTopics.Readings(SiteId, "pi-big"), new ReadOnlySequence<byte>(payload), Noon));

        Assert.Equal(nameof(ContractRule.MessageTooLarge), dead.Rule);
        Assert.Contains("5,242,880 bytes", dead.Reason, StringComparison.Ordinal);
        Assert.Equal(DeadLetterItem.MaxStoredPayloadBytes, dead.Payload.Length);
        Assert.Equal(payload.Length, dead.PayloadLength);
        Assert.True(payload.AsSpan(0, DeadLetterItem.MaxStoredPayloadBytes).SequenceEqual(dead.Payload));

        using var store = Store(_dir);
        store.Commit([dead]);
        using var connection = store.OpenReader();
        using var row = connection.CreateCommand();
        row.CommandText = "SELECT length(payload), payload_length, rule FROM dead_letters";
        using var reader = row.ExecuteReader();
        Assert.True(reader.Read());
        Assert.Equal((DeadLetterItem.MaxStoredPayloadBytes, payload.Length, nameof(ContractRule.MessageTooLarge)), (reader.GetInt32(0), reader.GetInt64(1), reader.GetString(2)));
    }

    [Fact]
    public void A_small_refused_message_is_kept_whole_with_its_length()
    {
        var payload = Encoding.UTF8.GetBytes("{\"v\":1,\"seq\":1,\"sent\":\"2026-06-10T10:00:00.000Z\",\"readings\":[]}");
        var intake = new IngestIntake(new FakeTimeProvider(Noon));

        var dead = Assert.IsType<DeadLetterItem>(intake.Read(ContractTopics.Readings(SiteId, "pi-small"), new ReadOnlySequence<byte>(payload), Noon));

        Assert.Equal(nameof(ContractRule.EmptyBatch), dead.Rule);
        Assert.Equal(payload, dead.Payload);
        Assert.Equal(payload.Length, dead.PayloadLength);
    }

    [Fact]
    public void A_store_made_before_payload_lengths_gains_the_column_and_keeps_its_dead_letters()
    {
        var path = _dir.File("collector.db");
        using (var old = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            old.Open();
            using var create = old.CreateCommand();
            create.CommandText = """
                CREATE TABLE dead_letters (
                    id INTEGER PRIMARY KEY, received_ms INTEGER NOT NULL, topic TEXT NOT NULL, rule TEXT NOT NULL, reason TEXT NOT NULL, payload BLOB NOT NULL);
                INSERT INTO dead_letters (received_ms, topic, rule, reason, payload) VALUES (1, 'ntp/v1/test-site/pi-old/readings', 'MalformedJson', 'old', x'0102');
                """;
            create.ExecuteNonQuery();
        }

        using var store = new SqliteStore(path, NullLogger<SqliteStore>.Instance);
        store.Commit([new DeadLetterItem("ntp/v1/test-site/pi-new/readings", "MalformedJson", "new", [1, 2, 3], Noon)]);

        using var connection = store.OpenReader();
        using var rows = connection.CreateCommand();
        rows.CommandText = "SELECT reason, length(payload), payload_length FROM dead_letters ORDER BY id";
        using var reader = rows.ExecuteReader();
        Assert.True(reader.Read());
        Assert.Equal(("old", 2L, true), (reader.GetString(0), reader.GetInt64(1), reader.IsDBNull(2)));
        Assert.True(reader.Read());
        Assert.Equal(("new", 3L, 3L), (reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2)));
    }

    [Theory]
    [InlineData("ntp/v1/test-site/pi\nFAKE LOG LINE/readings", "ntp/v1/test-site/pi?FAKE LOG LINE/readings")]
    [InlineData("ntp/v1/test-site/pi\u0000x/readings", "ntp/v1/test-site/pi?x/readings")]
    [InlineData("ntp/v1/test-site/pi-\u202Eevil/status", "ntp/v1/test-site/pi-?evil/status")]
    [InlineData("ntp/v1/test-site/pi-\r\u001b[31m/readings", "ntp/v1/test-site/pi-??[31m/readings")]
    public void A_topic_with_line_breaks_nul_escapes_or_direction_overrides_is_dead_lettered_printable(string topic, string kept)
    {
        var intake = new IngestIntake(new FakeTimeProvider(Noon));

        var dead = Assert.IsType<DeadLetterItem>(intake.Read(topic, new ReadOnlySequence<byte>("{}"u8.ToArray()), Noon));

        Assert.Equal(nameof(ContractRule.InvalidTopic), dead.Rule);
        Assert.Equal(kept, dead.Topic);
        Assert.Equal(kept, IngestIntake.Printable(topic));
        Assert.DoesNotContain(dead.Reason, c => char.IsControl(c) || char.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.Format);
    }
}
