using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using NewTechPark.Edge.EndToEnd.Tests.Infrastructure;
using NewTechPark.Edge.Reliability.Tests.Infrastructure;
using Xunit.Abstractions;

namespace NewTechPark.Edge.Reliability.Tests.LoadAndFault;

/// <summary>
/// Issue 14's rows of the queues and streams, replayed against a real collector process
/// (<c>dotnet collector.dll</c> on free loopback ports): a QoS 0 flood by a logged-in device, 500
/// idle stream clients during a QoS 1 burst, and SIGTERM with streams open. Each test writes its
/// figures to the output, one line per figure ("FIGURE ...").
/// </summary>
[Trait("Category", "Slow")]
public sealed class QueueAndStreamBoundsTests(ITestOutputHelper output)
{
    private const string Site = "newtechpark";
    private const string Device = "pi-load-backlog";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Issue 14: 10,000 valid ~100 KB batches at QoS 0 took the collector from 435 to 1,738 MiB
    /// (2.0 GB after) with /healthz "Healthy" throughout. Scaled to 1,000 batches (~100 MiB, six
    /// times the QoS 0 half of the default 32 MiB queue): memory stays bounded, every
    /// message is either stored or counted as dropped, and /healthz says so while it happens.
    /// </summary>
    [Fact]
    public async Task QoS_0_flood_keeps_memory_bounded_counts_drops_and_is_not_healthy()
    {
        const int batches = 1_000;
        // ~100 KB a batch, as in the issue, from four devices at once; 32 short values a reading
        // make committing a batch far slower than reading it, so the queue fills on two cores too.
        const int readingsPerBatch = 280;
        const int valuesPerReading = 32;
        string[] devices = ["pi-load-backlog", "pi-load-agent", "pi-load-collector", "pi-load-broker"];
        var start = DateTimeOffset.UtcNow.AddHours(-2);
        // Made before the flood, so the test's own work does not pace it.
        var payloads = Enumerable.Range(1, batches).AsParallel().AsOrdered()
            .Select(seq => Batch((ulong)((seq + 3) / devices.Length), start.AddSeconds(seq), readingsPerBatch, valuesPerReading, shortNames: true)).ToArray();
        var bytes = payloads.Sum(p => (long)p.Length);

        await using var collector = await FaultRig.StartAsync(BrokerKind.Embedded);
        var before = collector.CollectorMemory();
        var clients = new List<IMqttClient>();
        foreach (var name in devices)
        {
            clients.Add(await ConnectAsync(collector.BrokerPort, name));
        }

        var statuses = new List<(string Status, long Dropped)>();
        using var polling = new CancellationTokenSource();
        var poller = PollHealthAsync(collector.Http, statuses, polling.Token);

        var clock = Stopwatch.StartNew();
        await Task.WhenAll(devices.Select((name, d) => Task.Run(async () =>
        {
            for (var i = d; i < batches; i += devices.Length)
            {
                await clients[d].PublishAsync(new MqttApplicationMessageBuilder()
                    .WithTopic($"ntp/v1/{Site}/{name}/readings").WithPayload(payloads[i])
                    .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtMostOnce).Build());
            }
        })));

        var sent = clock.Elapsed;
        // Every message is accounted for: stored, or dropped and counted.
        double stored = 0, dropped = 0;
        await Eventually.UntilAsync(async () =>
        {
            var metrics = await collector.MetricsAsync();
            stored = metrics.GetValueOrDefault("ntp_ingest_messages_total{outcome=\"stored\"}");
            dropped = metrics.GetValueOrDefault("ntp_ingest_dropped_total{reason=\"queue_full\"}");
            return stored + dropped >= batches;
        }, "every flooded message is stored or counted as dropped", Patience, TimeSpan.FromMilliseconds(250));
        var drained = clock.Elapsed;
        await polling.CancelAsync();
        await poller;
        var after = collector.CollectorMemory();
        foreach (var client in clients)
        {
            client.Dispose();
        }

        // The drops are recent (the check shows them for 30 s): /healthz must say so now.
        using var health = JsonDocument.Parse(await collector.Http.GetStringAsync("/healthz"));
        var queue = health.RootElement.GetProperty("checks").GetProperty("ingest_queue");
        output.WriteLine($"FIGURE qos0-flood healthz-after: ingest_queue {queue.GetProperty("status").GetString()}: {queue.GetProperty("description").GetString()}");

        output.WriteLine($"FIGURE qos0-flood sent: {batches} batches x {readingsPerBatch} readings x {valuesPerReading} values from {devices.Length} devices, {bytes / (1 << 20)} MiB in {sent.TotalSeconds:0.0} s");
        output.WriteLine($"FIGURE qos0-flood stored: {stored:0} batches; dropped and counted: {dropped:0} (ntp_ingest_dropped_total); all accounted for after {drained.TotalSeconds:0.0} s");
        output.WriteLine($"FIGURE qos0-flood rss: before {before.RssMiB:0} MiB, peak (VmHWM) {after.PeakRssMiB:0} MiB, after {after.RssMiB:0} MiB");
        var afterDrops = statuses.Where(s => s.Dropped > 0).ToList();
        output.WriteLine($"FIGURE qos0-flood healthz: {statuses.Count} polls during the flood, {afterDrops.Count} of them after drops had begun: {afterDrops.Count(s => s.Status != "Healthy")} of those not Healthy");

