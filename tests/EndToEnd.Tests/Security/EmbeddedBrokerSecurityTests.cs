using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Publishing;
using NewTechPark.Edge.Collector.Broker.Security;
using NewTechPark.Edge.Collector.CommandLine;
using NewTechPark.Edge.Collector.Metrics;
using NewTechPark.Edge.EndToEnd.Tests.Infrastructure;

namespace NewTechPark.Edge.EndToEnd.Tests.Security;

/// <summary>
/// The embedded broker's rules, against the real collector over real MQTT: log in or stay out,
/// publish and subscribe only on your own topics, TLS for devices on the shared network.
/// </summary>
public sealed class EmbeddedBrokerSecurityTests : IAsyncLifetime
{
    private readonly CapturedLogs _logs = new();
    private RunningCollector _collector = null!;

    public async Task InitializeAsync() =>
        _collector = await RunningCollector.StartAsync(logs: _logs, extra: ["--Logging:LogLevel:Default=Debug", "--Collector:Admin:Token=admin-token-that-must-not-be-logged"]);

    public async Task DisposeAsync() => await _collector.DisposeAsync();

    [Fact]
    public async Task An_anonymous_connection_is_refused_and_counted()
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        var result = await client.ConnectAsync(Options("anonymous-probe").Build());

        Assert.Equal(MqttClientConnectResultCode.NotAuthorized, result.ResultCode);
        Assert.False(client.IsConnected);
        Assert.Equal(1, Refused("connect", "anonymous"));
    }

    [Fact]
    public async Task A_wrong_password_and_an_unknown_user_are_refused_alike()
    {
        using var wrong = new MqttClientFactory().CreateMqttClient();
        var wrongResult = await wrong.ConnectAsync(Options("pi-a").WithCredentials("pi-a", "not-the-password").Build());
        using var unknown = new MqttClientFactory().CreateMqttClient();
        var unknownResult = await unknown.ConnectAsync(Options("pi-nobody").WithCredentials("pi-nobody", "anything").Build());

        Assert.Equal(MqttClientConnectResultCode.BadUserNameOrPassword, wrongResult.ResultCode);
        Assert.Equal(MqttClientConnectResultCode.BadUserNameOrPassword, unknownResult.ResultCode);
        Assert.Equal(2, Refused("connect", "bad_credentials"));
    }

    [Fact]
    public async Task Password_guessing_is_cut_off_after_ten_failures_a_minute_but_the_right_password_still_logs_in()
    {
        for (var i = 0; i < 10; i++)
        {
            using var guess = new MqttClientFactory().CreateMqttClient();
            Assert.Equal(MqttClientConnectResultCode.BadUserNameOrPassword, (await guess.ConnectAsync(Options("pi-a").WithCredentials("pi-a", $"guess-{i}").Build())).ResultCode);
        }

        // The address is throttled, yet a device behind it (same NAT) with its right password gets in:
        // the failures are throttled, not the successes.
        using (var right = new MqttClientFactory().CreateMqttClient())
        {
            Assert.Equal(MqttClientConnectResultCode.Success, (await right.ConnectAsync(Options("pi-a").WithCredentials("pi-a", TestCredentials.PasswordOf("pi-a")).Build())).ResultCode);
            await right.DisconnectAsync();
        }

        // A further guess is cut off with 0x97 (no PBKDF2 run for it) ...
        using var cutOff = new MqttClientFactory().CreateMqttClient();
        var result = await cutOff.ConnectAsync(Options("pi-a").WithCredentials("pi-a", "guess-again").Build());
        Assert.Equal(MqttClientConnectResultCode.QuotaExceeded, result.ResultCode);

        // ... while the right password, known from its last login, still logs in at once.
        using var again = new MqttClientFactory().CreateMqttClient();
        Assert.Equal(MqttClientConnectResultCode.Success, (await again.ConnectAsync(Options("pi-a").WithCredentials("pi-a", TestCredentials.PasswordOf("pi-a")).Build())).ResultCode);

        Assert.Equal(10, Refused("connect", "bad_credentials"));
        Assert.Equal(1, Refused("connect", "too_many_failures"));
    }

    [Fact]
    public async Task A_device_cannot_take_another_devices_client_id()
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        var result = await client.ConnectAsync(Options("ntp-newtechpark-pi-b").WithCredentials("pi-a", TestCredentials.PasswordOf("pi-a")).Build());

        Assert.Equal(MqttClientConnectResultCode.ClientIdentifierNotValid, result.ResultCode);
        Assert.Equal(1, Refused("connect", "foreign_client_id"));
    }

    [Fact]
    public async Task Device_a_publishing_as_device_b_is_refused_counted_logged_and_not_stored()
    {
        using var deviceA = await ConnectAsync("pi-a");

        var own = await deviceA.PublishAsync(Batch("ntp/v1/newtechpark/pi-a/readings", seq: 1, sensor: "probe-a"));
        var asB = await deviceA.PublishAsync(Batch("ntp/v1/newtechpark/pi-b/readings", seq: 1, sensor: "probe-b"));
        var otherSite = await deviceA.PublishAsync(Batch("ntp/v1/elsewhere/pi-a/readings", seq: 2, sensor: "probe-c"));

        Assert.True(own.IsSuccess, $"own topic: {own.ReasonCode} {own.ReasonString}");
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, asB.ReasonCode);
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, otherSite.ReasonCode);
        Assert.Equal(2, Refused("publish", "not_authorized"));
        Assert.Contains(_logs.Lines, l => l.Contains("Refused a publish of client pi-a", StringComparison.Ordinal) && l.Contains("ntp/v1/newtechpark/pi-b/readings", StringComparison.Ordinal));
        var devices = await _collector.EventuallyAsync<List<DeviceDto>>("/api/v1/devices", d => d.Any(x => x.Device == "pi-a"), TimeSpan.FromSeconds(10));
        Assert.DoesNotContain(devices, d => d.Device == "pi-b");
        Assert.Equal(1, devices.Single(d => d.Device == "pi-a").Batches);
    }

    [Fact]
    public async Task A_device_subscribes_only_to_its_own_topics_and_a_reader_reads_but_never_publishes()
    {
        using var deviceA = await ConnectAsync("pi-a");
        var foreign = await deviceA.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("ntp/v1/#").Build());
        var own = await deviceA.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("ntp/v1/newtechpark/pi-a/#").Build());
        Assert.Equal(MqttClientSubscribeResultCode.NotAuthorized, foreign.Items.Single().ResultCode);
        Assert.Equal(MqttClientSubscribeResultCode.GrantedQoS0, own.Items.Single().ResultCode);

        using var reader = await ConnectAsync(TestCredentials.Reader);
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        reader.ApplicationMessageReceivedAsync += e =>
        {
            received.TrySetResult(e.ApplicationMessage.Topic);
            return Task.CompletedTask;
        };
        var subscribed = await reader.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("ntp/v1/#", MqttQualityOfServiceLevel.AtLeastOnce).Build());
        Assert.Equal(MqttClientSubscribeResultCode.GrantedQoS1, subscribed.Items.Single().ResultCode);

        var readerPublish = await reader.PublishAsync(Batch("ntp/v1/newtechpark/pi-a/readings", seq: 5, sensor: "probe-a"));
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, readerPublish.ReasonCode);

        await deviceA.PublishAsync(Batch("ntp/v1/newtechpark/pi-a/readings", seq: 6, sensor: "probe-a"));
        Assert.Equal("ntp/v1/newtechpark/pi-a/readings", await received.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(1, Refused("subscribe", "not_authorized"));
    }

    [Fact]
    public async Task A_device_publishes_only_readings_and_status_and_a_refused_message_reaches_no_reader()
    {
        using var reader = await ConnectAsync(TestCredentials.Reader);
        var seen = new System.Collections.Concurrent.ConcurrentQueue<string>();
        reader.ApplicationMessageReceivedAsync += e =>
        {
            seen.Enqueue(Encoding.UTF8.GetString(e.ApplicationMessage.Payload));
            return Task.CompletedTask;
        };
        await reader.SubscribeAsync("ntp/v1/newtechpark/pi-a/#", MqttQualityOfServiceLevel.AtLeastOnce);
        using var device = await ConnectAsync("pi-a");

        var stray = await device.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("ntp/v1/newtechpark/pi-a/anything").WithPayload("x").WithRetainFlag()
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
        var garbage = await device.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("ntp/v1/newtechpark/pi-a/readings").WithPayload("not json at all")
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
        var valid = await device.PublishAsync(Batch("ntp/v1/newtechpark/pi-a/readings", seq: 3, sensor: "probe-a"));

        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, stray.ReasonCode);
        Assert.True(garbage.IsSuccess, "a refused batch is acknowledged once it is kept as a dead letter, so the device does not send it for ever");
        Assert.True(valid.IsSuccess);
        // The broker delivers in order: once the valid batch is there, the garbage would have been before it.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!seen.Any(p => p.Contains("probe-a", StringComparison.Ordinal)) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Equal(["probe-a"], seen.Select(p => p.Contains("probe-a", StringComparison.Ordinal) ? "probe-a" : p));
    }

    [Fact]
    public async Task A_devices_last_will_on_its_own_status_topic_still_gets_through()
    {
        using var reader = await ConnectAsync(TestCredentials.Reader);
        var wills = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        reader.ApplicationMessageReceivedAsync += e =>
        {
            if (e.ApplicationMessage.Topic == "ntp/v1/newtechpark/pi-a/status")
            {
                wills.TrySetResult(Encoding.UTF8.GetString(e.ApplicationMessage.Payload));
            }

            return Task.CompletedTask;
        };
        await reader.SubscribeAsync("ntp/v1/newtechpark/+/status");

        var device = new MqttClientFactory().CreateMqttClient();
        var options = Options("ntp-newtechpark-pi-a").WithCredentials("pi-a", TestCredentials.PasswordOf("pi-a"))
            .WithWillTopic("ntp/v1/newtechpark/pi-a/status").WithWillPayload("""{"v":1,"state":"offline"}""").WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build();
        Assert.Equal(MqttClientConnectResultCode.Success, (await device.ConnectAsync(options)).ResultCode);
        device.Dispose(); // gone without a DISCONNECT, as a Pi that loses power

        Assert.Contains("offline", await wills.Task.WaitAsync(TimeSpan.FromSeconds(20)), StringComparison.Ordinal);
        Assert.Equal(0, Refused("publish", "not_authorized"));
    }

    [Fact]
    public async Task No_password_or_admin_token_reaches_the_logs()
    {
        using var device = await ConnectAsync("pi-a");
        await device.PublishAsync(Batch("ntp/v1/newtechpark/pi-a/readings", seq: 9, sensor: "probe-a"));
        using var wrong = new MqttClientFactory().CreateMqttClient();
        await wrong.ConnectAsync(Options("pi-b").WithCredentials("pi-b", "a-wrong-password-to-look-for").Build());
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/devices");
        request.Headers.Authorization = new("Bearer", "admin-token-that-must-not-be-logged");
        await _collector.Http.SendAsync(request);
        await _collector.EventuallyAsync<List<DeviceDto>>("/api/v1/devices", d => d.Any(x => x.Device == "pi-a"), TimeSpan.FromSeconds(10));

        Assert.NotEmpty(_logs.Lines); // Debug logging was on: there was something to search
        foreach (var secret in new[] { TestCredentials.PasswordOf("pi-a"), "a-wrong-password-to-look-for", "admin-token-that-must-not-be-logged" })
        {
            Assert.DoesNotContain(secret, _logs.All, StringComparison.Ordinal);
        }
    }

    private double Refused(string action, string reason) =>
        _collector.Services.GetRequiredService<CollectorMetrics>().BrokerRefused.WithLabels(action, reason).Value;

    private MqttClientOptionsBuilder Options(string clientId) =>
        new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", _collector.BrokerPort).WithProtocolVersion(MqttProtocolVersion.V500).WithClientId(clientId).WithTimeout(TimeSpan.FromSeconds(10));

    private async Task<IMqttClient> ConnectAsync(string user)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var result = await client.ConnectAsync(Options(user).WithCredentials(user, TestCredentials.PasswordOf(user)).Build());
        Assert.Equal(MqttClientConnectResultCode.Success, result.ResultCode);
        return client;
    }

    internal static MqttApplicationMessage Batch(string topic, long seq, string sensor)
    {
        var now = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture);
        var json = $$$"""{"v":1,"seq":{{{seq}}},"sent":"{{{now}}}","readings":[{"ts":"{{{now}}}","sensor":"{{{sensor}}}","kind":"climate","values":{"temperature_c":21.5}}]}""";
        return new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(Encoding.UTF8.GetBytes(json)).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();
    }
}

