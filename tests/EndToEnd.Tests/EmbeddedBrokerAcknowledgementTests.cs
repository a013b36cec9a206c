using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using NewTechPark.Edge.Collector.Ingest;
using NewTechPark.Edge.Collector.Metrics;
using NewTechPark.Edge.Contracts.Payloads;
using NewTechPark.Edge.Contracts.Serialization;
using NewTechPark.Edge.EndToEnd.Tests.Infrastructure;

namespace NewTechPark.Edge.EndToEnd.Tests;

/// <summary>
/// The embedded broker sends a PUBACK only once its message is committed, and a device's window of
/// publishes is committed together rather than one message per commit.
/// </summary>
public sealed class EmbeddedBrokerAcknowledgementTests : IAsyncLifetime
{
    private const int Window = 200;
    private RunningCollector _collector = null!;

    public async Task InitializeAsync() => _collector = await RunningCollector.StartAsync(extra: TestCredentials.CollectorArgs("pi-ack-test"));

    public async Task DisposeAsync() => await _collector.DisposeAsync();

    [Fact]
    public async Task Every_PUBACK_of_a_full_window_arrives_after_its_batch_is_in_the_store_and_the_window_shares_commits()
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", _collector.BrokerPort)
            .WithClientId("pi-ack-test")
            .WithCredentials("pi-ack-test", TestCredentials.PasswordOf("pi-ack-test"))
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .Build());
        var commits = _collector.Services.GetRequiredService<CollectorMetrics>().CommitSeconds;
        var pipeline = _collector.Services.GetRequiredService<IngestPipeline>();
        var start = DateTimeOffset.UtcNow.AddMinutes(-1);

        // Hold SQLite's write lock, so nothing can commit: a broker that waited for the commit on
        // the connection's receive loop would read one message and stop there.
        using var blocker = new SqliteConnection($"Data Source={Path.Combine(_collector.DataDirectory, "collector.db")};Pooling=False");
        blocker.Open();
        using (var begin = blocker.CreateCommand())
        {
            begin.CommandText = "BEGIN IMMEDIATE";
            begin.ExecuteNonQuery();
        }

        var commitsBefore = commits.Count;
        var acknowledged = Enumerable.Range(1, Window).Select(async seq =>
        {
            var batch = new ReadingsBatch
            {
                Seq = (ulong)seq,
                Sent = DateTimeOffset.UtcNow,
                Readings = [new Reading { Ts = start.AddMilliseconds(seq), Sensor = "meter-grid", Kind = ReadingKinds.Energy, Values = new() { ["power_w"] = seq } }],
            };
            var message = new MqttApplicationMessageBuilder()
                .WithTopic("ntp/v1/newtechpark/pi-ack-test/readings")
                .WithPayload(JsonSerializer.SerializeToUtf8Bytes(batch, ContractJsonContext.Default.ReadingsBatch))
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                .Build();
            var result = await client.PublishAsync(message);
            // Looked at the moment the PUBACK is in: the batch must already be committed.
            return (result.IsSuccess, Stored: BatchStored(seq));
        }).ToList();

        // The whole window is read and handed to the pipeline while nothing is committed, and no PUBACK has left.
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (pipeline.Queued < Window && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        Assert.Equal(Window, pipeline.Queued);
        Assert.DoesNotContain(acknowledged, a => a.IsCompleted);
        using (var rollback = blocker.CreateCommand())
        {
            rollback.CommandText = "ROLLBACK";
            rollback.ExecuteNonQuery();
        }

        var outcomes = await Task.WhenAll(acknowledged).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.All(outcomes, o => Assert.True(o.IsSuccess && o.Stored));
        // The window shares a few commits instead of one each.
        Assert.True(commits.Count - commitsBefore <= 5, $"{commits.Count - commitsBefore} commits for {Window} messages of one connection");
    }

    private bool BatchStored(int seq)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(_collector.DataDirectory, "collector.db")};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM batches WHERE device = 'pi-ack-test' AND seq = $seq";
        command.Parameters.AddWithValue("$seq", seq);
        return (long)command.ExecuteScalar()! == 1;
    }
}
