using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace NewTechPark.Edge.Reliability.Tests.Bridge;

/// <summary>A device on the site broker: publishes numbered readings batches with QoS 1 and waits for each PUBACK.</summary>
public sealed class BridgeDevice(string user, string password) : IAsyncDisposable
{
    private readonly IMqttClient _client = new MqttClientFactory().CreateMqttClient();
    private ulong _seq;
    private bool _disposed;

    public string Topic { get; } = $"ntp/v1/{BridgeBrokers.Site}/{user}/readings";

    /// <summary>Every seq the site broker acknowledged, in publish order.</summary>
    public List<ulong> Acknowledged { get; } = [];

    /// <summary>Goes on after a restart where the last connection stopped (the agent's seq survives restarts).</summary>
    public void Resume(IEnumerable<ulong> acknowledged)
    {
        Acknowledged.AddRange(acknowledged);
        _seq = Acknowledged.Count == 0 ? 0 : Acknowledged[^1];
    }

    public async Task ConnectAsync(int port)
    {
        if (_client.IsConnected)
        {
            return;
        }

        var options = new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", port)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithClientId($"ntp-{BridgeBrokers.Site}-{user}")
            .WithCredentials(user, password)
            .WithCleanStart(false)
            .WithSessionExpiryInterval(uint.MaxValue)
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build();
        var result = await _client.ConnectAsync(options);
        Assert.True(result.ResultCode == MqttClientConnectResultCode.Success, $"{user} could not connect to the site broker: {result.ResultCode} {result.ReasonString}");
    }

    /// <summary>Publishes <paramref name="count"/> batches, each acknowledged before the next (as the agent's outbox does).</summary>
    public async Task PublishAsync(int count)
    {
        for (var i = 0; i < count; i++)
        {
            var seq = ++_seq;
            var now = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
            var payload = string.Create(
                CultureInfo.InvariantCulture,
                $"{{\"v\":1,\"seq\":{seq},\"sent\":\"{now}\",\"readings\":[{{\"ts\":\"{now}\",\"sensor\":\"{user}-meter\",\"kind\":\"energy\",\"values\":{{\"power_w\":{seq % 4000}.5,\"energy_wh_total\":{seq * 10}}}}}]}}");
            var message = new MqttApplicationMessageBuilder()
                .WithTopic(Topic)
                .WithPayload(payload)
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                .Build();
            var result = await _client.PublishAsync(message);
            Assert.True(result.IsSuccess, $"{user} seq {seq}: PUBACK {result.ReasonCode}");
            Acknowledged.Add(seq);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_client.IsConnected)
        {
            await _client.DisconnectAsync();
        }

        _client.Dispose();
    }
}

/// <summary>
/// The collector's stand-in on the central broker: a persistent session (same client id, clean
/// start off) subscribed to the site's topics and the bridge's state, keeping every message it gets.
/// </summary>
public sealed class CentralSubscriber : IAsyncDisposable
{
    private readonly IMqttClient _client = new MqttClientFactory().CreateMqttClient();
    private readonly ConcurrentQueue<(string Topic, string Payload, bool Retained)> _received = new();
    private readonly string? _user;
    private readonly string? _password;
    private readonly string[] _filters;
    private bool _disposed;

    public CentralSubscriber(string? user, string? password, params string[] filters)
    {
        _user = user;
        _password = password;
        _filters = filters;
        _client.ApplicationMessageReceivedAsync += e =>
        {
            _received.Enqueue((e.ApplicationMessage.Topic, Encoding.UTF8.GetString(e.ApplicationMessage.Payload), e.ApplicationMessage.Retain));
            return Task.CompletedTask;
        };
    }

    public IReadOnlyCollection<(string Topic, string Payload, bool Retained)> Received => _received;

    public bool IsConnected => _client.IsConnected;

    public async Task ConnectAsync(int port)
    {
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", port)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithClientId("ntp-collector-bridge-test")
            .WithCleanStart(false)
            .WithSessionExpiryInterval(uint.MaxValue)
            .WithReceiveMaximum(ushort.MaxValue)
            .WithTimeout(TimeSpan.FromSeconds(30));
        if (_user is not null)
        {
            builder.WithCredentials(_user, _password ?? string.Empty);
        }

        var result = await _client.ConnectAsync(builder.Build());
        Assert.True(result.ResultCode == MqttClientConnectResultCode.Success, $"the central subscriber could not connect: {result.ResultCode} {result.ReasonString}");
        if (!result.IsSessionPresent)
        {
            var subscribe = new MqttClientSubscribeOptionsBuilder();
            foreach (var filter in _filters)
            {
                subscribe.WithTopicFilter(filter, MqttQualityOfServiceLevel.AtLeastOnce);
            }

            var granted = await _client.SubscribeAsync(subscribe.Build());
            Assert.All(granted.Items, i => Assert.Equal(MqttClientSubscribeResultCode.GrantedQoS1, i.ResultCode));
        }
    }

    /// <summary>Connects, retrying while the broker is still starting (it loads its snapshot first).</summary>
    public async Task ConnectWhenUpAsync(int port, TimeSpan patience)
    {
        var deadline = DateTime.UtcNow + patience;
        while (true)
        {
            try
            {
                await ConnectAsync(port);
                return;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary>The seqs received on <paramref name="topic"/>, in arrival order, duplicates included.</summary>
    public List<ulong> Seqs(string topic) =>
        [.. _received.Where(m => m.Topic == topic).Select(m => Seq(m.Payload))];

    public IEnumerable<string> Payloads(string topic) => _received.Where(m => m.Topic == topic).Select(m => m.Payload);

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_client.IsConnected)
        {
            await _client.DisconnectAsync();
        }

        _client.Dispose();
    }

    private static ulong Seq(string payload)
    {
        using var document = JsonDocument.Parse(payload);
        return document.RootElement.GetProperty("seq").GetUInt64();
    }
}
