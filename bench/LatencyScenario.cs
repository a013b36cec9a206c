using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet;
using NewTechPark.Edge.Collector.Live;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Bench;

/// <summary>
/// Door crossings of the default site's main entrance (door-main of pi-entrance: outside →
/// ontmoetingsplek) published at 1,000 a second, one crossing per QoS 1 batch, to the collector
/// with its embedded broker; the time from the publish call to the occupancy event for
/// ontmoetingsplek on GET /api/v1/stream (server-sent events), matched by the crossing's timestamp.
/// </summary>
public static class LatencyScenario
{
    private const string Room = "ontmoetingsplek";
    private const int Rate = 1000;

    public static async Task<string> RunAsync(TimeSpan warmUp, TimeSpan measured)
    {
        await using var collector = await BenchCollector.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{collector.HttpPort}"), Timeout = Timeout.InfiniteTimeSpan };
        using var stop = new CancellationTokenSource();
        var sent = new ConcurrentDictionary<long, long>(); // crossing ts (ms) → Stopwatch timestamp of the publish
        var latencies = new ConcurrentQueue<double>();
        var measureFromMs = long.MaxValue;
        var reader = Task.Run(async () =>
        {
            using var response = await http.GetAsync("/api/v1/stream", HttpCompletionOption.ResponseHeadersRead, stop.Token);
            response.EnsureSuccessStatusCode();
            using var stream = new StreamReader(await response.Content.ReadAsStreamAsync(stop.Token));
            var eventName = "";
            while (await stream.ReadLineAsync(stop.Token) is { } line)
            {
                var arrived = Stopwatch.GetTimestamp();
                if (line.StartsWith("event:", StringComparison.Ordinal))
                {
                    eventName = line[6..].Trim();
                }
                else if (line.StartsWith("data:", StringComparison.Ordinal) && eventName == "occupancy")
                {
                    using var json = JsonDocument.Parse(line[5..]);
                    if (json.RootElement.GetProperty("room").GetString() != Room)
                    {
                        continue;
                    }

                    var ts = json.RootElement.GetProperty("ts").GetDateTimeOffset().ToUnixTimeMilliseconds();
                    if (sent.TryRemove(ts, out var published) && ts >= Volatile.Read(ref measureFromMs))
                    {
                        latencies.Enqueue(Stopwatch.GetElapsedTime(published, arrived).TotalMilliseconds);
                    }
                }
            }
        });
        // The stream sends its headers with its first event: wait for the subscription instead.
        var hub = collector.Services.GetRequiredService<LiveEventHub>();
        var wait = Stopwatch.StartNew();
        while (hub.Subscribers == 0)
        {
            if (reader.IsFaulted || wait.Elapsed > TimeSpan.FromSeconds(10))
            {
                await reader.WaitAsync(TimeSpan.FromSeconds(1));
                throw new TimeoutException("GET /api/v1/stream did not subscribe");
            }

            await Task.Delay(20);
        }

        using var client = await Mqtt.ConnectAsync(collector.BrokerPort, "pi-entrance", user: "pi-entrance");
        ulong seq = 0;
        long inTotal = 0, outTotal = 0, lastTs = 0;

        // Mode 1: every crossing its own QoS 1 message (1,000 messages a second on one connection).
        // Mode 2: the crossings that came due in one ~1 ms tick share a batch (as an agent with a
        // short linger sends them); latency still runs from the publish of a crossing's batch.
        var results = new List<(string Mode, double P50, double P95, double P99, double Max, int Count, long Sent)>();
        foreach (var grouped in new[] { false, true })
        {
            latencies.Clear();
            Volatile.Write(ref measureFromMs, long.MaxValue);
            var total = (long)((warmUp + measured).TotalSeconds * Rate);
            var warm = (long)(warmUp.TotalSeconds * Rate);
            var publishes = new List<Task>((int)total);
            long measuredSent = 0, messages = 0;
            var commitsBefore = await collector.MetricAsync("ntp_ingest_commit_seconds_count");
            var commitSecondsBefore = await collector.MetricAsync("ntp_ingest_commit_seconds_sum");
            var under16Before = await collector.MetricAsync("ntp_ingest_commit_seconds_bucket{le=\"0.016\"}");
            var under64Before = await collector.MetricAsync("ntp_ingest_commit_seconds_bucket{le=\"0.064\"}");
            var watch = Stopwatch.StartNew();
            for (long i = 0; i < total;)
            {
                var due = Math.Min(total, (long)(watch.Elapsed.TotalSeconds * Rate));
                var readings = new List<Reading>();
                var stamps = new List<long>();
                for (; i < due; i++)
                {
                    var inwards = i % 2 == 0;
                    _ = inwards ? ++inTotal : ++outTotal;
                    var ts = Math.Max(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), lastTs + 1);
                    lastTs = ts;
                    if (i == warm)
                    {
                        Volatile.Write(ref measureFromMs, ts);
                    }

                    measuredSent += i >= warm ? 1 : 0;
                    readings.Add(new Reading
                    {
                        Ts = DateTimeOffset.FromUnixTimeMilliseconds(ts),
                        Sensor = "door-main",
                        Kind = ReadingKinds.Door,
                        Values = new Dictionary<string, double>
                        {
                            [ReadingKinds.DoorValues.In] = inwards ? 1 : 0,
                            [ReadingKinds.DoorValues.Out] = inwards ? 0 : 1,
                            [ReadingKinds.DoorValues.InTotal] = inTotal,
                            [ReadingKinds.DoorValues.OutTotal] = outTotal,
                        },
                    });
                    stamps.Add(ts);
                    if (!grouped)
                    {
                        Publish(readings, stamps);
                        readings = [];
                        stamps = [];
                    }
                }

                if (readings.Count > 0)
                {
                    Publish(readings, stamps);
                }

                await Task.Delay(1);
            }

            void Publish(List<Reading> readings, List<long> stamps)
            {
                var batch = new ReadingsBatch { Seq = ++seq, Sent = DateTimeOffset.UtcNow, Readings = readings };
                var message = Mqtt.Message("ntp/v1/newtechpark/pi-entrance/readings", Mqtt.Serialize(batch));
                var now = Stopwatch.GetTimestamp();
                foreach (var ts in stamps)
                {
                    sent[ts] = now;
                }

                messages++;
                publishes.Add(client.PublishAsync(message));
            }

            var sendSeconds = watch.Elapsed.TotalSeconds;
            await Task.WhenAll(publishes);
            var settle = Stopwatch.StartNew();
            while (latencies.Count < measuredSent && settle.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(50);
            }

            var commits = await collector.MetricAsync("ntp_ingest_commit_seconds_count") - commitsBefore;
            var commitSeconds = await collector.MetricAsync("ntp_ingest_commit_seconds_sum") - commitSecondsBefore;
            var over16 = commits - (await collector.MetricAsync("ntp_ingest_commit_seconds_bucket{le=\"0.016\"}") - under16Before);
            var over64 = commits - (await collector.MetricAsync("ntp_ingest_commit_seconds_bucket{le=\"0.064\"}") - under64Before);
            var sorted = latencies.OrderBy(x => x).ToArray();
            if (sorted.Length == 0)
            {
                throw new InvalidOperationException("no occupancy event matched a published crossing");
            }

            double P(double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
            var mode = grouped ? "grouped per tick" : "one per message";
            Console.WriteLine($"  {mode}: {total:N0} crossings in {messages:N0} messages over {sendSeconds:F1} s ({total / sendSeconds:N0}/s), the first {warm:N0} as warm-up");
            Console.WriteLine($"    {commits:F0} commits, mean {commitSeconds * 1000 / Math.Max(1, commits):F2} ms each ({commitSeconds / sendSeconds:P0} of the time in SqliteStore.Commit); commits over 16 ms: {over16:F0}, over 64 ms: {over64:F0}");
            Console.WriteLine($"    measured {sorted.Length:N0} of {measuredSent:N0} (missing {measuredSent - sorted.Length}): p50 {P(0.50):F1} ms, p95 {P(0.95):F1} ms, p99 {P(0.99):F1} ms, max {sorted[^1]:F1} ms; p99 < 100 ms: {(P(0.99) < 100 && sorted.Length == measuredSent ? "met" : "MISSED")}");
            results.Add((mode, P(0.50), P(0.95), P(0.99), sorted[^1], sorted.Length, measuredSent));
        }

        await stop.CancelAsync();
        try
        {
            await reader;
        }
        catch (OperationCanceledException)
        {
        }

        await client.DisconnectAsync();
        var one = results[0];
        var group = results[1];
        return $"latency: p50 {one.P50:F1} ms, p95 {one.P95:F1} ms, p99 {one.P99:F1} ms (1,000 crossings/s, one per message); grouped per tick: p50 {group.P50:F1} ms, p95 {group.P95:F1} ms, p99 {group.P99:F1} ms";
    }
}
