using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using NewTechPark.Edge.Reliability.Tests.Infrastructure;
using Xunit.Abstractions;

namespace NewTechPark.Edge.Reliability.Tests;

/// <summary>
/// The InfluxDB sink against Debian's victoria-metrics (same <c>/api/v2/write</c> line protocol),
/// with real processes: VictoriaMetrics goes away mid-stream, the collector is even killed with
/// kill -9 while it is away, and when it is back every reading is there exactly once.
/// </summary>
[Trait("Category", "Slow")]
public sealed class InfluxSinkTests(ITestOutputHelper output)
{
    [Fact]
    public async Task VictoriaMetrics_down_for_a_while_and_back_loses_nothing_even_across_a_collector_kill()
    {
        await using var vm = new VictoriaMetricsProcess();
        await vm.StartAsync();
        await using var rig = await FaultRig.StartAsync(BrokerKind.Embedded,
            "--Collector:Influx:Enabled=true",
            $"--Collector:Influx:Url={vm.Url}",
            "--Collector:Influx:Org=ntp",
            "--Collector:Influx:Bucket=ntp",
            "--Collector:Influx:RetryMinDelay=00:00:00.200",
            "--Collector:Influx:RetryMaxDelay=00:00:02");
        const string device = "pi-load-influx";
        const int total = 2500;
        rig.StartAgent(device, rate: 125, total: total, "--Load:DistinctMilliseconds=true");
        await WaitAsync(async () => (await vm.ExportAsync("load_n_total")).Count > 0, TimeSpan.FromSeconds(30), "first points in VictoriaMetrics");

        await OutageWithCollectorKillAsync(vm, rig);

        await rig.WaitAgentDoneAsync(device, TimeSpan.FromSeconds(120));
        await rig.WaitDeliveredAsync(device, TimeSpan.FromSeconds(60));
        List<(long Ts, double Value)> samples = [];
        await WaitAsync(async () => (samples = await vm.ExportAsync("load_n_total")).Count >= total, TimeSpan.FromSeconds(60),
            $"all {total} points in VictoriaMetrics", () => $"{samples.Count} there\n{rig.Diagnostics()}\n{vm.Output}");

        Assert.Equal(total, samples.Count);
        Assert.Equal(Enumerable.Range(1, total).Select(i => (double)i), samples.Select(s => s.Value).Order());
        Assert.Equal(total, samples.Select(s => s.Ts).Distinct().Count());
        output.WriteLine($"{total} readings in VictoriaMetrics, each once, after an outage and a collector kill -9 during it");
    }

    [Fact]
    public async Task Instead_mode_VictoriaMetrics_outage_every_reading_reaches_it_once_and_sqlite_keeps_no_raw_points()
    {
        await using var vm = new VictoriaMetricsProcess();
        await vm.StartAsync();
        await using var rig = await FaultRig.StartAsync(BrokerKind.Embedded,
            "--Collector:Influx:Enabled=true",
            "--Collector:Influx:Mode=Instead",
            $"--Collector:Influx:Url={vm.Url}",
            "--Collector:Influx:Org=ntp",
            "--Collector:Influx:Bucket=ntp",
            "--Collector:Influx:RetryMinDelay=00:00:00.200",
            "--Collector:Influx:RetryMaxDelay=00:00:01");
        const string device = "pi-load-instead";
        const int total = 1500;
        var started = DateTimeOffset.UtcNow;
        rig.StartAgent(device, rate: 125, total: total, "--Load:DistinctMilliseconds=true");
        await WaitAsync(async () => (await vm.ExportAsync("load_n_total")).Count > 0, TimeSpan.FromSeconds(20), "first points in VictoriaMetrics");

        // VictoriaMetrics away, the collector killed (kill -9) meanwhile: the raw points exist only
        // in the sink's queue file now.
        await OutageWithCollectorKillAsync(vm, rig);

        await rig.WaitAgentDoneAsync(device, TimeSpan.FromSeconds(40));
        await rig.WaitDeliveredAsync(device, TimeSpan.FromSeconds(20));
        List<(long Ts, double Value)> samples = [];
        await WaitAsync(async () => (samples = await vm.ExportAsync("load_n_total")).Count >= total, TimeSpan.FromSeconds(20),
            $"all {total} points in VictoriaMetrics", () => $"{samples.Count} there\n{rig.Diagnostics()}\n{vm.Output}");

        Assert.Equal(total, samples.Count);
        Assert.Equal(Enumerable.Range(1, total).Select(i => (double)i), samples.Select(s => s.Value).Order());
        Assert.Equal(total, samples.Select(s => s.Ts).Distinct().Count());

        // SQLite: the ledger has every batch, the rollups every reading, the points table nothing.
        Assert.Equal(total, rig.Stored(device).Values.Sum());
        var (points, rolledUp, sensor) = StoreFigures(rig);
        Assert.Equal(0, points);
        Assert.Equal(total, rolledUp);

        // /api/v1/series answers from the minute rollups and says so.
        var series = await rig.Http.GetFromJsonAsync<JsonElement>(
            $"/api/v1/series?sensor={sensor}&field=n_total&from={Uri.EscapeDataString(started.AddMinutes(-1).ToString("O"))}&to={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddMinutes(1).ToString("O"))}");
        Assert.Equal("minute", series.GetProperty("resolution").GetString());
        Assert.Equal(total, series.GetProperty("points").EnumerateArray().Sum(p => p.GetProperty("count").GetInt64()));
        output.WriteLine($"Instead mode: {total} readings in VictoriaMetrics, each once, after an outage and a collector kill -9 during it; none in SQLite's raw points");
    }

    private static (long Points, long RolledUp, string Sensor) StoreFigures(FaultRig rig)
    {
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(rig.CollectorData, "collector.db"),
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
        }.ToString();
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT (SELECT coalesce(sum(count), 0) FROM point_blocks),
                (SELECT coalesce(sum(r.count), 0) FROM rollups r JOIN series s ON s.id = r.series_id WHERE s.field = 'n_total' AND r.res = 1),
                (SELECT min(sensor) FROM series WHERE field = 'n_total')
            """;
        using var reader = command.ExecuteReader();
        reader.Read();
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2));
    }

    /// <summary>
    /// VictoriaMetrics goes away and comes back once the events the outage is about happened (no
    /// fixed sleeps): points wait in the sink's queue, the collector is killed with kill -9 with them
    /// there, and its successor has them queued again.
    /// </summary>
    private static async Task OutageWithCollectorKillAsync(VictoriaMetricsProcess vm, FaultRig rig)
    {
        await vm.StopAsync();
        await WaitAsync(async () => await QueuedPointsAsync(rig) > 0, TimeSpan.FromSeconds(30), "points queued for VictoriaMetrics while it is away");
        await rig.KillCollectorAsync();
        await rig.StartCollectorAsync();
        await WaitAsync(async () => await QueuedPointsAsync(rig) > 0, TimeSpan.FromSeconds(30), "the queued points after the collector's kill -9");
        await vm.StartAsync();
    }

    /// <summary>The collector's <c>ntp_influx_queue_points</c> gauge: points waiting for InfluxDB.</summary>
    private static async Task<double> QueuedPointsAsync(FaultRig rig)
    {
        var line = (await rig.Http.GetStringAsync("/metrics")).Split('\n').FirstOrDefault(l => l.StartsWith("ntp_influx_queue_points ", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task WaitAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, Func<string>? detail = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"no {what} within {timeout}\n{detail?.Invoke()}");
            }

            await Task.Delay(250);
        }
    }
}
