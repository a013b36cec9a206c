using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using NewTechPark.Edge.Collector.Metrics;
using NewTechPark.Edge.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace NewTechPark.Edge.EndToEnd.Tests.Security;

/// <summary>
/// Issue 14, before and after login: the embedded broker's own listeners close a socket whose
/// CONNECT is too large (as its length arrives), too slow, or over the connection caps, and a
/// logged-in device's packet over the limit; over real sockets against the real collector.
/// </summary>
public sealed class BrokerTransportLimitsTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int PerAddress = 4;
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(2);

    private readonly CapturedLogs _logs = new();
    private RunningCollector _collector = null!;

    public async Task InitializeAsync() =>
        _collector = await RunningCollector.StartAsync(logs: _logs, extra:
        [
            $"--Collector:Broker:Limits:MaxConnectionsPerAddress={PerAddress}",
            "--Collector:Broker:Limits:MaxConnections=100",
            $"--Collector:Broker:Limits:ConnectTimeout={ConnectTimeout}",
        ]);

    public async Task DisposeAsync() => await _collector.DisposeAsync();

    [Fact]
    public async Task A_header_announcing_a_200_MB_connect_is_closed_at_once_without_the_body_being_read()
    {
        using var socket = await ConnectSocketAsync(_collector.BrokerPort);
        var started = Stopwatch.StartNew();
        // CONNECT, remaining length 200 MiB (four length bytes), then as much body as the broker takes.
        await socket.SendAsync(new byte[] { 0x10, 0x80, 0x80, 0x80, 0x64 });
        var sent = await SendUntilClosedAsync(socket, TimeSpan.FromSeconds(10));
        started.Stop();

        output.WriteLine($"200 MB CONNECT: closed after {started.ElapsedMilliseconds} ms, {sent:N0} body bytes accepted by the socket buffers");
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(3), $"closed after {started.Elapsed}");
        Assert.True(sent < 16 * 1024 * 1024, $"{sent:N0} bytes went in");
        Assert.Equal(1, Refused("connect", "packet_too_large"));
        Assert.Contains(_logs.Lines, l => l.Contains("MaxConnectPacketBytes", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_silent_socket_is_closed_after_the_connect_timeout()
    {
        // Started before the connect: the broker's clock starts later (at its accept), so this is a lower bound.
        var started = Stopwatch.StartNew();
        using var socket = await ConnectSocketAsync(_collector.BrokerPort);

        await WaitClosedAsync(socket, ConnectTimeout + TimeSpan.FromSeconds(10));

        output.WriteLine($"silent socket closed after {started.ElapsedMilliseconds} ms (timeout {ConnectTimeout.TotalMilliseconds} ms)");
        // Timers may fire a fraction of a millisecond before the stopwatch's count: a tolerance, far below the timeout.
        Assert.True(started.Elapsed >= ConnectTimeout - TimeSpan.FromMilliseconds(100), $"closed after {started.Elapsed}, before the timeout");
        await Eventually.UntilAsync(() => Refused("connect", "connect_timeout") == 1, "the timeout is counted");
    }

    [Fact]
    public async Task A_half_sent_connect_is_closed_after_the_connect_timeout_too()
    {
        using var socket = await ConnectSocketAsync(_collector.BrokerPort);
        await socket.SendAsync(new byte[] { 0x10, 0x20, 0x00, 0x04, (byte)'M' });
        var started = Stopwatch.StartNew();

        await WaitClosedAsync(socket, ConnectTimeout + TimeSpan.FromSeconds(10));

        Assert.True(started.Elapsed < ConnectTimeout + TimeSpan.FromSeconds(5), $"closed after {started.Elapsed}");
        await Eventually.UntilAsync(() => Refused("connect", "connect_timeout") == 1, "the timeout is counted");
    }

    [Fact]
    public async Task The_per_address_cap_closes_the_next_socket_at_once_and_frees_when_the_held_ones_time_out()
    {
        var held = new List<Socket>();
        try
        {
            for (var i = 0; i < PerAddress; i++)
            {
                held.Add(await ConnectSocketAsync(_collector.BrokerPort));
            }

            await Eventually.UntilAsync(() => OpenConnections() == PerAddress, "the broker holds the sockets");
            var started = Stopwatch.StartNew();
            await ConnectAndWaitClosedAsync(_collector.BrokerPort, TimeSpan.FromSeconds(5));
            Assert.True(started.Elapsed < ConnectTimeout, $"closed after {started.Elapsed}");

            Assert.Equal(1, Refused("connection", "too_many_from_address"));
            // A device behind the same address waits for a place: the held sockets go at the CONNECT timeout.
            using var device = new MqttClientFactory().CreateMqttClient();
            await Eventually.UntilAsync(async () =>
            {
                try
                {
                    return (await device.ConnectAsync(Options("pi-a").Build())).ResultCode == MqttClientConnectResultCode.Success;
                }
                catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or OperationCanceledException)
                {
                    return false;
                }
            }, "the device gets in", ConnectTimeout + TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(200));
            Assert.True(device.IsConnected);
        }
        finally
        {
            held.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task A_logged_in_device_sending_a_packet_over_the_limit_is_disconnected_and_its_next_publish_is_stored()
    {
        using var device = new MqttClientFactory().CreateMqttClient();
        var disconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        device.DisconnectedAsync += _ =>
        {
            disconnected.TrySetResult();
            return Task.CompletedTask;
        };
        var connected = await device.ConnectAsync(Options("pi-a").Build());
        Assert.Equal(MqttClientConnectResultCode.Success, connected.ResultCode);
        // MQTT 5 tells the client the limit: the contract's 256 KiB message plus 4 KiB of topic and properties.
        Assert.Equal(256u * 1024 + 4096, connected.MaximumPacketSize);

        var tooLarge = new MqttApplicationMessageBuilder().WithTopic("ntp/v1/newtechpark/pi-a/readings").WithPayload(new byte[300 * 1024])
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();
        var publish = device.PublishAsync(tooLarge);
        await disconnected.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await Assert.ThrowsAnyAsync<Exception>(() => publish.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal(1, Refused("packet", "packet_too_large"));
        Assert.Contains(_logs.Lines, l => l.Contains("client 'pi-a'", StringComparison.Ordinal) && l.Contains("MaxPacketBytes", StringComparison.Ordinal));

        // MQTTnet's client lets a new connect in a moment after it reported the disconnection.
        await Eventually.UntilAsync(async () =>
        {
            try
            {
                return (await device.ConnectAsync(Options("pi-a").Build())).ResultCode == MqttClientConnectResultCode.Success;
            }
            catch (InvalidOperationException)
            {
                return false;
            }
        }, "pi-a reconnects after its connection was closed");
        var stored = await device.PublishAsync(EmbeddedBrokerSecurityTests.Batch("ntp/v1/newtechpark/pi-a/readings", seq: 1, sensor: "probe-a"));
        Assert.True(stored.IsSuccess, $"{stored.ReasonCode}");
        var devices = await _collector.EventuallyAsync<List<DeviceDto>>("/api/v1/devices", d => d.Any(x => x.Device == "pi-a" && x.Batches == 1), TimeSpan.FromSeconds(10));
        Assert.Equal(1, devices.Single(d => d.Device == "pi-a").Batches);
    }

    [Fact]
    public async Task A_first_packet_that_is_not_a_connect_is_closed_at_its_first_byte()
    {
        using var socket = await ConnectSocketAsync(_collector.BrokerPort);
        await socket.SendAsync(new byte[] { 0x30, 0xFF, 0xFF, 0xFF, 0x7F });

        await WaitClosedAsync(socket, TimeSpan.FromSeconds(5));
        await Eventually.UntilAsync(() => Refused("connect", "not_connect") == 1, "the refusal is counted");
    }

    private MqttClientOptionsBuilder Options(string user) =>
        new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", _collector.BrokerPort).WithProtocolVersion(MqttProtocolVersion.V500)
            .WithClientId(user).WithCredentials(user, TestCredentials.PasswordOf(user)).WithTimeout(TimeSpan.FromSeconds(5));

    private double Refused(string action, string reason) =>
        _collector.Services.GetRequiredService<CollectorMetrics>().BrokerRefused.WithLabels(action, reason).Value;

    private int OpenConnections() => _collector.Services.GetRequiredService<NewTechPark.Edge.Collector.Broker.EmbeddedBroker>().OpenConnections;

    internal static async Task<Socket> ConnectSocketAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(IPAddress.Loopback, port);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Connects and waits until the broker closes the socket; a reset that comes before the connect returns counts as closed.</summary>
    internal static async Task ConnectAndWaitClosedAsync(int port, TimeSpan timeout)
    {
        Socket socket;
        try
        {
            socket = await ConnectSocketAsync(port);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return;
        }

        using (socket)
        {
            await WaitClosedAsync(socket, timeout);
        }
    }

    /// <summary>Waits until the peer closes or resets the socket; throws when it is still open at the deadline.</summary>
    internal static async Task WaitClosedAsync(Socket socket, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        var buffer = new byte[4096];
        try
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token) > 0)
            {
            }
        }
        catch (SocketException)
        {
            // Reset: closed as well.
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            throw new TimeoutException($"the broker kept the socket open for {timeout}");
        }
    }

    /// <summary>Sends zeros until the peer closes the socket; how many bytes the socket took.</summary>
    internal static async Task<long> SendUntilClosedAsync(Socket socket, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        var chunk = new byte[64 * 1024];
        long sent = 0;
        try
        {
            while (true)
            {
                sent += await socket.SendAsync(chunk, SocketFlags.None, deadline.Token);
            }
        }
        catch (SocketException)
        {
            return sent;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            throw new TimeoutException($"the broker still took bytes after {timeout} ({sent:N0} sent)");
        }
    }
}

