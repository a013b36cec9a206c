using System.Diagnostics;
using System.Text.RegularExpressions;
using NewTechPark.Edge.Reliability.Tests.Infrastructure;
using Xunit.Abstractions;

namespace NewTechPark.Edge.Reliability.Tests;

/// <summary>
/// Faults with real processes on loopback: the collector (<c>dotnet collector.dll</c>), the broker
/// and load agents (the real agent stack on a synthetic reading source) are separate processes
/// that the tests stop, kill with kill -9 and start again. Each test checks that every batch an
/// agent committed to its outbox is stored by the collector exactly once with all its readings,
/// apart from what a full outbox dropped by design, which must equal what the agent reports.
/// Run once per broker.
/// </summary>
public abstract partial class FaultTests(BrokerKind broker, ITestOutputHelper output)
{
    private static readonly TimeSpan Delivery = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Broker_restarted_mid_stream_loses_and_duplicates_nothing()
    {
        await using var rig = await FaultRig.StartAsync(broker);
        const string device = "pi-load-broker";
        rig.StartAgent(device, rate: 3000, total: 24_000);
        await WaitStoredAsync(rig, device, batches: 10);

        await rig.StopBrokerAsync();
        await WaitRecordedMoreAsync(rig, device, readings: 6_000);
        await rig.StartBrokerAsync();

        await rig.WaitAgentDoneAsync(device, Delivery);
        await rig.WaitDeliveredAsync(device, Delivery);
        AssertExactlyOnce(rig, device);
        await AssertNoGapsAsync(rig, device);
        AssertAgentRecordedAllItMade(rig, device, 24_000);
    }

    [Fact]
    public async Task Collector_killed_with_kill_9_mid_stream_and_restarted_loses_and_duplicates_nothing()
    {
        await using var rig = await FaultRig.StartAsync(broker);
        const string device = "pi-load-collector";
        rig.StartAgent(device, rate: 3000, total: 24_000);
        await WaitStoredAsync(rig, device, batches: 10);

        await rig.KillCollectorAsync();
        await WaitRecordedMoreAsync(rig, device, readings: 3_000);
        await rig.StartCollectorAsync();

        await rig.WaitAgentDoneAsync(device, Delivery);
        await rig.WaitDeliveredAsync(device, Delivery);
        AssertExactlyOnce(rig, device);
        await AssertNoGapsAsync(rig, device);
        AssertAgentRecordedAllItMade(rig, device, 24_000);
    }

    [Fact]
    public async Task Agent_killed_with_kill_9_mid_stream_and_restarted_resends_its_outbox_and_continues_its_sequence()
    {
        await using var rig = await FaultRig.StartAsync(broker);
        const string device = "pi-load-agent";
        rig.StartAgent(device, rate: 3000, total: 30_000);
        await WaitStoredAsync(rig, device, batches: 10);

        await rig.KillAgentAsync(device);

        // The broker publishes the agent's last will (retained) when the connection dies without a goodbye.
        await WaitStateAsync(rig, device, "offline");
        rig.StartAgent(device, rate: 3000, total: 6_000);
        await WaitStateAsync(rig, device, "online");

        await rig.WaitAgentDoneAsync(device, Delivery);
        await rig.WaitDeliveredAsync(device, Delivery);
        var runs = rig.Recorded(device);
        Assert.True(runs[1][0].Seq > runs[0][^1].Seq, $"the restarted agent went on from seq {runs[0][^1].Seq} with {runs[1][0].Seq}");

        // A batch committed in the instant of the kill, before its line reached the record log, is
        // stored but not in the log: allowed only between the two runs.
        AssertExactlyOnce(rig, device, extraAllowed: seq => seq > runs[0][^1].Seq && seq < runs[1][0].Seq);
        await AssertNoGapsAsync(rig, device);
    }

    [Fact]
    public async Task Agent_killed_with_kill_9_while_the_broker_is_away_keeps_its_backlog_and_sends_it_after_the_restart()
    {
        await using var rig = await FaultRig.StartAsync(broker);
        const string device = "pi-load-backlog";
        rig.StartAgent(device, rate: 3000, total: 60_000);
        await WaitStoredAsync(rig, device, batches: 10);

        await rig.StopBrokerAsync();
        await WaitRecordedMoreAsync(rig, device, readings: 9_000);
        await rig.KillAgentAsync(device);
        var beforeKill = rig.Recorded(device)[0];
        var storedAtKill = rig.Stored(device);
        var backlog = beforeKill.Where(b => !storedAtKill.ContainsKey(b.Seq)).Sum(b => (long)b.Readings);
        Assert.True(backlog >= 5000, $"only {backlog} readings waited in the outbox at the kill");

        await rig.StartBrokerAsync();
        rig.StartAgent(device, rate: 3000, total: 3_000);
        await rig.WaitAgentDoneAsync(device, Delivery);
        await rig.WaitDeliveredAsync(device, Delivery);
        var runs = rig.Recorded(device);
        AssertExactlyOnce(rig, device, extraAllowed: seq => seq > runs[0][^1].Seq && seq < runs[1][0].Seq);
        await AssertNoGapsAsync(rig, device);
        output.WriteLine($"{broker}: {backlog} readings were in the outbox of the killed agent; the restarted agent delivered them");
    }

