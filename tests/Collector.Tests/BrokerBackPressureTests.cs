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
using NewTechPark.Edge.Collector.Tests.Fuzz;
using NewTechPark.Edge.Contracts.Topics;
using static NewTechPark.Edge.Collector.Tests.TestData;

namespace NewTechPark.Edge.Collector.Tests;

/// <summary>
/// The embedded broker with a full ingest queue (<c>Collector:Ingest:MaxQueuedMessages</c> = 100,
/// the pipeline held until the test starts it): a QoS 1 publish waits in the publish interceptor,
/// then goes through once there is room, or gets an error PUBACK after the commit timeout; QoS 0
/// past half the queue is dropped and counted.
/// </summary>
public sealed class BrokerBackPressureTests : IAsyncLifetime
{
    private const string Device = "pi-meter";
    private const int MaxMessages = 100;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private readonly CollectorMetrics _metrics = new();
    private readonly SqliteStore _store;
    private readonly IngestPipeline _pipeline;
    private readonly EmbeddedBroker _broker;
    private readonly BrokerEndpoint _endpoint;

    public BrokerBackPressureTests()
    {
        var options = Options.Create(new CollectorOptions { DataDirectory = _dir.Path, Ingest = new IngestOptions { MaxQueuedMessages = MaxMessages } });
        options.Value.Broker.Port = 0;
        options.Value.Broker.Users[Device] = MqttPasswordHash.Create(Password, iterations: 10);
        _store = Store(_dir);
        var hub = new LiveEventHub(_metrics);
        _pipeline = new IngestPipeline(_store, Engine(_clock, _metrics, hub), hub, _metrics, options, _clock, NullLogger<IngestPipeline>.Instance);
        _endpoint = new BrokerEndpoint(options);
        _broker = new EmbeddedBroker(options, _endpoint, new BrokerCredentials(options), new BrokerAuthorization(options, SmallSite), _pipeline, new IngestIntake(_clock), _metrics, _clock, NullLogger<EmbeddedBroker>.Instance);
    }

    private static string Password => $"test-only-{Device}";

    public Task InitializeAsync() => _broker.StartAsync(CancellationToken.None);

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
    public async Task A_QoS_1_publish_waits_for_room_and_then_is_stored_and_acknowledged()
    {
        using var client = await ConnectAsync();
        var publishes = Enumerable.Range(1, MaxMessages + 1).Select(seq => client.PublishAsync(Message(seq, MqttQualityOfServiceLevel.AtLeastOnce))).ToList();
        await Eventually.UntilAsync(() => _pipeline.State() is { Messages: MaxMessages, Waiting: 1 }, "the queue is full and one publish waits", Patience);

        await _pipeline.StartAsync(CancellationToken.None);
        var results = await Task.WhenAll(publishes).WaitAsync(Patience);

        Assert.All(results, r => Assert.True(r.IsSuccess, $"{r.ReasonCode} {r.ReasonString}"));
        Assert.Equal(MaxMessages + 1, new StoreQueries(_store).Counts().Batches);
        Assert.Equal(1, _metrics.IngestWaits.WithLabels("admitted").Value);
        Assert.True(client.IsConnected);
    }

    [Fact]
    public async Task A_QoS_1_publish_that_finds_no_room_in_time_gets_an_error_PUBACK_and_nothing_is_lost()
    {
        using var client = await ConnectAsync();
        var publishes = Enumerable.Range(1, MaxMessages + 1).Select(seq => client.PublishAsync(Message(seq, MqttQualityOfServiceLevel.AtLeastOnce))).ToList();
        await Eventually.UntilAsync(() => _pipeline.State() is { Messages: MaxMessages, Waiting: 1 }, "the queue is full and one publish waits", Patience);

        _clock.Advance(EmbeddedBroker.CommitTimeout + TimeSpan.FromSeconds(1));
        await Eventually.UntilAsync(() => _metrics.IngestWaits.WithLabels("timed_out").Value == 1, "the waiting publish times out", Patience);
        await _pipeline.StartAsync(CancellationToken.None);
        var results = await Task.WhenAll(publishes).WaitAsync(Patience);

        var refused = Assert.Single(results, r => !r.IsSuccess);
        Assert.Equal(MqttClientPublishReasonCode.ImplementationSpecificError, refused.ReasonCode);
        Assert.Equal(MaxMessages, new StoreQueries(_store).Counts().Batches);

        // Sent again, it goes through.
        var again = await client.PublishAsync(Message(MaxMessages + 1, MqttQualityOfServiceLevel.AtLeastOnce)).WaitAsync(Patience);
        Assert.True(again.IsSuccess, $"{again.ReasonCode} {again.ReasonString}");
        await Eventually.UntilAsync(() => new StoreQueries(_store).Counts().Batches == MaxMessages + 1, "the message sent again is stored", Patience);
    }

    [Fact]
    public async Task QoS_0_past_half_the_queue_is_dropped_and_counted()
    {
        using var client = await ConnectAsync();
        for (var seq = 1; seq <= MaxMessages; seq++)
        {
            await client.PublishAsync(Message(seq, MqttQualityOfServiceLevel.AtMostOnce)).WaitAsync(Patience);
        }

        await Eventually.UntilAsync(() => _pipeline.State().Messages + _pipeline.State().Dropped == MaxMessages, "every QoS 0 message is queued or dropped", Patience);
        Assert.Equal(MaxMessages / 2, _pipeline.State().Messages);
        Assert.Equal(MaxMessages / 2, _metrics.IngestDropped.WithLabels("queue_full").Value);

        await _pipeline.StartAsync(CancellationToken.None);
        await Eventually.UntilAsync(() => new StoreQueries(_store).Counts().Batches == MaxMessages / 2, "the queued half is stored", Patience);
    }

    private async Task<IMqttClient> ConnectAsync()
    {
        var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", _endpoint.Port)
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
            .WithClientId(Device)
            .WithCredentials(Device, Password)
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build()).WaitAsync(Patience);
        return client;
    }

    private MqttApplicationMessage Message(int seq, MqttQualityOfServiceLevel qos)
    {
        var ts = FuzzPayloads.Ts(_clock.GetUtcNow().AddSeconds(-1000 + seq));
        var batch = $$$"""{"v":1,"seq":{{{seq}}},"sent":"{{{ts}}}","readings":[{"ts":"{{{ts}}}","sensor":"probe-1","kind":"dc","values":{"voltage_v":{{{seq}}}}}]}""";
        return new MqttApplicationMessageBuilder().WithTopic(ContractTopics.Readings(SiteId, Device)).WithPayload(Encoding.UTF8.GetBytes(batch)).WithQualityOfServiceLevel(qos).Build();
    }
}
