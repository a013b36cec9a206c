using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet;
using NewTechPark.Edge.Collector.Metrics;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace NewTechPark.Edge.EndToEnd.Tests.Security;

/// <summary>
/// Issue 13: a student who holds the DC-Lab Pi's password (<c>pi-dc-lab</c>) attacks the
/// building's figures over real MQTT, one row of the issue's table at a time, publishing only on
/// the device's own topic (which the broker allows). Every attack is acknowledged (the device
/// must not resend it for ever) and every figure is still what the genuine devices made it: the
/// entrance Pi's 30 entries, no energy, no visitors, a working device list. Run once per broker.
/// </summary>
public abstract class HostileDeviceTests(ITestOutputHelper output) : IAsyncLifetime
{
    protected const string Attacker = "pi-dc-lab";
    protected const string Entrance = "pi-entrance";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    protected RunningCollector Collector { get; set; } = null!;

    /// <summary>Connects as a device with its own password on the broker under test.</summary>
    protected abstract Task<MqttProbe> ConnectAsync(string device);

    public abstract Task InitializeAsync();

    public virtual async Task DisposeAsync()
    {
        if (Collector is not null)
        {
            await Collector.DisposeAsync();
        }
    }

    [Fact]
    public async Task Every_attack_of_the_issue_leaves_the_buildings_figures_as_the_genuine_devices_made_them()
    {
        var now = DateTimeOffset.UtcNow;
        await using var attacker = await ConnectAsync(Attacker);
        await using var entrance = await ConnectAsync(Entrance);
        ulong seq = 1;
        var expected = new Dictionary<string, int>(StringComparer.Ordinal);

        async Task Attack(string row, string rule, string payload, MqttProbe? by = null)
        {
            var result = await (by ?? attacker).PublishAsync(Topic(by == entrance ? Entrance : Attacker), payload);
            Assert.True((int)result.ReasonCode < 0x80, $"{row}: the refused batch must be acknowledged, got {result.ReasonCode} {result.ReasonString}");
            expected[rule] = expected.GetValueOrDefault(rule) + 1;
            output.WriteLine($"{row}: PUBACK {result.ReasonCode}, expected dead letter {rule}");
        }

        // A genuine DC-Lab reading, to try to overwrite later.
        var genuineTs = now.AddSeconds(-30);
        Assert.True((await attacker.PublishAsync(Topic(Attacker), Batch(seq++, Reading(genuineTs, "dc-bench-1", "dc", "\"voltage_v\":24.0")))).IsSuccess);

        // 1. Door readings for another device's door.
        await Attack("door-main in=200", "ForeignSensor", Batch(seq++, Door(now.AddSeconds(-20), 200, 0, 200, 0)));
        // 2. Two readings of another device's grid meter, 5,000,000 Wh apart.
        await Attack("meter-grid +5,000,000 Wh", "ForeignSensor", Batch(seq++,
            Reading(now.AddSeconds(-61), "meter-grid", "energy", "\"power_w\":1000,\"energy_wh_total\":0"),
            Reading(now.AddSeconds(-1), "meter-grid", "energy", "\"power_w\":1000,\"energy_wh_total\":5000000")));
        // 3. Readings of its own lab meter dated in last year, whose report is closed.
        await Attack("now - 390 days", "ClosedPeriod", Batch(seq++,
            Reading(now.AddDays(-390), "meter-dc-lab", "energy", "\"power_w\":1000,\"energy_wh_total\":0"),
            Reading(now.AddDays(-390).AddMinutes(1), "meter-dc-lab", "energy", "\"power_w\":1000,\"energy_wh_total\":1000000000")));
        // 4. 1,000 scans on an invented badge reader: stored as the device's own plain series.
        var scans = Enumerable.Range(0, 1000).Select(i =>
            $"{{\"ts\":\"{Ts(now.AddSeconds(-10).AddMilliseconds(i))}\",\"sensor\":\"badge-invented\",\"kind\":\"badge\",\"visitor\":\"{Pseudonym(i)}\"}}");
        Assert.True((await attacker.PublishAsync(Topic(Attacker), Batch(seq++, [.. scans]))).IsSuccess);
        // 5. The same (sensor, ts) as a genuine reading, another value: another device's, and its own.
        await Attack("overwrite door-main", "ForeignSensor", Batch(seq++, Door(now.AddSeconds(-40), 0, 0, 0, 0)));
        Assert.True((await attacker.PublishAsync(Topic(Attacker), Batch(seq++, Reading(genuineTs, "dc-bench-1", "dc", "\"voltage_v\":99.0")))).IsSuccess);
        // 6. A door reading dated 290 s ahead with a huge total, to freeze the door.
        await Attack("door-main now + 290 s", "ForeignSensor", Batch(seq++, Door(now.AddSeconds(290), 1, 0, 10_000_000, 0)));
        await Attack("door-main now + 290 s (owner)", "AheadOfArrival", Batch(1_001, Door(now.AddSeconds(290), 1, 0, 10_000_000, 0)), entrance);
        // 7. Absurd crossings, from the attacker and even from the door's own device.
        await Attack("door-main in = 1e18", "ForeignSensor", Batch(seq++, Door(now.AddSeconds(-5), 1e18, 0, 1, 0)));
        await Attack("door-main in = 1e300 (owner)", "ImplausibleDoor", Batch(1_000, Door(now.AddSeconds(-5), 1e300, 0, 1, 0)), entrance);
        // 8. seq at and near the top of 64 bits.
        await Attack("seq 2^64 - 1", "SeqOutOfRange", Batch(ulong.MaxValue, Reading(now.AddSeconds(-3), "dc-bench-2", "dc", "\"voltage_v\":12.0")));
        Assert.True((await attacker.PublishAsync(Topic(Attacker), Batch((1UL << 62) + 1, Reading(now.AddSeconds(-3), "dc-bench-2", "dc", "\"voltage_v\":12.0")))).IsSuccess);
        Assert.True((await attacker.PublishAsync(Topic(Attacker), Batch(long.MaxValue, Reading(now.AddSeconds(-2), "dc-bench-2", "dc", "\"voltage_v\":12.0")))).IsSuccess);
        seq = 10; // below the last seq: late batches, still stored once each
        // 9. One message of 21,760 new series (680 readings × 32 values), while an honest device publishes.
        var big = ManySeries(seq++, now, "s", 680, 32);
        Assert.True(Encoding.UTF8.GetByteCount(big) <= 256 * 1024, $"{Encoding.UTF8.GetByteCount(big)} bytes");
        var bigPublish = attacker.PublishAsync(Topic(Attacker), big);
        var honest = Stopwatch.StartNew();
        var honestAck = await entrance.PublishAsync(Topic(Entrance), Batch(2_000, Reading(now.AddSeconds(-1), "climate-entrance", "climate", "\"temperature_c\":20.5")));
        honest.Stop();
        Assert.True(honestAck.IsSuccess, $"honest device: {honestAck.ReasonCode}");
        Assert.True((int)(await bigPublish).ReasonCode < 0x80);
        expected["SeriesLimit"] = expected.GetValueOrDefault("SeriesLimit") + 1;
        output.WriteLine($"21,760 new series: refused; the honest device's PUBACK came in {honest.ElapsedMilliseconds} ms, {honestAck.ReasonCode}");
        // 10. 100,000 invented sensor ids in 100 messages.
        var sizeBefore = DatabaseBytes();
        var flood = Stopwatch.StartNew();
        for (var m = 0; m < 100; m++)
        {
            var ack = await attacker.PublishAsync(Topic(Attacker), ManySeries(seq++, now, $"f{m}", 1000, 1));
            Assert.True((int)ack.ReasonCode < 0x80);
        }

        expected["SeriesLimit"] += 100;
        flood.Stop();

        // The genuine entrance: 30 people come in through the main door, one reading each.
        for (var i = 1; i <= 30; i++)
        {
            Assert.True((await entrance.PublishAsync(Topic(Entrance), Batch(2_000 + (ulong)i, Door(now.AddSeconds(-60 + i), 1, 0, i, 0)))).IsSuccess);
        }

        // Every refusal was dead-lettered under its rule (the brokers may deliver later than the PUBACK).
        var metrics = Collector.Services.GetRequiredService<CollectorMetrics>();
        await WaitForAsync(() => expected.All(e => metrics.Rejected.WithLabels(e.Key).Value >= e.Value), () => string.Join(", ", expected.Select(e => $"{e.Key} {metrics.Rejected.WithLabels(e.Key).Value}/{e.Value}")));
        var occupancy = await WaitForJsonAsync("/api/v1/occupancy", o => o.GetProperty("building").GetInt64() == 30);
        var sizeAfter = DatabaseBytes();
        output.WriteLine($"100,000 invented sensor ids in 100 messages: refused in {flood.ElapsedMilliseconds} ms; database {sizeBefore / 1e6:F1} MB -> {sizeAfter / 1e6:F1} MB");

        // Occupancy: the 30 genuine entries, nothing else, no drift, no overflow.
        foreach (var room in occupancy.GetProperty("rooms").EnumerateArray())
        {
            var expectedCount = room.GetProperty("room").GetString() == "ontmoetingsplek" ? 30 : 0;
            Assert.Equal(expectedCount, room.GetProperty("count").GetInt64());
            Assert.Equal(0, room.GetProperty("drift").GetInt64());
        }

        // Energy: no grid energy now, no lab energy in the closed year.
        var energy = await GetJsonAsync($"/api/v1/energy?from={Q(now.AddDays(-2))}&to={Q(now.AddHours(1))}&bucket=day");
        Assert.Equal(0, energy.GetProperty("totals").GetProperty("grid_import_wh").GetDouble());
        var lastYear = await GetJsonAsync($"/api/v1/energy?from={Q(now.AddDays(-400))}&to={Q(now.AddDays(-300))}&bucket=month");
        Assert.Equal(0, lastYear.GetProperty("totals").GetProperty("lab_wh").GetDouble());
        Assert.Equal(0, lastYear.GetProperty("totals").GetProperty("co2_kg").GetDouble());

        // Visitors: the 30 entries, and no badge of the invented reader.
        var visitors = await GetJsonAsync($"/api/v1/visitors?from={Q(now.AddDays(-2))}&to={Q(now.AddHours(1))}&bucket=day");
        var totals = visitors.GetProperty("totals");
        Assert.Equal(30, totals.GetProperty("visits").GetInt64());
        var unique = totals.GetProperty("unique_visitors").GetProperty("value");
        Assert.True(unique.ValueKind != JsonValueKind.Number || unique.GetDouble() == 0, $"unique visitors: {unique}");

        // The invented badge reader is the attacker's own plain series: 1,000 scans.
        var scansSeries = await GetJsonAsync($"/api/v1/series?sensor={Attacker}/badge-invented&field=scans&from={Q(now.AddMinutes(-5))}&to={Q(now.AddMinutes(1))}&points=10");
        Assert.Equal(1000, scansSeries.GetProperty("points").EnumerateArray().Sum(p => p.GetProperty("count").GetInt64()));

        // The genuine DC reading kept its value.
        var bench = await GetJsonAsync($"/api/v1/series?sensor=dc-bench-1&field=voltage_v&from={Q(genuineTs.AddSeconds(-1))}&to={Q(genuineTs.AddSeconds(1))}&points=10");
        Assert.Equal(24.0, bench.GetProperty("points").EnumerateArray().Single().GetProperty("max").GetDouble());
        Assert.Equal(1, Collector.Services.GetRequiredService<SqliteStore>().ConflictingPoints);

        // The device list answers, with the seq as sent (below 2^63).
        var devices = await Collector.Http.GetAsync("/api/v1/devices");
        Assert.Equal(HttpStatusCode.OK, devices.StatusCode);
        using var list = JsonDocument.Parse(await devices.Content.ReadAsStringAsync());
        var dcLab = list.RootElement.EnumerateArray().Single(d => d.GetProperty("device").GetString() == Attacker);
        Assert.Equal((ulong)long.MaxValue, dcLab.GetProperty("last_seq").GetUInt64());

        // The refused flood left only its dead letters (each cut to 64 KiB).
        Assert.True(sizeAfter - sizeBefore < 16_000_000, $"the flood grew the database by {sizeAfter - sizeBefore:N0} bytes");
    }

