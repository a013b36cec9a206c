using System.Diagnostics;
using System.Buffers;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet;
using NewTechPark.Edge.Collector.Ingest;
using NewTechPark.Edge.Collector.Storage;
using MQTTnet.Protocol;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Bench;

/// <summary>
/// Publishers send QoS 1 batches through a broker; the collector's rate (until every batch is
/// committed in SQLite) is set against a bare MQTTnet subscriber draining the same broker with the
/// same payloads (on a topic the collector does not read), in the same run. For the embedded
/// broker the bare run uses the same MQTTnet broker configuration started alone (the collector's
/// broker lets devices publish only what it ingests); for Mosquitto the same Mosquitto.
/// </summary>
public static class IngestScenario
{
    private const int Publishers = 4;
    private const int Window = 64;

    public sealed record Row(string Broker, int PerBatch, long Readings, double CollectorRate, double BareRate)
    {
        public double Ratio => CollectorRate / BareRate;
    }

    public static async Task<string> RunAsync()
    {
        var rows = new List<Row>();
        foreach (var broker in new[] { "embedded", "mosquitto" })
        {
            await using var mosquitto = broker == "mosquitto" ? await BenchMosquitto.StartAsync() : null;
            await using var collector = await BenchCollector.StartAsync(mosquitto?.Port);
            if (mosquitto is not null)
            {
                await Task.Delay(1000); // the collector's persistent session subscribes
            }

            var port = mosquitto?.Port ?? collector.BrokerPort;
            await using var bareBroker = mosquitto is null ? await BareBroker.StartAsync() : null;
            var barePort = bareBroker?.Port ?? port;
            var state = new PublisherState();
            long expectedBatches = 0;
            // Warm-up (JIT with its background tier-up, connections, SQLite pages): not measured. It
            // must be long enough for the collector's longer code path to reach optimized code too,
            // or the collector run pays for compilation that the bare run does not.
            foreach (var (perBatch, messages, warm) in new[] { (50, 2000, true), (1, 4000, true), (50, 8000, false), (1, 20000, false) })
            {
                var payloads = state.Build(perBatch, messages);
                var bare = await BareAsync(barePort, payloads, perBatch);
                var (rate, batches) = await CollectorAsync(port, collector, payloads, perBatch, expectedBatches);
                expectedBatches = batches;
                if (!warm)
                {
                    var row = new Row(broker, perBatch, (long)messages * perBatch, rate, bare);
                    rows.Add(row);
                    Console.WriteLine($"  {broker,-9} {perBatch,2}/batch {row.Readings,8:N0} readings: collector {rate,9:N0}/s, bare subscriber {bare,9:N0}/s, ratio {row.Ratio:F2}");
                }
            }
        }

        Breakdown(new PublisherState().Build(50, 8000));
        Console.WriteLine();
        Console.WriteLine("| broker | readings/batch | readings | collector (committed) /s | bare subscriber /s | ratio |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (var r in rows)
        {
            Console.WriteLine($"| {r.Broker} | {r.PerBatch} | {r.Readings:N0} | {r.CollectorRate:N0} | {r.BareRate:N0} | {r.Ratio:F2} |");
        }

        // The summary: 50 readings per batch, the broker with the lower ratio.
        var worst = rows.Where(r => r.PerBatch == 50).OrderBy(r => r.Ratio).First();
        var ok = rows.Where(r => r.PerBatch == 50).All(r => r.Ratio >= 0.80 && r.CollectorRate >= 50_000);
        Console.WriteLine($"targets (50/batch, both brokers): ratio >= 0.80 and >= 50,000 readings/s: {(ok ? "met" : "MISSED")}");
        return $"ingest: {worst.CollectorRate:F0} readings/s, {worst.Ratio:F2} of bare subscriber ({worst.BareRate:F0}/s)";
    }

    /// <summary>The breakdown alone (no broker): for before/after pairs of the commit's cost.</summary>
    public static Task<string> BreakdownAsync()
    {
        Breakdown(new PublisherState().Build(50, 8000));
        return Task.FromResult("breakdown: see above");
    }

    /// <summary>
    /// Where the collector's time per reading goes without MQTT: the same 50-reading payloads
    /// through IngestIntake.Read (JSON and contract validation), then SqliteStore.Commit, in groups
    /// of 512 messages into a fresh store, as IngestPipeline sees them: a group is parsed, then
    /// committed, then let go. (Parsing all 8,000 messages before the first commit kept 400,000
    /// readings alive and charged the parse for the garbage collector's promotions.) Twice: the
    /// first round warms the code up; the second is reported, as wall time and process CPU.
    /// </summary>
    private static void Breakdown(byte[][][] payloads)
    {
        var intake = new IngestIntake(TimeProvider.System);
        var all = payloads.SelectMany((mine, p) => mine.Select(b => ($"ntp/v1/newtechpark/bench-pi-{p}/readings", b))).ToList();
        var readings = all.Count * 50L;
        for (var round = 0; round < 2; round++)
        {
            using var folder = new TempDirectory("ntp-bench-store-");
            using var store = new SqliteStore(Path.Combine(folder.Path, "collector.db"), NullLogger<SqliteStore>.Instance);
            TimeSpan parse = default, commit = default, parseCpu = default, commitCpu = default;
            foreach (var group in all.Chunk(512))
            {
                var cpu = Environment.CpuUsage.TotalTime;
                var watch = Stopwatch.StartNew();
                var items = group.Select(m => intake.Read(m.Item1, new ReadOnlySequence<byte>(m.b), DateTimeOffset.UtcNow)).ToList();
                parse += watch.Elapsed;
                parseCpu += Environment.CpuUsage.TotalTime - cpu;
                if (items.OfType<DeadLetterItem>().FirstOrDefault() is { } dead)
                {
                    throw new InvalidOperationException($"the bench's payload was refused: {dead.Rule} {dead.Reason}");
                }

                cpu = Environment.CpuUsage.TotalTime;
                watch.Restart();
                store.Commit(items);
                commit += watch.Elapsed;
                commitCpu += Environment.CpuUsage.TotalTime - cpu;
            }

            if (round == 1)
            {
                Console.WriteLine($"  collector without MQTT, {readings:N0} readings in 50-reading messages, 512 messages a group: " +
                    $"IngestIntake.Read {parse.TotalMicroseconds / readings:F2} µs/reading ({parseCpu.TotalMicroseconds / readings:F2} µs CPU), " +
                    $"SqliteStore.Commit {commit.TotalMicroseconds / readings:F2} µs/reading ({commitCpu.TotalMicroseconds / readings:F2} µs CPU) " +
                    $"→ ceiling {readings / (parse + commit).TotalSeconds:N0} readings/s on one core");
            }
        }
    }

    /// <summary>Payloads per publisher, each publisher its own device, sequence and timestamps.</summary>
    private sealed class PublisherState
    {
        private readonly ulong[] _seq = new ulong[Publishers];
        private readonly long[] _ts = new long[Publishers];

        public PublisherState()
        {
            var start = DateTimeOffset.UtcNow.AddDays(-2).ToUnixTimeMilliseconds();
            for (var p = 0; p < Publishers; p++)
            {
                _seq[p] = 1;
                _ts[p] = start;
            }
        }

        /// <summary>Per publisher: <paramref name="messages"/> / publishers payloads.</summary>
        public byte[][][] Build(int perBatch, int messages)
        {
            var result = new byte[Publishers][][];
            for (var p = 0; p < Publishers; p++)
            {
                var mine = messages / Publishers;
                result[p] = new byte[mine][];
                for (var m = 0; m < mine; m++)
                {
                    var readings = new Reading[perBatch];
                    for (var r = 0; r < perBatch; r++)
                    {
                        var ts = _ts[p]++;
                        readings[r] = new Reading
                        {
                            Ts = DateTimeOffset.FromUnixTimeMilliseconds(ts),
                            Sensor = $"bench-{p}",
                            Kind = ReadingKinds.Dc,
                            Values = new Dictionary<string, double> { [ReadingKinds.DcValues.VoltageV] = 24.0 + (ts % 1000) / 1000.0 },
                        };
                    }

                    result[p][m] = Mqtt.Serialize(new ReadingsBatch { Seq = _seq[p]++, Sent = DateTimeOffset.UtcNow, Readings = readings });
                }
            }

            return result;
        }
    }

    private static async Task<double> BareAsync(int port, byte[][][] payloads, int perBatch)
    {
        var total = payloads.Sum(p => p.Length);
        var received = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscriber = await Mqtt.ConnectAsync(port, $"bench-bare-{Guid.NewGuid():N}");
        subscriber.ApplicationMessageReceivedAsync += _ =>
        {
            if (Interlocked.Increment(ref received) == total)
            {
                done.TrySetResult();
            }

            return Task.CompletedTask;
        };
        await subscriber.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("bench/v1/+/+/readings", MqttQualityOfServiceLevel.AtLeastOnce).Build());
        var clients = await ConnectPublishersAsync(port);
        var messages = payloads.Select((mine, p) => (IReadOnlyList<MqttApplicationMessage>)mine.Select(b => Mqtt.Message($"bench/v1/newtechpark/bench-pi-{p}/readings", b)).ToList()).ToArray();
        var cpuBefore = Environment.CpuUsage.TotalTime;
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(clients.Select((c, p) => Mqtt.PublishAllAsync(c, messages[p], Window)));
        await done.Task.WaitAsync(TimeSpan.FromMinutes(5));
        var elapsed = watch.Elapsed;
        Console.WriteLine($"    bare: {elapsed.TotalSeconds:F2} s wall, process CPU {(Environment.CpuUsage.TotalTime - cpuBefore).TotalSeconds:F2} s");
        await DisconnectAsync([.. clients, subscriber]);
        return total * perBatch / elapsed.TotalSeconds;
    }

