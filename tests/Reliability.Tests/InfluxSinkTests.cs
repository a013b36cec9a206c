using NewTechPark.Edge.Reliability.Tests.Infrastructure;
using Xunit.Abstractions;

namespace NewTechPark.Edge.Reliability.Tests;

/// <summary>
/// The InfluxDB sink against Debian's victoria-metrics (same <c>/api/v2/write</c> line protocol),
/// with real processes: VictoriaMetrics goes away mid-stream, the collector is even killed with
/// kill -9 while it is away, and when it is back every reading is there exactly once.
/// </summary>
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

        await vm.StopAsync();
        await Task.Delay(TimeSpan.FromSeconds(5));
        var metrics = await rig.Http.GetStringAsync("/metrics");
        Assert.Contains("ntp_influx_queue_points", metrics);
        await rig.KillCollectorAsync();
        await Task.Delay(TimeSpan.FromSeconds(1));
        await rig.StartCollectorAsync();
        await Task.Delay(TimeSpan.FromSeconds(4));
        await vm.StartAsync();

        await rig.WaitAgentDoneAsync(device, TimeSpan.FromSeconds(120));
        await rig.WaitDeliveredAsync(device, TimeSpan.FromSeconds(60));
        List<(long Ts, double Value)> samples = [];
        await WaitAsync(async () => (samples = await vm.ExportAsync("load_n_total")).Count >= total, TimeSpan.FromSeconds(60),
            $"all {total} points in VictoriaMetrics", () => $"{samples.Count} there\n{rig.Diagnostics()}\n{vm.Output}");

        Assert.Equal(total, samples.Count);
        Assert.Equal(Enumerable.Range(1, total).Select(i => (double)i), samples.Select(s => s.Value).Order());
        Assert.Equal(total, samples.Select(s => s.Ts).Distinct().Count());
        output.WriteLine($"{total} readings in VictoriaMetrics, each once, after a 10 s outage and a collector kill -9 during it");
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
