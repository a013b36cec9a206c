using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace NewTechPark.Edge.EndToEnd.Tests.HomeAssistant;

/// <summary>
/// What Home Assistant would see: an MQTT 5 client logged in as a reader, subscribed to the
/// discovery prefix and the collector's states, keeping every message per topic (with retained
/// ones told apart), and able to send Home Assistant's birth message.
/// </summary>
public sealed class HomeAssistantListener : IAsyncDisposable
{
    public const string Discovery = "homeassistant";
    public const string States = "ntp/ha";

    private readonly IMqttClient _client;
    private readonly ConcurrentDictionary<string, ConcurrentQueue<string>> _messages = new(StringComparer.Ordinal);

    private HomeAssistantListener(IMqttClient client)
    {
        _client = client;
        client.ApplicationMessageReceivedAsync += e =>
        {
            _messages.GetOrAdd(e.ApplicationMessage.Topic, _ => new()).Enqueue(e.ApplicationMessage.ConvertPayloadToString() ?? string.Empty);
            return Task.CompletedTask;
        };
    }

    public static async Task<HomeAssistantListener> ConnectAsync(int port, string user, string password)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        // A reader's client id starts with its user name (the embedded broker's rule).
        var result = await client.ConnectAsync(new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", port)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithClientId($"{user}-{Guid.NewGuid():N}")
            .WithCredentials(user, password)
            .WithCleanStart()
            .WithTimeout(TimeSpan.FromSeconds(10))
            .Build());
        Assert.Equal(MqttClientConnectResultCode.Success, result.ResultCode);
        var listener = new HomeAssistantListener(client);
        var subscribed = await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
            .WithTopicFilter($"{Discovery}/#", MqttQualityOfServiceLevel.AtLeastOnce)
            .WithTopicFilter($"{States}/#", MqttQualityOfServiceLevel.AtLeastOnce)
            .Build());
        Assert.All(subscribed.Items, i => Assert.Equal(MqttClientSubscribeResultCode.GrantedQoS1, i.ResultCode));
        return listener;
    }

    /// <summary>Every config topic with its latest payload (an empty one: removed).</summary>
    public IReadOnlyDictionary<string, string> Configs =>
        // A queue is added before its first message: an empty one is a topic not yet heard.
        _messages.Where(m => !m.Value.IsEmpty && m.Key.StartsWith(Discovery + "/", StringComparison.Ordinal) && m.Key.EndsWith("/config", StringComparison.Ordinal))
            .ToDictionary(m => m.Key, m => m.Value.Last(), StringComparer.Ordinal);

    /// <summary>How many config messages arrived in all (a second round after the birth message adds to it).</summary>
    public int ConfigMessages => _messages.Where(m => m.Key.EndsWith("/config", StringComparison.Ordinal)).Sum(m => m.Value.Count);

    public IReadOnlyList<string> All(string topic) => _messages.TryGetValue(topic, out var queue) ? [.. queue] : [];

    public string? Latest(string topic) => _messages.TryGetValue(topic, out var queue) && !queue.IsEmpty ? queue.Last() : null;

    /// <summary>The non-empty configs, parsed, by topic.</summary>
    public Dictionary<string, JsonElement> ParsedConfigs() =>
        Configs.Where(c => c.Value.Length > 0).ToDictionary(c => c.Key, c => JsonDocument.Parse(c.Value).RootElement.Clone(), StringComparer.Ordinal);

    /// <summary>The state topic's latest value, as a number (invariant culture), or null.</summary>
    public double? Number(string stateTopic) =>
        Latest(stateTopic) is { } text && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : null;

    /// <summary>What Home Assistant publishes when it starts or reconnects.</summary>
    public async Task SendBirthAsync()
    {
        var result = await _client.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic($"{Discovery}/status").WithPayload("online").WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
        Assert.True(result.IsSuccess, $"birth message refused: {result.ReasonCode} {result.ReasonString}");
    }

    public async ValueTask DisposeAsync()
    {
        if (_client.IsConnected)
        {
            await _client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build());
        }

        _client.Dispose();
    }
}