/// <summary>The TLS listener: a handshake counts against the CONNECT timeout, and a client over TLS still learns the limit.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // as BrokerCredentialsAndTlsTests; the collector runs on Linux
public sealed class BrokerTlsTransportLimitsTests
{
    [Fact]
    public async Task A_tls_handshake_that_never_finishes_is_closed_after_the_connect_timeout_and_a_tls_device_still_logs_in()
    {
        using var folder = new TempDirectory("ntp-security-");
        var (certificateFile, keyFile) = BrokerCredentialsAndTlsTests.WriteSelfSignedBrokerCertificate(folder.Path, "broker");
        var tlsPort = FreePort.Next();
        await using var collector = await RunningCollector.StartAsync(extra:
        [
            $"--Collector:Broker:Tls:CertificateFile={certificateFile}",
            $"--Collector:Broker:Tls:KeyFile={keyFile}",
            $"--Collector:Broker:Tls:Port={tlsPort}",
            "--Collector:Broker:Tls:BindAddress=127.0.0.1",
            "--Collector:Broker:Limits:ConnectTimeout=00:00:01",
        ]);

        var started = Stopwatch.StartNew();
        using var silent = await BrokerTransportLimitsTests.ConnectSocketAsync(tlsPort);
        await BrokerTransportLimitsTests.WaitClosedAsync(silent, TimeSpan.FromSeconds(10));
        Assert.True(started.Elapsed >= TimeSpan.FromMilliseconds(900), $"closed after {started.Elapsed}, before the timeout");
        var refused = collector.Services.GetRequiredService<CollectorMetrics>().BrokerRefused;
        await Eventually.UntilAsync(() => refused.WithLabels("connect", "tls_timeout").Value == 1, "the TLS timeout is counted");

        await using var device = await MqttProbe.ConnectAsync(tlsPort, "pi-a", TestCredentials.PasswordOf("pi-a"),
            trust: System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificateFromFile(certificateFile),
            configure: b => b.WithClientId("pi-a"));
        Assert.Equal(MqttClientConnectResultCode.Success, device.Result.ResultCode);
        Assert.Equal(256u * 1024 + 4096, device.Result.MaximumPacketSize);
        Assert.True((await device.PublishAsync("ntp/v1/newtechpark/pi-a/readings", EmbeddedBrokerSecurityTests.Batch("x", 1, "probe-a").ConvertPayloadToString())).IsSuccess);
    }
}