    private static async Task<(double Rate, long Batches)> CollectorAsync(int port, BenchCollector collector, byte[][][] payloads, int perBatch, long before)
    {
        var total = payloads.Sum(p => p.Length);
        var expected = before + total;
        var clients = await ConnectPublishersAsync(port);
        var messages = payloads.Select((mine, p) => (IReadOnlyList<MqttApplicationMessage>)mine.Select(b => Mqtt.Message($"ntp/v1/newtechpark/bench-pi-{p}/readings", b)).ToList()).ToArray();
        var commitSecondsBefore = await collector.MetricAsync("ntp_ingest_commit_seconds_sum");
        var commitsBefore = await collector.MetricAsync("ntp_ingest_commit_seconds_count");
        // The pipeline's own count of committed messages: read in memory, so watching it costs the
        // collector nothing (opening an SQLite connection every 10 ms to count rows did).
        var pipeline = collector.Services.GetRequiredService<IngestPipeline>();
        var committedBefore = pipeline.Committed;
        var cpuBefore = Environment.CpuUsage.TotalTime;
        var watch = Stopwatch.StartNew();
        var publishing = Task.WhenAll(clients.Select((c, p) => Mqtt.PublishAllAsync(c, messages[p], Window)));
        var deadline = TimeSpan.FromMinutes(5);
        while (pipeline.Committed - committedBefore < total)
        {
            if (watch.Elapsed > deadline)
            {
                throw new TimeoutException($"the collector committed {pipeline.Committed - committedBefore} of {total} batches in {deadline}");
            }

            if (publishing.IsFaulted)
            {
                await publishing;
            }

            await Task.Delay(1);
        }

        var elapsed = watch.Elapsed;
        var cpu = Environment.CpuUsage.TotalTime - cpuBefore;
        await publishing;
        await DisconnectAsync(clients);
        // Outside the measured time: every batch is in the store, once.
        var committed = collector.CommittedBatches();
        if (committed != expected)
        {
            throw new InvalidOperationException($"the store holds {committed} batches; expected {expected}");
        }

        // Breakdown: the collector's own Stopwatch around SqliteStore.Commit (ntp_ingest_commit_seconds).
        var commitSeconds = await collector.MetricAsync("ntp_ingest_commit_seconds_sum") - commitSecondsBefore;
        var commits = await collector.MetricAsync("ntp_ingest_commit_seconds_count") - commitsBefore;
        Console.WriteLine($"    breakdown: {elapsed.TotalSeconds:F2} s wall, process CPU {cpu.TotalSeconds:F2} s; {commits:F0} commits, {commitSeconds:F2} s in SqliteStore.Commit ({commitSeconds / elapsed.TotalSeconds:P0} of wall, {total / Math.Max(1, commits):F0} messages/commit)");
        return (total * perBatch / elapsed.TotalSeconds, committed);
    }

    /// <summary>The publishers log in as devices bench-pi-0… (their own client ids, as the embedded broker requires).</summary>
    private static async Task<IMqttClient[]> ConnectPublishersAsync(int port) =>
        await Task.WhenAll(Enumerable.Range(0, Publishers).Select(p => Mqtt.ConnectAsync(port, $"bench-pi-{p}", user: $"bench-pi-{p}")));

    private static async Task DisconnectAsync(IEnumerable<IMqttClient> clients)
    {
        foreach (var client in clients)
        {
            await client.DisconnectAsync();
            client.Dispose();
        }
    }
}
