using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NewTechPark.Edge.Agent.Hosting;
using NewTechPark.Edge.Simulation;
using NewTechPark.Edge.Collector.Broker;
using NewTechPark.Edge.EndToEnd.Tests.Infrastructure;
using NewTechPark.Edge.Collector.Hosting;
using NewTechPark.Edge.Collector.Storage;
using Xunit.Abstractions;

namespace NewTechPark.Edge.EndToEnd.Tests.Privacy;

/// <summary>
/// Badge scans through the real agent (MFRC522 reader on the simulated SPI chip, outbox, MQTT)
/// into the real collector (embedded broker, ingest, SQLite), every log line of both captured at
/// Trace level. Afterwards no file of either (databases, -wal, -shm, the agent's outbox and
/// state) and no log line holds a card UID in any plausible encoding, while the pseudonyms are
/// found where they belong: so the search is shown to work.
/// </summary>
public sealed class BadgePrivacyTests(ITestOutputHelper output)
{
    private const string SiteKey = "privacy-test-site-key-7f3a9c21";
    private const string Sensor = "badge-entrance";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>Delivered while the collector runs; first bytes at 0xC0 and above so no decimal form looks like a Unix time.</summary>
    private static readonly byte[][] DeliveredCards =
    [
        [0xC3, 0x5A, 0x91, 0xE7],
        [0xD1, 0x0F, 0x6B, 0xC9],
        [0x04, 0xA2, 0x5C, 0x1A, 0x9B, 0x3E, 0x80],
        [0x04, 0x7F, 0x13, 0xD2, 0x6A, 0x5C, 0x81],
    ];

    /// <summary>Scanned while the collector is down: it waits in the agent's outbox.</summary>
    private static readonly byte[] OutboxCard = [0xE5, 0x38, 0x7C, 0xD4];

