using System.Text.Json;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using NewTechPark.Edge.Contracts.Payloads;
using NewTechPark.Edge.Contracts.Serialization;

namespace NewTechPark.Edge.Bench;

public static class Mqtt
{
    /// <summary>Connects; with <paramref name="user"/> it logs in as that bench user (<see cref="BenchUsers"/>).</summary>
    public static async Task<IMqttClient> ConnectAsync(int port, string clientId, bool cleanStart = true, string? user = null)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", port)
            .WithClientId(clientId)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithCleanStart(cleanStart)
            .WithTimeout(TimeSpan.FromSeconds(30))
            .WithReceiveMaximum(2048);
        if (user is not null)
        {
            builder.WithCredentials(user, BenchUsers.PasswordOf(user));
        }

        var result = await client.ConnectAsync(builder.Build());
        if (result.ResultCode != MqttClientConnectResultCode.Success)
        {
            throw new InvalidOperationException($"the broker on port {port} refused {clientId}: {result.ResultCode} {result.ReasonString}");
        }

        return client;
    }

    public static MqttApplicationMessage Message(string topic, byte[] payload) =>
        new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();

    public static byte[] Serialize(ReadingsBatch batch) => JsonSerializer.SerializeToUtf8Bytes(batch, ContractJsonContext.Default.ReadingsBatch);

    /// <summary>
    /// Publishes the messages with up to <paramref name="window"/> QoS 1 publishes awaiting their
    /// PUBACK at once (as an agent draining its outbox does); fails on a non-success PUBACK.
    /// </summary>
    public static async Task PublishAllAsync(IMqttClient client, IReadOnlyList<MqttApplicationMessage> messages, int window)
    {
        using var gate = new SemaphoreSlim(window);
        var pending = new List<Task>(messages.Count);
        foreach (var message in messages)
        {
            await gate.WaitAsync();
            pending.Add(PublishOneAsync(client, message, gate));
        }

        await Task.WhenAll(pending);
    }

    private static async Task PublishOneAsync(IMqttClient client, MqttApplicationMessage message, SemaphoreSlim gate)
    {
        try
        {
            var result = await client.PublishAsync(message);
            if (!result.IsSuccess)
            {
                throw new InvalidOperationException($"PUBACK {result.ReasonCode} on {message.Topic}");
            }
        }
        finally
        {
            gate.Release();
        }
    }
}
