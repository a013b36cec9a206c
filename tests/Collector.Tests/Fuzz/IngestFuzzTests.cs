using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Ingest;
using NewTechPark.Edge.Collector.Live;
using NewTechPark.Edge.Collector.Metrics;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Collector.Storage.Blocks;
using NewTechPark.Edge.Contracts.Validation;
using Xunit.Abstractions;
using static NewTechPark.Edge.Collector.Tests.TestData;

namespace NewTechPark.Edge.Collector.Tests.Fuzz;

/// <summary>
/// A million generated and mutated messages through the collector's real ingest path:
/// <see cref="IngestIntake.Read"/> (what the broker's interceptor and the MQTT subscriber call)
/// and <see cref="IngestPipeline"/> committing to a real SQLite file. Seed from
/// <c>NTP_FUZZ_SEED</c> (printed), count from <c>NTP_FUZZ_MESSAGES</c> (at least the default).
/// </summary>
[Trait("Category", "Fuzz")]
[Trait("Category", "Slow")]
public sealed class IngestFuzzTests(ITestOutputHelper output) : IDisposable
{
    private const int DefaultMessages = 1_000_000;
    private const int DefaultSeed = 20261128;
    private const int InFlight = 20_000;
    private static readonly DateTimeOffset Now = new(2026, 6, 10, 10, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_million_hostile_messages_are_each_stored_refused_or_deduplicated_and_nothing_escapes()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("NTP_FUZZ_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) ? s : DefaultSeed;
        var messages = int.TryParse(Environment.GetEnvironmentVariable("NTP_FUZZ_MESSAGES"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? Math.Max(n, 1) : DefaultMessages;
        output.WriteLine($"fuzz seed {seed} (override with NTP_FUZZ_SEED), {messages:N0} messages (NTP_FUZZ_MESSAGES)");

        long unobserved = 0;
        void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs e) => Interlocked.Increment(ref unobserved);
        TaskScheduler.UnobservedTaskException += OnUnobserved;
        try
        {
            await RunAsync(seed, messages, () => Interlocked.Read(ref unobserved));
        }
        finally
        {
            TaskScheduler.UnobservedTaskException -= OnUnobserved;
        }
    }

    private async Task RunAsync(int seed, int messages, Func<long> unobserved)
    {
        var clock = new FakeTimeProvider(Now);
        var metrics = new CollectorMetrics();
        var options = Options.Create(new CollectorOptions());
        var hub = new LiveEventHub(metrics);
        using var store = Store(_dir);
        var queries = new StoreQueries(store);
        var pipeline = new IngestPipeline(store, Engine(clock, metrics, hub), hub, metrics, options, clock, NullLogger<IngestPipeline>.Instance);
        var intake = new IngestIntake(clock);
        var payloads = new FuzzPayloads(seed, Now);
        var window = new SemaphoreSlim(InFlight);
        Func<CancellationToken, Task> acknowledge = _ =>
        {
            window.Release();
            return Task.CompletedTask;
        };

        long readings = 0, statuses = 0, deadLetters = 0, bytes = 0, intakeTicks = 0;
        var escaped = new List<string>();
        var wrong = new List<string>();
        var perCategory = Enum.GetValues<FuzzCategory>().ToDictionary(c => c, _ => (Sent: 0L, Refused: 0L));
        var oversizedLengths = new HashSet<long>();

        await pipeline.StartAsync(CancellationToken.None);
        try
        {
            var watch = Stopwatch.StartNew();
            for (long i = 0; i < messages; i++)
            {
                var message = payloads.Next(i);
                bytes += message.Payload.Length;
                IngestItem item;
                var started = Stopwatch.GetTimestamp();
                try
                {
                    item = intake.Read(message.Topic, new ReadOnlySequence<byte>(message.Payload), clock.GetUtcNow());
                    intakeTicks += Stopwatch.GetTimestamp() - started;
                }
                catch (Exception e)
                {
                    if (escaped.Count < 20)
                    {
                        escaped.Add($"#{i} {message.Category} on '{Shown(message.Topic)}': {e.GetType().Name}: {e.Message} — payload {Shown(message.Payload)}");
                    }

                    continue;
                }

                var refused = item is DeadLetterItem;
                var (sent, refusedSoFar) = perCategory[message.Category];
                perCategory[message.Category] = (sent + 1, refusedSoFar + (refused ? 1 : 0));
                switch (item)
                {
                    case ReadingsItem:
                        readings++;
                        break;
                    case StatusItem:
                        statuses++;
                        break;
                    case DeadLetterItem dead:
                        deadLetters++;
                        if (message.Category == FuzzCategory.Oversized)
                        {
                            oversizedLengths.Add(dead.PayloadLength);
                        }

                        break;
                }

                var expected = message.Expect switch
                {
                    FuzzExpectation.Reject => refused,
                    FuzzExpectation.NewBatch or FuzzExpectation.Duplicate => item is ReadingsItem,
                    FuzzExpectation.Status => item is StatusItem,
                    _ => true,
                };
                if (!expected && wrong.Count < 20)
                {
                    wrong.Add($"#{i} {message.Category} (expected {message.Expect}) became {item.GetType().Name} {(item as DeadLetterItem)?.Reason}: '{Shown(message.Topic)}' {Shown(message.Payload)}");
                }

                await window.WaitAsync(Patience);
                pipeline.Enqueue(item, acknowledge);
            }

            // Everything sent is committed once the whole window is back.
            for (var k = 0; k < InFlight; k++)
            {
                Assert.True(await window.WaitAsync(Patience), "the pipeline stopped acknowledging");
            }

            watch.Stop();
            var rate = messages / watch.Elapsed.TotalSeconds;
            output.WriteLine($"{messages:N0} messages ({bytes / 1048576.0:N0} MiB) in {watch.Elapsed.TotalSeconds:N1} s: {rate:N0} messages/s; "
                + $"validation (IngestIntake.Read) {intakeTicks / (double)Stopwatch.Frequency:N1} s, commits {metrics.CommitSeconds.Sum:N1} s in {metrics.CommitSeconds.Count:N0} transactions");
            foreach (var (category, (sent, refused)) in perCategory.Where(c => c.Value.Sent > 0))
            {
                output.WriteLine($"  {category,-18} sent {sent,9:N0}  refused {refused,9:N0}");
            }

            // Nothing escaped the intake, and what must be refused was, what is valid was taken.
            Assert.True(escaped.Count == 0, "exceptions escaped IngestIntake.Read:\n" + string.Join('\n', escaped));
            Assert.True(wrong.Count == 0, "messages handled against expectation:\n" + string.Join('\n', wrong));

            // The background loop is alive: it still commits and acknowledges.
            Assert.False(pipeline.ExecuteTask!.IsCompleted, $"the pipeline's loop ended: {pipeline.ExecuteTask.Exception}");
            var barrier = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            pipeline.Enqueue(intake.Read(FuzzPayloads.StatusTopicOf("pi-barrier"), new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes($$"""{"v":1,"state":"online","ts":"{{FuzzPayloads.Ts(Now)}}"}""")), Now), _ =>
            {
                barrier.SetResult();
                return Task.CompletedTask;
            });
            await barrier.Task.WaitAsync(Patience);
            statuses++;
            // The pipeline acknowledges a group before it applies it (metrics, occupancy, live): the
            // barrier's own group may still be applying when its acknowledgement arrives.
            await Eventually.UntilAsync(() => (long)metrics.Messages.WithLabels("status").Value == statuses, "the barrier's group is applied", Patience);

            // Every message accounted once: stored + duplicate + status + rejected == sent.
            var stored = (long)metrics.Messages.WithLabels("stored").Value;
            var duplicate = (long)metrics.Messages.WithLabels("duplicate").Value;
            var status = (long)metrics.Messages.WithLabels("status").Value;
            var rejected = (long)metrics.Messages.WithLabels("rejected").Value;
            output.WriteLine($"stored {stored:N0}, duplicate {duplicate:N0}, status {status:N0}, rejected {rejected:N0}");
            Assert.Equal(messages + 1L, stored + duplicate + status + rejected);
            Assert.Equal(readings, stored + duplicate);
            Assert.Equal(statuses, status);
            Assert.Equal(deadLetters, rejected);
            Assert.Equal(pipeline.Committed, messages + 1L);

            // Every rejection is counted under a rule of the contract and kept with its rule and reason.
            var ruleCounts = Enum.GetNames<ContractRule>().Sum(rule => (long)metrics.Rejected.WithLabels(rule).Value);
            Assert.Equal(rejected, ruleCounts);
            using var connection = store.OpenReader();
            Assert.Equal(rejected, Scalar(connection, "SELECT count(*) FROM dead_letters"));
            Assert.Equal(0L, Scalar(connection, "SELECT count(*) FROM dead_letters WHERE trim(reason) = '' OR trim(rule) = '' OR rule = 'Unknown'"));
            foreach (var rule in Enum.GetNames<ContractRule>())
            {
                Assert.Equal((long)metrics.Rejected.WithLabels(rule).Value, Scalar(connection, $"SELECT count(*) FROM dead_letters WHERE rule = '{rule}'"));
            }

            // What a client sent cannot forge log lines or reorder text: topics and reasons stay printable.
            using (var texts = connection.CreateCommand())
            {
                texts.CommandText = "SELECT DISTINCT topic FROM dead_letters UNION SELECT DISTINCT reason FROM dead_letters";
                using var reader = texts.ExecuteReader();
                while (reader.Read())
                {
                    var text = reader.GetString(0);
                    Assert.False(text.Any(c => char.IsControl(c) || char.GetUnicodeCategory(c) == UnicodeCategory.Format), $"unprintable dead-letter text: {Shown(text)}");
                }
            }

            // Multi-megabyte messages are kept as their first bytes and their length, not whole.
            Assert.True(Scalar(connection, "SELECT max(length(payload)) FROM dead_letters") <= DeadLetterItem.MaxStoredPayloadBytes);
            Assert.All(oversizedLengths, length => Assert.True(length > ContractLimits.MaxMessageBytes));
            Assert.Equal(perCategory[FuzzCategory.Oversized].Sent, Scalar(connection, $"SELECT count(*) FROM dead_letters WHERE payload_length > {ContractLimits.MaxMessageBytes}"));
            Assert.Equal(0L, Scalar(connection, $"SELECT count(*) FROM dead_letters WHERE length(payload) <> min(payload_length, {DeadLetterItem.MaxStoredPayloadBytes})"));
            Assert.Equal(0L, Scalar(connection, "SELECT count(*) FROM dead_letters WHERE payload_length IS NULL OR payload_length < length(payload)"));

            // Every valid batch is in the store, its readings with their values.
            var valid = (long)payloads.ValidBatches;
            Assert.Equal(valid, Scalar(connection, $"SELECT count(*) FROM batches WHERE site = '{FuzzPayloads.Site}' AND device = '{FuzzPayloads.ValidDevice}'"));
            Assert.Equal(valid, Scalar(connection, $"SELECT max(seq) FROM batches WHERE device = '{FuzzPayloads.ValidDevice}'"));
            Assert.Equal(valid, stored - Scalar(connection, $"SELECT count(*) FROM batches WHERE device <> '{FuzzPayloads.ValidDevice}'"));
            var temperature = queries.SeriesId(FuzzPayloads.Site, FuzzPayloads.ValidSensor, "temperature_c");
            var humidity = queries.SeriesId(FuzzPayloads.Site, FuzzPayloads.ValidSensor, "humidity_pct");
            Assert.NotNull(temperature);
            Assert.NotNull(humidity);
            Assert.Equal(valid, Scalar(connection, $"SELECT coalesce(sum(count), 0) FROM point_blocks WHERE series_id = {temperature}"));
            Assert.Equal(valid, Scalar(connection, $"SELECT coalesce(sum(count), 0) FROM point_blocks WHERE series_id = {humidity}"));
            Assert.Equal(valid / 10, Scalar(connection, $"SELECT count(*) FROM badge_scans WHERE sensor = '{FuzzPayloads.ValidBadge}'"));
            var sample = new Random(seed);
            for (var k = 0; k < 500; k++)
            {
                var seq = (ulong)sample.NextInt64(1, valid + 1);
                var ts = payloads.ValidTs(seq).ToUnixTimeMilliseconds();
                Assert.Equal(FuzzPayloads.ValidTemperature(seq), Assert.Single(PointReader.Range(connection, null, temperature.Value, ts, ts + 1)).Value);
                Assert.Equal(FuzzPayloads.ValidHumidity(seq), Assert.Single(PointReader.Range(connection, null, humidity.Value, ts, ts + 1)).Value);
                if (FuzzPayloads.HasBadge(seq))
                {
                    Assert.Equal(1L, Scalar(connection, $"SELECT count(*) FROM badge_scans WHERE ts_ms = {ts} AND visitor = '{FuzzPayloads.ValidVisitor(seq)}'"));
                }
            }

            // The file is sound.
            using (var check = connection.CreateCommand())
            {
                check.CommandText = "PRAGMA integrity_check";
                Assert.Equal("ok", check.ExecuteScalar() as string);
            }

            output.WriteLine($"database {new FileInfo(store.FilePath).Length / 1048576.0:N0} MiB (+ WAL)");
        }
        finally
        {
            await pipeline.StopAsync(CancellationToken.None);
            pipeline.Dispose();
        }

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.Equal(0L, unobserved());
    }

    private static long Scalar(Microsoft.Data.Sqlite.SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar() is long value ? value : -1;
    }

    private static string Shown(string topic) => topic.Length > 120 ? topic[..120] + $"…({topic.Length:N0} chars)" : topic.Replace("\0", "\\0", StringComparison.Ordinal);

    private static string Shown(byte[] payload) =>
        payload.Length > 160 ? Convert.ToHexString(payload, 0, 80) + $"…({payload.Length:N0} bytes)" : Encoding.UTF8.GetString(payload);
}