    protected static string Topic(string device) => $"ntp/v1/newtechpark/{device}/readings";

    private static string Ts(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static string Q(DateTimeOffset at) => Uri.EscapeDataString(at.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));

    private static string Pseudonym(int i) => Convert.ToBase64String(Encoding.ASCII.GetBytes($"visitor-{i:D8}")).Replace('+', '-').Replace('/', '_').TrimEnd('=')[..22];

    private static string Batch(ulong seq, params string[] readings) =>
        $"{{\"v\":1,\"seq\":{seq},\"sent\":\"{Ts(DateTimeOffset.UtcNow)}\",\"readings\":[{string.Join(',', readings)}]}}";

    private static string Reading(DateTimeOffset ts, string sensor, string kind, string values) =>
        $"{{\"ts\":\"{Ts(ts)}\",\"sensor\":\"{sensor}\",\"kind\":\"{kind}\",\"values\":{{{values}}}}}";

    private static string Door(DateTimeOffset ts, double entered, double left, double inTotal, double outTotal) =>
        Reading(ts, "door-main", "door", string.Create(CultureInfo.InvariantCulture, $"\"in\":{entered:R},\"out\":{left:R},\"in_total\":{inTotal:R},\"out_total\":{outTotal:R}"));

    private static string ManySeries(ulong seq, DateTimeOffset now, string prefix, int readings, int fields)
    {
        var ts = Ts(now.AddSeconds(-1));
        var values = string.Join(',', Enumerable.Range(0, fields).Select(f => $"\"a{f}_w\":0"));
        return Batch(seq, [.. Enumerable.Range(0, readings).Select(r => $"{{\"ts\":\"{ts}\",\"sensor\":\"{prefix}{r}\",\"kind\":\"x\",\"values\":{{{values}}}}}")]);
    }