    [Fact]
    public async Task Broker_gone_for_60_seconds_while_the_agent_keeps_reading_then_the_backlog_is_replayed()
    {
        await using var rig = await FaultRig.StartAsync(broker);
        const string device = "pi-load-outage";
        rig.StartAgent(device, rate: 2000, total: 140_000);
        await WaitStoredAsync(rig, device, batches: 10);

        await rig.StopBrokerAsync();
        var outage = Stopwatch.StartNew();
        // The 60 s outage is the scenario itself (the replay target is measured after one), not a wait for an event.
        await Task.Delay(TimeSpan.FromSeconds(60));
        var backlog = rig.Recorded(device).SelectMany(r => r).ToList();
        var storedBefore = rig.Stored(device);
        var waiting = backlog.Where(b => !storedBefore.ContainsKey(b.Seq)).Sum(b => (long)b.Readings);
        await rig.StartBrokerAsync();
        var replay = Stopwatch.StartNew();
        await rig.WaitDeliveredAsync(device, Delivery, (stored, _) => backlog.All(b => stored.ContainsKey(b.Seq)));
        replay.Stop();
        output.WriteLine($"{broker}: outage {outage.Elapsed.TotalSeconds:F0} s, backlog {waiting} readings replayed in {replay.Elapsed.TotalSeconds:F1} s " +
            $"({waiting / replay.Elapsed.TotalSeconds:F0} readings/s, including the broker's and collector's restart and the agent's reconnect), while recording 2,000 readings/s");
        Assert.True(waiting >= 100_000, $"the backlog was only {waiting} readings");

        await rig.WaitAgentDoneAsync(device, Delivery);
        await rig.WaitDeliveredAsync(device, Delivery);
        AssertExactlyOnce(rig, device);
        await AssertNoGapsAsync(rig, device);
        AssertAgentRecordedAllItMade(rig, device, 140_000);
    }

    [Fact]
    public async Task A_full_outbox_drops_the_oldest_batches_and_reports_exactly_how_many_readings()
    {
        await using var rig = await FaultRig.StartAsync(broker);
        const string device = "pi-load-full";
        // 1 MiB of outbox holds about 11,000 of these readings; 60,000 are made while the broker is away.
        rig.StartAgent(device, rate: 5000, total: 70_000, "--Agent:Outbox:MaxBytes=1048576");
        await WaitStoredAsync(rig, device, batches: 10);
        await rig.StopBrokerAsync();
        await rig.WaitAgentDoneAsync(device, Delivery);
        Assert.Contains("Outbox full", rig.Agent(device).Output, StringComparison.Ordinal);
        await rig.StartBrokerAsync();

        // Done when the agent reports an empty outbox and everything after the drops is stored.
        var deadline = DateTime.UtcNow + Delivery;
        long dropped;
        while (true)
        {
            var view = await rig.DeviceAsync(device);
            dropped = view.TryGetProperty("outbox_dropped", out var d) && d.ValueKind == System.Text.Json.JsonValueKind.Number ? d.GetInt64() : -1;
            var pending = view.TryGetProperty("outbox_pending", out var p) && p.ValueKind == System.Text.Json.JsonValueKind.Number ? p.GetInt64() : -1;
            var recordedNow = rig.Recorded(device).SelectMany(r => r).ToList();
            if (pending == 0 && dropped > 0 && recordedNow.Count > 0 && rig.Stored(device).ContainsKey(recordedNow[^1].Seq))
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"not settled: pending {pending}, dropped {dropped}\n{rig.Diagnostics()}");
            await Task.Delay(250);
        }

        var recorded = rig.Recorded(device).SelectMany(r => r).ToList();
        var stored = rig.Stored(device);
        var missing = recorded.Where(b => !stored.ContainsKey(b.Seq)).ToList();
        Assert.NotEmpty(missing);
        Assert.Equal(dropped, missing.Sum(b => (long)b.Readings));

        // Oldest first: the missing batches are runs of consecutive batches in recording order, one
        // per time the outbox passed its bound: the outage's, and on a loaded machine sometimes some
        // before it (CI saw four runs), while the collector fell behind 5,000 readings a second (seen in CI: batch 600
        // dropped, 601-611 delivered, 612 on dropped during the outage).
        var runs = 0;
        var inRun = false;
        foreach (var b in recorded)
        {
            var isMissing = !stored.ContainsKey(b.Seq);
            runs += isMissing && !inRun ? 1 : 0;
            inRun = isMissing;
        }

        Assert.True(runs >= 1, "nothing dropped");
        foreach (var batch in recorded.Where(b => stored.ContainsKey(b.Seq)))
        {
            Assert.Equal(batch.Readings, stored[batch.Seq]);
        }