/// <summary>The TLS listener, the password file, and what a wrong one does at start.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // file modes are Unix's; the collector runs on Linux
public sealed class BrokerCredentialsAndTlsTests
{
    [Fact]
    public async Task An_agent_with_the_sites_CA_publishes_over_TLS_and_a_plain_or_untrusting_client_gets_nowhere()
    {
        using var folder = new TempDirectory("ntp-security-");
        var (certificateFile, keyFile) = WriteSelfSignedBrokerCertificate(folder.Path, "broker");
        var tlsPort = FreePort.Next();
        await using var collector = await RunningCollector.StartAsync(extra:
        [
            $"--Collector:Broker:Tls:CertificateFile={certificateFile}",
            $"--Collector:Broker:Tls:KeyFile={keyFile}",
            $"--Collector:Broker:Tls:Port={tlsPort}",
            "--Collector:Broker:Tls:BindAddress=127.0.0.1",
        ]);

        await using (var pi = await SimulatedPi.StartAsync(tlsPort, null,
                         [new("Agent:Broker:UseTls", "true"), new("Agent:Broker:CaCertificateFile", certificateFile)]))
        {
            await pi.WaitReadyAsync(TimeSpan.FromSeconds(20));
            await pi.WalkAsync(SimulatedPi.MainOuter, SimulatedPi.MainInner, inwards: true);
            await collector.EventuallyAsync<OccupancyDto>("/api/v1/occupancy", o => o.Building == 1, TimeSpan.FromSeconds(20));
        }

        // A client that trusts another authority refuses the broker's certificate.
        var (otherAuthority, _) = WriteSelfSignedBrokerCertificate(folder.Path, "other");
        using var untrusting = new MqttClientFactory().CreateMqttClient();
        var broker = new BrokerOptions { Host = "127.0.0.1", Port = tlsPort, UseTls = true, CaCertificateFile = otherAuthority };
        var options = new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", tlsPort).WithClientId("pi-a").WithCredentials("pi-a", TestCredentials.PasswordOf("pi-a"))
            .WithTimeout(TimeSpan.FromSeconds(5)).WithTlsOptions(tls => BrokerCertificate.Configure(tls, broker)).Build();
        await Assert.ThrowsAnyAsync<Exception>(() => untrusting.ConnectAsync(options));
        Assert.False(untrusting.IsConnected);

        // Plain MQTT spoken to the TLS port gets no CONNACK.
        using var plain = new MqttClientFactory().CreateMqttClient();
        var plainOptions = new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", tlsPort).WithClientId("pi-a").WithCredentials("pi-a", TestCredentials.PasswordOf("pi-a"))
            .WithTimeout(TimeSpan.FromSeconds(3)).Build();
        await Assert.ThrowsAnyAsync<Exception>(() => plain.ConnectAsync(plainOptions));
    }

