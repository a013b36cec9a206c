using System.Net;
using System.Security.Cryptography.X509Certificates;
using MQTTnet.Adapter;
using MQTTnet.Formatter;
using MQTTnet.Packets;
using MQTTnet.Protocol;

namespace NewTechPark.Edge.Collector.Broker.Transport;

/// <summary>
/// MQTTnet's channel adapter as the broker sees it, watching the CONNACK that the broker sends
/// through it: a successful one raises the connection's packet limit to the logged-in one, and
/// every one tells MQTT 5 clients the limit (Maximum Packet Size) so they do not send past it.
/// </summary>
public sealed class LimitedChannelAdapter(IMqttChannelAdapter inner, MqttFraming framing, bool secure, uint maxPacketBytes, Action<string> connecting) : IMqttChannelAdapter
{
    public long BytesReceived => inner.BytesReceived;

    public long BytesSent => inner.BytesSent;

    public X509Certificate2 ClientCertificate => inner.ClientCertificate;

    public EndPoint RemoteEndPoint => inner.RemoteEndPoint;

    public EndPoint LocalEndPoint => inner.LocalEndPoint;

    /// <summary>MQTTnet decides this from the stream's type, which the limiting layer hides.</summary>
    public bool IsSecureConnection => secure;

    public MqttPacketFormatterAdapter PacketFormatterAdapter => inner.PacketFormatterAdapter;

    public Task ConnectAsync(CancellationToken cancellationToken) => inner.ConnectAsync(cancellationToken);

    public Task DisconnectAsync(CancellationToken cancellationToken) => inner.DisconnectAsync(cancellationToken);

    public async Task<MqttPacket> ReceivePacketAsync(CancellationToken cancellationToken)
    {
        var packet = await inner.ReceivePacketAsync(cancellationToken).ConfigureAwait(false);
        if (packet is MqttConnectPacket connect)
        {
            // So that a later refusal can name the client.
            connecting(connect.ClientId ?? string.Empty);
        }

        return packet;
    }

    public void ResetStatistics() => inner.ResetStatistics();

    public Task SendPacketAsync(MqttPacket packet, CancellationToken cancellationToken)
    {
        if (packet is MqttConnAckPacket connAck)
        {
            connAck.MaximumPacketSize = maxPacketBytes;
            // Before the CONNACK leaves: the client may send its first PUBLISH the moment it has it.
            framing.LoggedIn = connAck.ReasonCode == MqttConnectReasonCode.Success;
        }

        return inner.SendPacketAsync(packet, cancellationToken);
    }

    public void Dispose() => inner.Dispose();
}