    [Fact]
    public async Task No_card_uid_reaches_a_file_or_a_log_line_of_agent_or_collector_while_the_pseudonyms_do()
    {
        var logs = new CapturingLoggerProvider();
        var collectorData = Directory.CreateTempSubdirectory("ntp-privacy-collector-").FullName;
        var agentData = Directory.CreateTempSubdirectory("ntp-privacy-agent-").FullName;
        try
        {
            var brokerPort = FreePort.Next();
            var collector = CollectorHost.Build(
            [
                "--urls", $"http://127.0.0.1:{FreePort.Next()}",
                $"--Collector:DataDirectory={collectorData}",
                $"--Collector:Broker:Port={brokerPort}",
                $"--Collector:SiteFile={TestSite.Path}",
                "--Logging:LogLevel:Default=Trace",
                "--Logging:LogLevel:Microsoft.AspNetCore=Trace",
                "--Logging:LogLevel:MQTTnet=Trace",
                "--Logging:Console:LogLevel:Default=Warning",
                .. TestCredentials.CollectorArgs("pi-privacy"),
            ]);
            collector.Services.GetRequiredService<ILoggerFactory>().AddProvider(logs);
            await collector.StartAsync();
            var collectorRunning = true;

            var hardware = new SimulatedHardware();
            var chip = hardware.Spi.Attach(0, 0, new SimulatedMfrc522());
            var agent = SimulatedAgentHost.Create(
            [
                new("Agent:Site", "newtechpark"),
                new("Agent:Device", "pi-privacy"),
                new("Agent:DataDirectory", agentData),
                new("Agent:SiteKey", SiteKey),
                new("Agent:Broker:Host", "127.0.0.1"),
                new("Agent:Broker:Port", brokerPort.ToString(CultureInfo.InvariantCulture)),
                new("Agent:Broker:ReconnectMinDelay", "00:00:00.100"),
                .. TestCredentials.AgentSettings("pi-privacy"),
                new("Agent:Publishing:BatchLinger", "00:00:00.050"),
                new("Agent:Sensors:0:Id", Sensor),
                new("Agent:Sensors:0:Type", "mfrc522"),
                new("Agent:Sensors:0:SpiBus", "0"),
                new("Agent:Sensors:0:ChipSelect", "0"),
                new("Agent:Sensors:0:RepeatSuppression", "00:00:00"),
            ], hardware, logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(logs));
            await agent.StartAsync();
            var agentRunning = true;
            try
            {
                var store = collector.Services.GetRequiredService<SqliteStore>();
                for (var i = 0; i < DeliveredCards.Length; i++)
                {
                    chip.PresentCard(DeliveredCards[i]);
                    await Eventually.UntilAsync(() => Scans(store) == i + 1, $"scan {i + 1} in the collector's store", Patience);
                    // No wait for an empty field: the cards differ and repeat suppression is off, so
                    // the next card is a new scan whenever the reader sees it.
                    chip.RemoveCard();
                }

                // While both run: the collector's WAL and shared-memory files are there to search.
                var whileRunning = Search(agentData, collectorData, logs);
                Assert.True(whileRunning.UidHits.Count == 0, "card UIDs found while running:\n" + string.Join('\n', whileRunning.UidHits));
                Assert.Contains(collectorData, whileRunning.Files.Select(f => Path.GetDirectoryName(f)!));
                Assert.Contains(whileRunning.Files, f => f.EndsWith("-wal", StringComparison.Ordinal));
                Assert.Contains(whileRunning.Files, f => f.EndsWith("-shm", StringComparison.Ordinal));

                // The collector goes away; the next card waits in the agent's outbox, pseudonym and all.
                await collector.StopAsync();
                collectorRunning = false;
                chip.PresentCard(OutboxCard);
                var outboxPseudonym = Encoding.ASCII.GetBytes(Pseudonym(OutboxCard));
                await Eventually.UntilAsync(() => FilesHolding(agentData, outboxPseudonym).Count > 0, "the offline scan's pseudonym in the agent's outbox", Patience);
                chip.RemoveCard();

                await agent.StopAsync();
                agentRunning = false;
            }
            finally
            {
                if (agentRunning)
                {
                    await agent.StopAsync();
                }

                agent.Dispose();
                if (collectorRunning)
                {
                    await collector.StopAsync();
                }

                await collector.DisposeAsync();
                Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            }

            var result = Search(agentData, collectorData, logs);
            foreach (var file in result.Files)
            {
                output.WriteLine($"searched {file} ({new FileInfo(file).Length:N0} bytes)");
            }

            output.WriteLine($"searched {logs.Lines.Count:N0} log lines, {result.Needles:N0} encodings of {DeliveredCards.Length + 1} UIDs");
            Assert.True(result.UidHits.Count == 0, "card UIDs found:\n" + string.Join('\n', result.UidHits));

            // The search works: the pseudonyms are where they must be, and the logs saw every check-in at Debug.
            foreach (var card in DeliveredCards)
            {
                Assert.NotEmpty(FilesHolding(collectorData, Encoding.ASCII.GetBytes(Pseudonym(card))));
            }

            Assert.NotEmpty(FilesHolding(agentData, Encoding.ASCII.GetBytes(Pseudonym(OutboxCard))));
            Assert.Equal(DeliveredCards.Length + 1, logs.Lines.Count(l => l.Contains("a check-in", StringComparison.Ordinal)));
            Assert.Contains(logs.Lines, l => l.Contains("Debug", StringComparison.Ordinal) && l.Contains("NewTechPark.Edge.Collector", StringComparison.Ordinal));

            // Nor is the site key anywhere.
            Assert.Empty(FilesHolding(agentData, Encoding.UTF8.GetBytes(SiteKey)).Concat(FilesHolding(collectorData, Encoding.UTF8.GetBytes(SiteKey))));
            Assert.DoesNotContain(logs.Lines, l => l.Contains(SiteKey, StringComparison.Ordinal));
            // Nor does the device's MQTT password, though MQTTnet logged every packet at Trace.
            Assert.DoesNotContain(logs.Lines, l => l.Contains(TestCredentials.PasswordOf("pi-privacy"), StringComparison.Ordinal));
        }
        finally
        {
            foreach (var dir in new[] { collectorData, agentData })
            {
                try
                {
                    Directory.Delete(dir, recursive: true);
                }
                catch (IOException)
                {
                }
            }
        }
    }

    [Fact]
    public void The_encodings_searched_for_include_the_usual_ways_a_uid_is_written()
    {
        var forms = Encodings([0xDE, 0xAD, 0xBE, 0xEF]).Select(e => e.Text).ToHashSet();
        string[] expected =
        [
            "DEADBEEF", "deadbeef", "DE:AD:BE:EF", "de-ad-be-ef", "DE AD BE EF", "EFBEADDE", "ef:be:ad:de",
            "3735928559", "4022250974", "3q2+7w==", "3q2+7w", "3q2-7w", "776t3g", "222.173.190.239", "0xDEADBEEF",
        ];
        Assert.All(expected, e => Assert.Contains(e, forms));
    }

    private static string Pseudonym(byte[] uid) => Base64Url.EncodeToString(HMACSHA256.HashData(Encoding.UTF8.GetBytes(SiteKey), uid))[..22];

    private static long Scans(SqliteStore store)
    {
        using var connection = store.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT count(*) FROM badge_scans WHERE sensor = '{Sensor}'";
        return (long)command.ExecuteScalar()!;
    }