    [Fact]
    public void The_agents_certificate_check_wants_the_right_authority_and_the_right_name()
    {
        using var folder = new TempDirectory("ntp-security-");
        var (certificateFile, _) = WriteSelfSignedBrokerCertificate(folder.Path, "broker");
        var (otherFile, _) = WriteSelfSignedBrokerCertificate(folder.Path, "other");
        using var certificate = X509CertificateLoader.LoadCertificateFromFile(certificateFile);
        using var other = X509CertificateLoader.LoadCertificateFromFile(otherFile);

        Assert.True(BrokerCertificate.IsTrusted(certificate, SslPolicyErrors.RemoteCertificateChainErrors, certificate));
        Assert.False(BrokerCertificate.IsTrusted(certificate, SslPolicyErrors.RemoteCertificateChainErrors, other));
        Assert.False(BrokerCertificate.IsTrusted(certificate, SslPolicyErrors.RemoteCertificateNameMismatch, certificate));
        Assert.False(BrokerCertificate.IsTrusted(null, SslPolicyErrors.RemoteCertificateNotAvailable, certificate));
    }

    [Fact]
    public async Task A_password_file_made_by_mosquitto_passwd_lets_its_device_in()
    {
        const string tool = "/usr/bin/mosquitto_passwd";
        Assert.True(File.Exists(tool), "mosquitto_passwd is not installed (Debian package mosquitto); run ./test.sh as root or: apt-get install -y mosquitto");
        using var folder = new TempDirectory("ntp-security-");
        var file = Path.Combine(folder.Path, "mqtt.passwd");
        var made = await ChildProcess.RunToEndAsync(tool, ["-c", "-b", file, "pi-mosquitto-made", "made-by-mosquitto"], TimeSpan.FromSeconds(30));
        Assert.True(made.ExitCode == 0, made.Stderr);

        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await using var collector = await RunningCollector.StartAsync(extra: [$"--Collector:Broker:PasswordFile={file}"]);
        using var client = new MqttClientFactory().CreateMqttClient();
        var options = new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", collector.BrokerPort).WithProtocolVersion(MqttProtocolVersion.V500)
            .WithClientId("pi-mosquitto-made").WithCredentials("pi-mosquitto-made", "made-by-mosquitto").Build();

        Assert.Equal(MqttClientConnectResultCode.Success, (await client.ConnectAsync(options)).ResultCode);
        var published = await client.PublishAsync(EmbeddedBrokerSecurityTests.Batch("ntp/v1/newtechpark/pi-mosquitto-made/readings", 1, "probe"));
        Assert.True(published.IsSuccess);
    }

