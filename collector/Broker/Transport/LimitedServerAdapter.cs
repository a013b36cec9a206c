using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using MQTTnet.Adapter;
using MQTTnet.Diagnostics.Logger;
using MQTTnet.Formatter;
using MQTTnet.Implementations;
using MQTTnet.Packets;
using MQTTnet.Server;
using NewTechPark.Edge.Collector.Configuration;

namespace NewTechPark.Edge.Collector.Broker.Transport;

/// <summary>One listener of the embedded broker: plain MQTT, or MQTT over TLS when it has a certificate.</summary>
/// <param name="Setting">The port's setting, named when the port is taken.</param>
public sealed record TransportEndpoint(string Setting, IPAddress Address, int Port, X509Certificate2? Certificate);

/// <summary>
/// The embedded broker's network layer, in place of MQTTnet's own TCP listener (which has no
/// packet size limit and waits 100 s for a CONNECT it reads whole, however large). Per socket:
/// admitted only under <see cref="BrokerLimitsOptions.MaxConnections"/> and
/// <see cref="BrokerLimitsOptions.MaxConnectionsPerAddress"/>; TLS handshake and CONNECT within
/// <see cref="BrokerLimitsOptions.ConnectTimeout"/>; every packet's length checked as it arrives
/// (<see cref="MqttFraming"/>) before MQTTnet allocates its body. Otherwise it does what MQTTnet's
/// listener does (MqttTcpServerListener at v5.2.0), and never sets SO_REUSEPORT.
/// </summary>
public sealed class LimitedServerAdapter(
    IReadOnlyList<TransportEndpoint> endpoints,
    BrokerLimitsOptions limits,
    TransportRefusals refusals,
    TimeProvider clock,
    ILogger logger) : IMqttServerAdapter
{
    private const int Backlog = 128;

    private readonly ConnectionLimiter _limiter = new(limits.MaxConnections, limits.MaxConnectionsPerAddress);
    private readonly ConcurrentDictionary<Socket, byte> _open = new();
    private readonly List<Socket> _listeners = [];
    private CancellationTokenSource? _stopping;

    public Func<IMqttChannelAdapter, Task>? ClientHandler { get; set; }

    /// <summary>Sockets open now, before and after login.</summary>
    public int OpenConnections => _limiter.Open;

    public Task StartAsync(MqttServerOptions options, IMqttNetLogger mqttLogger)
    {
        if (_stopping is not null)
        {
            throw new InvalidOperationException("The broker's listeners are already started.");
        }

        _stopping = new CancellationTokenSource();
        var stopping = _stopping.Token;
        try
        {
            foreach (var endpoint in endpoints)
            {
                var listener = Bind(endpoint);
                _listeners.Add(listener);
                _ = Task.Run(() => AcceptAsync(listener, endpoint, options, mqttLogger, stopping), CancellationToken.None);
            }
        }
        catch
        {
            Stop();
            throw;
        }

        return Task.CompletedTask;
    }

    public Task StopAsync()
    {
        Stop();
        return Task.CompletedTask;
    }

    public void Dispose() => Stop();

    private void Stop()
    {
        _stopping?.Cancel();
        foreach (var listener in _listeners)
        {
            listener.Dispose();
        }

        _listeners.Clear();
        // Connections still logging in (or held by a slow client) end with the broker.
        foreach (var socket in _open.Keys)
        {
            Abort(socket);
        }

        _stopping?.Dispose();
        _stopping = null;
    }

    private static Socket Bind(TransportEndpoint endpoint)
    {
        var socket = new Socket(endpoint.Address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endpoint.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            // No ReuseAddress: on Linux .NET sets SO_REUSEPORT with it, and a second collector could take half the devices.
            socket.NoDelay = true;
            socket.LingerState = new LingerOption(true, 0);
            socket.Bind(new IPEndPoint(endpoint.Address, endpoint.Port));
            socket.Listen(Backlog);
            return socket;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            socket.Dispose();
            throw new BrokerPortInUseException(endpoint.Setting, endpoint.Address.ToString(), endpoint.Port);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task AcceptAsync(Socket listener, TransportEndpoint endpoint, MqttServerOptions options, IMqttNetLogger mqttLogger, CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync(stopping).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionAborted or SocketError.ConnectionReset or SocketError.OperationAborted)
            {
                continue;
            }
            catch (SocketException e)
            {
                // Out of file descriptors, most likely: wait instead of spinning.
                logger.LogError(e, "Accepting an MQTT connection on {Address}:{Port} failed", endpoint.Address, endpoint.Port);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), clock, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
            }

            IPEndPoint? remote;
            try
            {
                remote = socket.RemoteEndPoint as IPEndPoint;
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Reset between the accept and now.
                socket.Dispose();
                continue;
            }

            var address = ConnectionLimiter.Normalise(remote?.Address ?? IPAddress.None);
            if (_limiter.TryAdmit(address) is { } reason)
            {
                // Counted before the close, so whoever sees the close sees the count.
                refusals.Refuse(address, "connection", reason, reason == "too_many_connections"
                    ? $"{limits.MaxConnections} connections are open (Collector:Broker:Limits:MaxConnections)"
                    : $"{limits.MaxConnectionsPerAddress} connections from this address are open (Collector:Broker:Limits:MaxConnectionsPerAddress)");
                Abort(socket);
                continue;
            }

            _open[socket] = 0;
            _ = Task.Run(() => ServeAsync(socket, remote, address, endpoint, options, mqttLogger));
        }
    }

    private async Task ServeAsync(Socket socket, IPEndPoint? remote, IPAddress address, TransportEndpoint endpoint, MqttServerOptions options, IMqttNetLogger mqttLogger)
    {
        var deadline = new CancellationTokenSource(limits.ConnectTimeout, clock);
        Stream? stream = null;
        try
        {
            socket.NoDelay = true;
            stream = new NetworkStream(socket, ownsSocket: true);
            X509Certificate2? clientCertificate = null;
            if (endpoint.Certificate is { } certificate)
            {
                var tls = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = tls;
                if (!await HandshakeAsync(tls, certificate, address, deadline.Token).ConfigureAwait(false))
                {
                    return;
                }

                clientCertificate = tls.RemoteCertificate as X509Certificate2;
            }

            if (ClientHandler is not { } handler)
            {
                return;
            }

            string? clientId = null;
            var framing = new MqttFraming(limits.MaxConnectPacketBytes, limits.MaxPacketBytes);
            var limited = new PacketLimitStream(stream, framing, deadline.Token, s => Refused(s, address, clientId));
            stream = limited;
            var channel = new MqttTcpChannel(limited, socket.LocalEndPoint, remote, clientCertificate);
            var formatter = new MqttPacketFormatterAdapter(new MqttBufferWriter(options.WriterBufferSize, options.WriterBufferSizeMax));
            using var adapter = new MqttChannelAdapter(channel, formatter, mqttLogger);
            var watched = new LimitedChannelAdapter(adapter, framing, endpoint.Certificate is not null, (uint)limits.MaxPacketBytes, c => clientId = c);
            await handler(watched).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ObjectDisposedException or IOException or SocketException or OperationCanceledException)
        {
            // The connection went away (or the broker stopped it); nothing to tell.
        }
        catch (Exception e)
        {
            logger.LogError(e, "Error serving the MQTT connection from {Remote}", remote);
        }
        finally
        {
            try
            {
                if (stream is not null)
                {
                    await stream.DisposeAsync().ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException or AuthenticationException)
            {
            }

            socket.Dispose();
            deadline.Dispose();
            _open.TryRemove(socket, out _);
            _limiter.Release(address);
        }
    }

    /// <summary>Server side of the TLS handshake, within the CONNECT deadline; false (refused and counted) when it fails or is too slow.</summary>
    private async Task<bool> HandshakeAsync(SslStream tls, X509Certificate2 certificate, IPAddress address, CancellationToken deadline)
    {
        try
        {
            await tls.AuthenticateAsServerAsync(
                new SslServerAuthenticationOptions
                {
                    ServerCertificate = certificate,
                    ClientCertificateRequired = false,
                    EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    EncryptionPolicy = EncryptionPolicy.RequireEncryption,
                },
                deadline).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            refusals.Refuse(address, "connect", "tls_timeout", $"TLS handshake not finished within {limits.ConnectTimeout} (Collector:Broker:Limits:ConnectTimeout)");
        }
        catch (Exception e) when (e is AuthenticationException or IOException or SocketException)
        {
            refusals.Refuse(address, "connect", "tls_failed", $"TLS handshake failed (plain MQTT on the TLS port, or a client without TLS 1.2/1.3?): {e.Message}");
        }

        return false;
    }

    private void Refused(PacketLimitStream stream, IPAddress address, string? clientId)
    {
        var framing = stream.Framing;
        var loggedIn = framing.LoggedIn;
        var action = loggedIn ? "packet" : "connect";
        var who = clientId is null ? string.Empty : $"client '{Ingest.IngestIntake.Printable(clientId)}': ";
        if (stream.TimedOut)
        {
            refusals.Refuse(address, "connect", "connect_timeout", $"no complete CONNECT within {limits.ConnectTimeout} (Collector:Broker:Limits:ConnectTimeout)");
            return;
        }

        switch (framing.Problem)
        {
            case FramingProblem.TooLarge when loggedIn:
                refusals.Refuse(address, action, "packet_too_large",
                    $"{who}a packet announced {framing.AnnouncedBytes:N0} bytes; the limit after login is {limits.MaxPacketBytes:N0} (Collector:Broker:Limits:MaxPacketBytes); disconnected before reading it");
                break;
            case FramingProblem.TooLarge:
                refusals.Refuse(address, action, "packet_too_large",
                    $"a packet before login announced {framing.AnnouncedBytes:N0} bytes; the limit is {limits.MaxConnectPacketBytes:N0} (Collector:Broker:Limits:MaxConnectPacketBytes); closed before reading it");
                break;
            case FramingProblem.MalformedLength:
                refusals.Refuse(address, action, "malformed_length", $"{who}a packet's remaining length runs over four bytes");
                break;
            case FramingProblem.NotConnect:
                refusals.Refuse(address, action, "not_connect", "the first packet is not a CONNECT");
                break;
        }
    }

    private static void Abort(Socket socket)
    {
        try
        {
            // RST: nothing of a refused or stopped connection lingers in TIME_WAIT on this side.
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }

        socket.Dispose();
    }
}
