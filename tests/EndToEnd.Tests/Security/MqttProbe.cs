using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading.Channels;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace NewTechPark.Edge.EndToEnd.Tests.Security;

/// <summary>One MQTT 5 client of the security tests: connects as a user, publishes with QoS 1 and keeps what it receives.</summary>
public sealed class MqttProbe : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly Channel<MqttApplicationMessage> _received = Channel.CreateUnbounded<MqttApplicationMessage>();

    private MqttProbe(IMqttClient client)
    {
        Client = client;
        client.ApplicationMessageReceivedAsync += e =>
        {
            _received.Writer.TryWrite(e.ApplicationMessage);
            return Task.CompletedTask;
        };
        client.DisconnectedAsync += e =>
        {
            Disconnect = $"{e.Reason} {e.ReasonString} {e.Exception?.Message}".Trim();
            return Task.CompletedTask;
        };
    }

    /// <summary>Why the broker or the network ended the connection, if it did.</summary>
    public string? Disconnect { get; private set; }

    public IMqttClient Client { get; }

    /// <summary>The broker's CONNACK.</summary>
    public MqttClientConnectResult Result { get; private set; } = null!;

    /// <summary>
    /// Connects over plain TCP, or over TLS when <paramref name="trust"/> is given (the broker's
    /// certificate then has to chain to it). A refused connect is a result, not an exception.
    /// </summary>
    public static async Task<MqttProbe> ConnectAsync(
        int port,
        string? user,
        string? password,
        X509Certificate2? trust = null,
        bool tls = false,
        Action<MqttClientOptionsBuilder>? configure = null)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", port)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithClientId($"probe-{user ?? "anonymous"}-{Guid.NewGuid():N}")
            .WithCleanStart()
            .WithTimeout(Patience);
        if (user is not null)
        {
            builder.WithCredentials(user, password ?? string.Empty);
        }

        if (tls || trust is not null)
        {
            builder.WithTlsOptions(o =>
            {
                o.UseTls().WithTargetHost("localhost");
                if (trust is not null)
                {
                    o.WithTrustChain([trust]);
                }
            });
        }

        configure?.Invoke(builder);
        var probe = new MqttProbe(client);
        try
        {
            probe.Result = await client.ConnectAsync(builder.Build());
        }
        catch
        {
            client.Dispose();
            throw;
        }

        return probe;
    }

    public async Task<MqttClientSubscribeResultCode> SubscribeAsync(string filter)
    {
        var result = await Client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
            .WithTopicFilter(filter, MqttQualityOfServiceLevel.AtLeastOnce)
            .Build());
        return result.Items.Single().ResultCode;
    }

    /// <summary>Publishes with QoS 1 and returns the broker's PUBACK.</summary>
    public Task<MqttClientPublishResult> PublishAsync(string topic, string payload, bool retain = false)
    {
        if (!Client.IsConnected)
        {
            throw new InvalidOperationException($"{Client.Options?.ClientId} is disconnected ({Disconnect}); cannot publish on {topic}");
        }

        return Client.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(Encoding.UTF8.GetBytes(payload))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .WithRetainFlag(retain)
            .Build());
    }

    /// <summary>
    /// Everything received up to and including the first message whose payload is
    /// <paramref name="marker"/>. Mosquitto delivers one publisher's messages in order, so a
    /// marker published after a refused message proves the refused one was not delivered.
    /// </summary>
    public async Task<List<(string Topic, string Payload)>> ReceiveUntilAsync(string marker)
    {
        var seen = new List<(string Topic, string Payload)>();
        using var timeout = new CancellationTokenSource(Patience);
        while (true)
        {
            MqttApplicationMessage message;
            try
            {
                message = await _received.Reader.ReadAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"'{marker}' did not arrive within {Patience}; received: {string.Join(", ", seen.Select(s => $"{s.Topic}={s.Payload}"))}");
            }

            var payload = message.ConvertPayloadToString();
            seen.Add((message.Topic, payload));
            if (payload == marker)
            {
                return seen;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Client.IsConnected)
        {
            await Client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build());
        }

        Client.Dispose();
    }
}