    [Fact]
    public async Task A_password_file_others_can_read_or_a_broken_line_stops_the_start_with_a_clear_error()
    {
        using var folder = new TempDirectory("ntp-security-");
        var readable = Path.Combine(folder.Path, "readable.passwd");
        await File.WriteAllTextAsync(readable, $"pi-a:{MqttPasswordHash.Create("x", 10)}\n");
        File.SetUnixFileMode(readable, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var broken = Path.Combine(folder.Path, "broken.passwd");
        await File.WriteAllTextAsync(broken, "# devices\npi-a:$6$plain-sha512$abc\nno-colon-here\n");
        File.SetUnixFileMode(broken, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var worldReadable = await Assert.ThrowsAsync<OptionsValidationException>(() => RunningCollector.StartAsync(extra: [$"--Collector:Broker:PasswordFile={readable}"]));
        Assert.Contains("chmod 600", worldReadable.Message, StringComparison.Ordinal);

        var badLines = await Assert.ThrowsAsync<OptionsValidationException>(() => RunningCollector.StartAsync(extra: [$"--Collector:Broker:PasswordFile={broken}"]));
        Assert.Contains("line 2 (pi-a): not a '$7$iterations$salt$hash'", string.Join("\n", badLines.Failures), StringComparison.Ordinal);
        Assert.Contains("line 3: expected 'user:hash'", string.Join("\n", badLines.Failures), StringComparison.Ordinal);
    }

    [Fact]
    public void Hashes_are_salted_checked_in_constant_time_and_read_mosquittos_format()
    {
        var first = MqttPasswordHash.Create("same password", 1000);
        var second = MqttPasswordHash.Create("same password", 1000);
        Assert.NotEqual(first, second); // salted
        Assert.StartsWith("$7$1000$", first, StringComparison.Ordinal);
        Assert.True(MqttPasswordHash.TryParse(first, out var parsed, out _));
        Assert.True(MqttPasswordHash.Verify("same password"u8, parsed));
        Assert.False(MqttPasswordHash.Verify("same passwore"u8, parsed));

        // A line mosquitto_passwd 2.0 wrote for pi-a / secret1.
        Assert.True(MqttPasswordHash.TryParse("$7$101$4CwuP6zSw7As+xSN$lhlFv0SRPa5yRv10/WZDjIa5Q+Ql16kU3D/aK2Q/GRCtRvphvvCOVqSC5hXf3VRoVIZIzlEC3/klww6JFpav0A==", out var mosquitto, out _));
        Assert.True(MqttPasswordHash.Verify("secret1"u8, mosquitto));
        Assert.False(MqttPasswordHash.Verify("secret2"u8, mosquitto));
    }

    [Fact]
    public async Task Add_device_writes_a_private_password_file_the_collector_accepts()
    {
        using var folder = new TempDirectory("ntp-security-");
        var file = Path.Combine(folder.Path, "mqtt.passwd");
        var output = new StringWriter();
        Assert.Equal(0, await CollectorCommandLine.RunAsync(["devices", "add", "pi-new", "--password-file", file], output, TextWriter.Null));
        var password = output.ToString().Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)[1];
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.DoesNotContain(password, await File.ReadAllTextAsync(file), StringComparison.Ordinal);
        Assert.Equal(2, await CollectorCommandLine.RunAsync(["devices", "add", "Pi/New", "--password-file", file], TextWriter.Null, TextWriter.Null));

        await using var collector = await RunningCollector.StartAsync(extra: [$"--Collector:Broker:PasswordFile={file}"]);
        using var client = new MqttClientFactory().CreateMqttClient();
        var result = await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", collector.BrokerPort).WithClientId("pi-new").WithCredentials("pi-new", password).Build());
        Assert.Equal(MqttClientConnectResultCode.Success, result.ResultCode);
    }

    /// <summary>A self-signed certificate for 127.0.0.1 (the broker's and its own authority), as PEM files.</summary>
    internal static (string Certificate, string Key) WriteSelfSignedBrokerCertificate(string folder, string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=ntp-test-{name}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyCertSign, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        var certificateFile = Path.Combine(folder, name + ".crt");
        var keyFile = Path.Combine(folder, name + ".key");
        File.WriteAllText(certificateFile, certificate.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
        return (certificateFile, keyFile);
    }
}