    /// <summary>Every way a UID is commonly written: hex (both cases, with and without separators), decimal, base64, dotted bytes, raw; in both byte orders.</summary>
    public static IEnumerable<(string Name, string? Text, byte[] Bytes)> Encodings(byte[] uid)
    {
        foreach (var (order, bytes) in new[] { ("forward", uid), ("reversed", uid.Reverse().ToArray()) })
        {
            var hex = Convert.ToHexString(bytes);
            foreach (var separator in new[] { "", ":", "-", " " })
            {
                var joined = string.Join(separator, Enumerable.Range(0, bytes.Length).Select(i => hex.Substring(i * 2, 2)));
                yield return ($"{order} hex '{separator}'", joined, Encoding.ASCII.GetBytes(joined));
                yield return ($"{order} hex lower '{separator}'", joined.ToLowerInvariant(), Encoding.ASCII.GetBytes(joined.ToLowerInvariant()));
            }

            yield return ($"{order} 0x hex", "0x" + hex, Encoding.ASCII.GetBytes("0x" + hex));
            var number = new BigInteger(bytes, isUnsigned: true, isBigEndian: true).ToString(CultureInfo.InvariantCulture);
            yield return ($"{order} decimal", number, Encoding.ASCII.GetBytes(number));
            var dotted = string.Join('.', bytes.Select(b => b.ToString(CultureInfo.InvariantCulture)));
            yield return ($"{order} dotted decimal", dotted, Encoding.ASCII.GetBytes(dotted));
            var base64 = Convert.ToBase64String(bytes);
            yield return ($"{order} base64", base64, Encoding.ASCII.GetBytes(base64));
            yield return ($"{order} base64 unpadded", base64.TrimEnd('='), Encoding.ASCII.GetBytes(base64.TrimEnd('=')));
            var url = Base64Url.EncodeToString(bytes);
            yield return ($"{order} base64url", url, Encoding.ASCII.GetBytes(url));
            yield return ($"{order} raw bytes", null, bytes);
        }
    }

    private sealed record SearchResult(IReadOnlyList<string> Files, IReadOnlyList<string> UidHits, int Needles);

    private static SearchResult Search(string agentData, string collectorData, CapturingLoggerProvider logs)
    {
        var files = Directory.GetFiles(agentData, "*", SearchOption.AllDirectories).Concat(Directory.GetFiles(collectorData, "*", SearchOption.AllDirectories)).ToList();
        var contents = files.Select(f => (File: f, Bytes: ReadShared(f))).ToList();
        var lines = logs.Lines.ToArray();
        var hits = new List<string>();
        var needles = 0;
        foreach (var uid in DeliveredCards.Append(OutboxCard))
        {
            foreach (var (name, text, bytes) in Encodings(uid))
            {
                needles++;
                var forms = text is null ? [bytes] : new[] { bytes, Encoding.Unicode.GetBytes(text) };
                foreach (var (file, content) in contents)
                {
                    if (forms.Any(form => content.AsSpan().IndexOf(form) >= 0))
                    {
                        hits.Add($"{Convert.ToHexString(uid)} as {name} in {file}");
                    }
                }

                if (text is not null)
                {
                    hits.AddRange(lines.Where(l => l.Contains(text, StringComparison.Ordinal)).Select(l => $"{Convert.ToHexString(uid)} as {name} in log: {l}"));
                }
            }
        }

        return new SearchResult(files, hits, needles);
    }

    private static List<string> FilesHolding(string directory, byte[] needle) =>
        Directory.GetFiles(directory, "*", SearchOption.AllDirectories).Where(f => ReadShared(f).AsSpan().IndexOf(needle) >= 0).ToList();

    /// <summary>
    /// The agent keeps outbox payloads Brotli-compressed (StoredPayload), so a byte search of the
    /// file cannot see into them: the payloads are read back through SQLite and unpacked, and
    /// searched as part of the file.
    /// </summary>
    private static byte[] OutboxPayloads(string path)
    {
        if (!path.EndsWith(".db", StringComparison.Ordinal))
        {
            return [];
        }

        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'outbox'";
        if (Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) == 0)
        {
            return [];
        }

        command.CommandText = "SELECT payload, bytes FROM outbox";
        using var reader = command.ExecuteReader();
        var unpacked = new List<byte>();
        while (reader.Read())
        {
            unpacked.AddRange(NewTechPark.Edge.Agent.State.StoredPayload.Unpack((byte[])reader.GetValue(0), reader.GetInt32(1)));
        }

        return [.. unpacked];
    }

    /// <summary>Reads a file SQLite may hold open (the -wal and -shm files of a running store), with the outbox's payloads unpacked.</summary>
    private static byte[] ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        memory.Write(OutboxPayloads(path));
        return memory.ToArray();
    }

    /// <summary>Keeps every log line of every category and level, with its structured values and exception.</summary>
    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        public ConcurrentQueue<string> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, Lines);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull
            {
                lines.Enqueue($"{category} scope {state}");
                return null;
            }

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var values = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(", ", pairs.Select(p => $"{p.Key}={p.Value}")) : string.Empty;
                lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} [{values}] {exception}");
            }
        }
    }
}
