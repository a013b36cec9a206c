using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Protocol;
using NewTechPark.Edge.Collector.Broker;
using NewTechPark.Edge.Collector.Broker.Security;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Ingest;
using NewTechPark.Edge.Collector.Live;
using NewTechPark.Edge.Collector.Metrics;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Contracts.Topics;
using NewTechPark.Edge.Contracts.Validation;
using static NewTechPark.Edge.Collector.Tests.TestData;

namespace NewTechPark.Edge.Collector.Tests.Fuzz;

/// <summary>
/// The embedded broker and large publishes: one over the contract's 256 KiB but within the broker's
/// packet limit reaches the intake, which refuses it as too large and dead-letters its first bytes;
/// a multi-megabyte one closes the device's connection as its length arrives, before it is read
/// (MQTTnet's server has no maximum packet size of its own). Either way the broker goes on taking
/// messages from the same device (after a reconnect) and from others.
/// </summary>
public sealed class BrokerLargeMessageTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private readonly CollectorMetrics _metrics = new();
    private readonly SqliteStore _store;
    private readonly IngestPipeline _pipeline;
    private readonly EmbeddedBroker _broker;
    private readonly BrokerEndpoint _endpoint;

    public BrokerLargeMessageTests()
    {
        var options = Options.Create(new CollectorOptions { DataDirectory = _dir.Path });
        options.Value.Broker.Port = 0; // a free loopback port
        foreach (var device in new[] { "pi-big", "pi-other" })
        {
            options.Value.Broker.Users[device] = MqttPasswordHash.Create(Password(device), iterations: 10);
        }
        _store = Store(_dir);
        var hub = new LiveEventHub(_metrics);
        _pipeline = new IngestPipeline(_store, Engine(_clock, _metrics, hub), hub, _metrics, options, _clock, NullLogger<IngestPipeline>.Instance);
        _endpoint = new BrokerEndpoint(options);
        _broker = new EmbeddedBroker(options, _endpoint, new BrokerCredentials(options), new BrokerAuthorization(options, SmallSite), _pipeline, new IngestIntake(_clock), _metrics, _clock, NullLogger<EmbeddedBroker>.Instance);
    }

    public async Task InitializeAsync()
    {
        await _pipeline.StartAsync(CancellationToken.None);
        await _broker.StartAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _broker.StopAsync(CancellationToken.None);
        await _broker.DisposeAsync();
        await _pipeline.StopAsync(CancellationToken.None);
        _pipeline.Dispose();
        _store.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public async Task A_publish_over_the_contract_limit_is_dead_lettered_and_the_broker_keeps_working()
    {
        using var big = await ConnectAsync("pi-big");
        using var other = await ConnectAsync("pi-other");
        var payload = Encoding.ASCII.GetBytes(new string(' ', ContractLimits.MaxMessageBytes) + "{}");

        var result = await big.PublishAsync(Message(ContractTopics.Readings(SiteId, "pi-big"), payload)).WaitAsync(Patience);

        // Acknowledged once it is durable as a dead letter (the device must not send it forever).
        Assert.True(result.IsSuccess, $"{result.ReasonCode} {result.ReasonString}");
        Assert.Equal(1, _metrics.Rejected.WithLabels(nameof(ContractRule.MessageTooLarge)).Value);
        using (var connection = _store.OpenReader())
        using (var row = connection.CreateCommand())
        {
            row.CommandText = "SELECT length(payload), payload_length FROM dead_letters";
            using var reader = row.ExecuteReader();
            Assert.True(reader.Read());
            Assert.Equal((DeadLetterItem.MaxStoredPayloadBytes, (long)payload.Length), (reader.GetInt32(0), reader.GetInt64(1)));
        }

        await BothStillPublishAsync(big, other, seq: 1);
        Assert.Equal(2, _metrics.Messages.WithLabels("stored").Value);
    }

    [Fact]
    public async Task A_multi_megabyte_publish_closes_the_connection_before_it_is_read_and_the_broker_keeps_working()
    {
        using var big = await ConnectAsync("pi-big");
        using var other = await ConnectAsync("pi-other");
        var payload = Encoding.ASCII.GetBytes(new string(' ', 8 * 1024 * 1024) + "{}");

        await Assert.ThrowsAnyAsync<Exception>(() => big.PublishAsync(Message(ContractTopics.Readings(SiteId, "pi-big"), payload)).WaitAsync(Patience));

        Assert.Equal(1, _metrics.BrokerRefused.WithLabels("packet", "packet_too_large").Value);
        Assert.Equal(0, _metrics.Rejected.WithLabels(nameof(ContractRule.MessageTooLarge)).Value);
        // MQTTnet's client reports IsConnected false a moment before it lets a new connect in.
        await Eventually.UntilAsync(async () =>
        {
            try
            {
                await big.ConnectAsync(big.Options).WaitAsync(Patience);
                return true;
            }
            catch (InvalidOperationException)
            {
                return false;
            }
        }, "the device reconnects after its connection was closed");
        await BothStillPublishAsync(big, other, seq: 1);
        Assert.Equal(2, _metrics.Messages.WithLabels("stored").Value);
    }

    /// <summary>The same client and another one go on publishing.</summary>
    private async Task BothStillPublishAsync(IMqttClient big, IMqttClient other, int seq)
    {
        var ts = FuzzPayloads.Ts(_clock.GetUtcNow().AddSeconds(-1));
        foreach (var (client, device) in new[] { (big, "pi-big"), (other, "pi-other") })
        {
            var batch = "{\"v\":1,\"seq\":" + seq + ",\"sent\":\"" + ts + "\",\"readings\":[{\"ts\":\"" + ts + "\",\"sensor\":\"climate-1\",\"kind\":\"climate\",\"values\":{\"temperature_c\":21.5}}]}";
            var ok = await client.PublishAsync(Message(ContractTopics.Readings(SiteId, device), Encoding.UTF8.GetBytes(batch))).WaitAsync(Patience);
            Assert.True(ok.IsSuccess, $"{device}: {ok.ReasonCode} {ok.ReasonString}");
            Assert.True(client.IsConnected);
        }

        Assert.True(_broker.Server!.IsStarted);
    }

    private async Task<IMqttClient> ConnectAsync(string device)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", _endpoint.Port)
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
            .WithClientId(device)
            .WithCredentials(device, Password(device))
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build();
        await client.ConnectAsync(options).WaitAsync(Patience);
        return client;
    }

    private static string Password(string device) => $"test-only-{device}";

    private static MqttApplicationMessage Message(string topic, byte[] payload) =>
        new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();
}