        // The collector shows the hole as a gap in seq of exactly the dropped batches.
        var view2 = await rig.DeviceAsync(device);
        Assert.Equal((ulong)missing.Count, view2.GetProperty("missing_batches").GetUInt64());
        Assert.Equal(runs, view2.GetProperty("gap_count").GetInt64());
        var metrics = await rig.Http.GetStringAsync("/metrics");
        Assert.Contains($"ntp_device_outbox_dropped_readings{{site=\"{FaultRig.Site}\",device=\"{device}\"}} {dropped}", metrics);
        Assert.Contains($"ntp_device_missing_batches{{site=\"{FaultRig.Site}\",device=\"{device}\"}} {missing.Count}", metrics);
        output.WriteLine($"{broker}: {recorded.Count} batches recorded, {missing.Count} dropped ({dropped} readings), the rest stored once");
    }

    /// <summary>
    /// Lets a fault last until the agent has committed <paramref name="readings"/> more readings to
    /// its outbox (it keeps reading through the fault), instead of for a fixed time.
    /// </summary>
    private static Task WaitRecordedMoreAsync(FaultRig rig, string device, long readings)
    {
        long Recorded() => rig.Recorded(device).SelectMany(r => r).Sum(b => (long)b.Readings);
        var from = Recorded();
        return Eventually.UntilAsync(() => Recorded() >= from + readings, $"{device} committed {readings} more readings to its outbox", TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100));
    }

    private static async Task WaitStateAsync(FaultRig rig, string device, string state)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while ((await rig.DeviceAsync(device)).GetProperty("state").GetString() != state)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{device} did not become {state}\n{rig.Diagnostics()}");
            await Task.Delay(100);
        }
    }

    private static async Task WaitStoredAsync(FaultRig rig, string device, int batches)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                if (rig.Stored(device).Count >= batches)
                {
                    return;
                }
            }
            catch (Microsoft.Data.Sqlite.SqliteException)
            {
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{device}: fewer than {batches} batches stored within a minute\n{rig.Diagnostics()}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Every recorded batch stored once with all its readings; nothing stored that was not recorded.</summary>
    private void AssertExactlyOnce(FaultRig rig, string device, Func<ulong, bool>? extraAllowed = null)
    {
        var recorded = rig.Recorded(device).SelectMany(r => r).ToList();
        var stored = rig.Stored(device);
        Assert.NotEmpty(recorded);
        Assert.Equal(recorded.Count, recorded.Select(b => b.Seq).Distinct().Count());
        var missing = recorded.Where(b => !stored.ContainsKey(b.Seq)).Select(b => b.Seq).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} recorded batches were not stored, first {string.Join(", ", missing.Take(5))}\n{rig.Diagnostics()}");
        foreach (var batch in recorded)
        {
            Assert.Equal(batch.Readings, stored[batch.Seq]);
        }

        var recordedSeqs = recorded.Select(b => b.Seq).ToHashSet();
        var extra = stored.Keys.Where(s => !recordedSeqs.Contains(s)).ToList();
        Assert.True(extra.All(s => extraAllowed?.Invoke(s) == true), $"stored but never recorded: {string.Join(", ", extra.Take(10))}");
        output.WriteLine($"{broker}: {recorded.Count} batches, {recorded.Sum(b => (long)b.Readings)} readings recorded; all stored exactly once ({extra.Count} unlogged batch(es) of the kill instant)");
    }

    private static async Task AssertNoGapsAsync(FaultRig rig, string device)
    {
        var view = await rig.DeviceAsync(device);
        Assert.Equal(0UL, view.GetProperty("missing_batches").GetUInt64());
        Assert.Equal(rig.Stored(device).Values.Sum(v => (long)v), view.GetProperty("readings").GetInt64());
    }

    /// <summary>The generator's own count: every reading it made reached the outbox (none refused by a full queue).</summary>
    private static void AssertAgentRecordedAllItMade(FaultRig rig, string device, long total)
    {
        var done = DoneLine().Match(rig.Agent(device).Output);
        Assert.True(done.Success, "the load agent did not report its count");
        Assert.Equal(total, long.Parse(done.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("0", done.Groups[2].Value);
        Assert.Equal(total, rig.Recorded(device).SelectMany(r => r).Sum(b => (long)b.Readings));
    }

    [GeneratedRegex(@"LOAD DONE made (\d+) refused (\d+)")]
    private static partial Regex DoneLine();
}

/// <summary>Against the collector's embedded broker: stopping the broker means stopping the collector process.</summary>
[Trait("Category", "Slow")]
public sealed class EmbeddedBrokerFaultTests(ITestOutputHelper output) : FaultTests(BrokerKind.Embedded, output);

/// <summary>Against Debian's mosquitto, a process of its own (persistence on, stopped with SIGTERM).</summary>
[Trait("Category", "Slow")]
public sealed class MosquittoFaultTests(ITestOutputHelper output) : FaultTests(BrokerKind.Mosquitto, output);