        Assert.Equal(batches, stored + dropped);
        Assert.True(dropped > 0, "the flood overflowed the queue, so some QoS 0 messages must have been dropped");
        Assert.Equal("Degraded", queue.GetProperty("status").GetString());
        Assert.All(afterDrops, s => Assert.NotEqual("Healthy", s.Status));
        Assert.Equal(dropped, queue.GetProperty("data").GetProperty("dropped").GetDouble());
        // Before: 1,738 MiB peak. The queue holds at most 16 MiB of QoS 0 payload; the rest is the
        // runtime, SQLite's cache and the GC's slack. A generous margin, far under the old figure.
        Assert.True(after.PeakRssMiB < 700, $"peak RSS {after.PeakRssMiB:0} MiB");
        Assert.True(after.PeakRssMiB - before.RssMiB < 500, $"RSS grew by {after.PeakRssMiB - before.RssMiB:0} MiB");
    }

    /// <summary>
    /// Issue 14: with 500 idle stream clients, 50 x 1,000 readings took 11.5 s instead of 0.7 s
    /// (the fan-out ran on the commit loop). The same burst at QoS 1, timed from the first publish
    /// to the last PUBACK (sent after the commit), without stream clients and then with 500 that
    /// connect and never read.
    /// </summary>
    [Fact]
    public async Task Idle_stream_clients_do_not_slow_the_commits()
    {
        const int clients = 500;
        await using var collector = await FaultRig.StartAsync(BrokerKind.Embedded,
            $"--Collector:Stream:MaxClients={clients + 10}", $"--Collector:Stream:MaxClientsPerAddress={clients + 10}");
        using var device = await ConnectAsync(collector.BrokerPort, Device);
        var start = DateTimeOffset.UtcNow.AddHours(-2);

        // Warm-up, then the baseline without clients.
        await BurstAsync(device, 1, 10, start);
        var baseline = await BurstAsync(device, 1_001, 50, start);

        var idle = new List<Socket>();
        try
        {
            for (var i = 0; i < clients; i++)
            {
                idle.Add(await OpenIdleStreamAsync(collector.HttpPort));
            }

            await Eventually.UntilAsync(async () => (await collector.MetricsAsync()).GetValueOrDefault("ntp_stream_clients") >= clients,
                $"{clients} stream clients are connected", Patience, TimeSpan.FromMilliseconds(250));
            var loaded = await BurstAsync(device, 2_001, 50, start);
            var metrics = await collector.MetricsAsync();
            var memory = collector.CollectorMemory();

            output.WriteLine($"FIGURE idle-streams baseline: 50 x 1,000 readings committed and acknowledged in {baseline.Total.TotalSeconds:0.00} s (slowest PUBACK {baseline.Slowest.TotalMilliseconds:0} ms) without stream clients");
            output.WriteLine($"FIGURE idle-streams loaded: 50 x 1,000 readings in {loaded.Total.TotalSeconds:0.00} s (slowest PUBACK {loaded.Slowest.TotalMilliseconds:0} ms) with {clients} idle stream clients");
            output.WriteLine($"FIGURE idle-streams dropped: {metrics.GetValueOrDefault("ntp_stream_clients_dropped_total{reason=\"slow\"}"):0} slow clients dropped, {metrics.GetValueOrDefault("ntp_stream_clients"):0} still connected; RSS {memory.RssMiB:0} MiB, peak {memory.PeakRssMiB:0} MiB");

            // Before: 16 times the baseline. Now the commit loop only hands each group over.
            Assert.True(loaded.Total < (baseline.Total * 3) + TimeSpan.FromSeconds(1),
                $"with {clients} idle clients {loaded.Total.TotalSeconds:0.00} s, without {baseline.Total.TotalSeconds:0.00} s");
        }
        finally
        {
            foreach (var socket in idle)
            {
                socket.Dispose();
            }
        }
    }

    /// <summary>Issue 14: SIGTERM with one stream open kept the collector up 31.3 s (2.0 s without). Now the streams end when the host stops.</summary>
    [Fact]
    public async Task SIGTERM_with_streams_open_stops_within_5_seconds()
    {
        await using var collector = await FaultRig.StartAsync(BrokerKind.Embedded);
        using var cancel = new CancellationTokenSource(Patience);

        // Streams that read, and one that never reads.
        using var http = new HttpClient { BaseAddress = collector.Http.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        var reading = new List<HttpResponseMessage>();
        for (var i = 0; i < 3; i++)
        {
            var response = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/api/v1/stream"), HttpCompletionOption.ResponseHeadersRead, cancel.Token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            reading.Add(response);
        }

        using var idle = await OpenIdleStreamAsync(collector.HttpPort);
        await Eventually.UntilAsync(async () => (await collector.MetricsAsync()).GetValueOrDefault("ntp_stream_clients") >= 4,
            "the streams are open", Patience, TimeSpan.FromMilliseconds(100));

        Assert.False(collector.Collector!.HasExited);
        var stopping = Stopwatch.StartNew();
        await collector.Collector!.StopAsync(TimeSpan.FromSeconds(40));
        var took = stopping.Elapsed;
        // 0: it stopped by itself, not killed after the wait.
        var exitCode = await collector.Collector!.WaitForExitAsync(TimeSpan.FromSeconds(1));
        output.WriteLine($"FIGURE sigterm-streams: exit code {exitCode} {took.TotalSeconds:0.00} s after SIGTERM with 4 streams open (3 reading, 1 never reading)");
        Assert.Equal(0, exitCode);
        foreach (var response in reading)
        {
            response.Dispose();
        }

        Assert.True(took < TimeSpan.FromSeconds(5), $"the collector took {took.TotalSeconds:0.0} s to stop");
    }

    private static async Task<(TimeSpan Total, TimeSpan Slowest)> BurstAsync(IMqttClient device, int firstSeq, int messages, DateTimeOffset start)
    {
        var payloads = Enumerable.Range(firstSeq, messages).Select(seq => Batch((ulong)seq, start.AddSeconds(seq), 1_000)).ToList();
        var clock = Stopwatch.StartNew();
        var slowest = TimeSpan.Zero;
        var publishes = payloads.Select(async payload =>
        {
            var sent = clock.Elapsed;
            var result = await device.PublishAsync(new MqttApplicationMessageBuilder()
                .WithTopic($"ntp/v1/{Site}/{Device}/readings").WithPayload(payload)
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
            // 0x10: nobody subscribes to the topic, which is what the embedded broker says after a commit.
            Assert.True(result.ReasonCode is MqttClientPublishReasonCode.Success or MqttClientPublishReasonCode.NoMatchingSubscribers, $"PUBACK {result.ReasonCode}");
            var took = clock.Elapsed - sent;
            lock (payloads)
            {
                slowest = took > slowest ? took : slowest;
            }
        }).ToList();
        await Task.WhenAll(publishes).WaitAsync(Patience);
        return (clock.Elapsed, slowest);
    }

    /// <summary>
    /// A valid batch of plain series of the device, every reading its own millisecond, with
    /// <paramref name="values"/> values a reading (1 to 32: more values make more points to commit
    /// for the same bytes to read).
    /// </summary>
    private static byte[] Batch(ulong seq, DateTimeOffset from, int readings, int values = 2, bool shortNames = false)
    {
        var json = new StringBuilder(readings * (60 + (values * 16)));
        json.Append(CultureInfo.InvariantCulture, $"{{\"v\":1,\"seq\":{seq},\"sent\":\"{Ts(DateTimeOffset.UtcNow)}\",\"readings\":[");
        for (var i = 0; i < readings; i++)
        {
            json.Append(i == 0 ? string.Empty : ",").Append(CultureInfo.InvariantCulture, $"{{\"ts\":\"{Ts(from.AddMilliseconds(i))}\",\"sensor\":\"load-1\",\"kind\":\"dc\",\"values\":{{");
            for (var v = 0; v < values; v++)
            {
                json.Append(v == 0 ? string.Empty : ",");
                if (shortNames)
                {
                    json.Append(CultureInfo.InvariantCulture, $"\"{(char)('a' + (v / 8))}{v % 8}_v\":{i % 10}");
                }
                else
                {
                    json.Append(CultureInfo.InvariantCulture, $"\"ch{v:00}_v\":{24 + (i % 100) / 100.0:0.00}");
                }
            }

            json.Append("}}");
        }

        return Encoding.UTF8.GetBytes(json.Append("]}").ToString());
    }

    private static string Ts(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static async Task<IMqttClient> ConnectAsync(int port, string device)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var result = await client.ConnectAsync(new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", port)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithClientId(device)
            .WithCredentials(device, TestCredentials.PasswordOf(device))
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build());
        Assert.Equal(MqttClientConnectResultCode.Success, result.ResultCode);
        return client;
    }

    /// <summary>A stream client that sends its request and never reads: a small receive buffer, so it fills soon.</summary>
    private static async Task<Socket> OpenIdleStreamAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        await socket.SendAsync(Encoding.ASCII.GetBytes($"GET /api/v1/stream HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n\r\n"));
        return socket;
    }

    /// <summary>The ingest_queue check's status and its count of dropped messages, every 200 ms.</summary>
    private static async Task PollHealthAsync(HttpClient http, List<(string Status, long Dropped)> statuses, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                using var response = await http.GetAsync("/healthz", cancellationToken);
                var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
                lock (statuses)
                {
                    var queue = body.RootElement.GetProperty("checks").GetProperty("ingest_queue");
                    statuses.Add((queue.GetProperty("status").GetString() ?? "?", queue.GetProperty("data").GetProperty("dropped").GetInt64()));
                }

                await Task.Delay(200, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