    private long DatabaseBytes() =>
        Directory.EnumerateFiles(Collector.DataDirectory, "collector.db*").Sum(f => new FileInfo(f).Length);

    private async Task<JsonElement> GetJsonAsync(string path)
    {
        var response = await Collector.Http.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private async Task<JsonElement> WaitForJsonAsync(string path, Func<JsonElement, bool> condition)
    {
        JsonElement last = default;
        await WaitForAsync(async () => condition(last = await GetJsonAsync(path)), () => last.ToString());
        return last;
    }

    private static Task WaitForAsync(Func<bool> condition, Func<string> describe) => WaitForAsync(() => Task.FromResult(condition()), describe);

    private static async Task WaitForAsync(Func<Task<bool>> condition, Func<string> describe)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"not reached within {Patience}: {describe()}");
            }

            await Task.Delay(50);
        }
    }
}

/// <summary>The hostile device against the collector's embedded MQTTnet broker.</summary>
public sealed class EmbeddedBrokerHostileDeviceTests(ITestOutputHelper output) : HostileDeviceTests(output)
{
    public override async Task InitializeAsync() => Collector = await RunningCollector.StartAsync(extra: [$"--Collector:SiteFile={TestSite.Shipped}"]);

    protected override async Task<MqttProbe> ConnectAsync(string device)
    {
        // The embedded broker takes only the device's own client id.
        var probe = await MqttProbe.ConnectAsync(Collector.BrokerPort, device, TestCredentials.PasswordOf(device), configure: b => b.WithClientId(device));
        Assert.Equal(MqttClientConnectResultCode.Success, probe.Result.ResultCode);
        return probe;
    }
}

/// <summary>The hostile device against Debian's mosquitto with the shipped configuration and ACL.</summary>
public sealed class MosquittoHostileDeviceTests(ITestOutputHelper output) : HostileDeviceTests(output)
{
    private SecuredMosquitto _broker = null!;

    public override async Task InitializeAsync()
    {
        _broker = await SecuredMosquitto.StartAsync(Attacker, Entrance);
        Collector = await RunningCollector.StartAsync(_broker.PlainPort, extra:
        [
            $"--Collector:SiteFile={TestSite.Shipped}",
            "--Collector:Broker:Host=127.0.0.1",
            "--Collector:Broker:Username=ntp-collector",
            $"--Collector:Broker:Password={_broker.Passwords["ntp-collector"]}",
        ]);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _broker.DisposeAsync();
    }

    protected override async Task<MqttProbe> ConnectAsync(string device)
    {
        var probe = await MqttProbe.ConnectAsync(_broker.PlainPort, device, _broker.Passwords[device]);
        Assert.Equal(MqttClientConnectResultCode.Success, probe.Result.ResultCode);
        return probe;
    }
}
