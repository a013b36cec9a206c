using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using NewTechPark.Edge.EndToEnd.Tests.Infrastructure;
using NewTechPark.Edge.Reliability.Tests.Infrastructure;
using Xunit.Abstractions;

namespace NewTechPark.Edge.Reliability.Tests.LoadAndFault;

/// <summary>
/// Issue 14's load-and-fault table, the rows about starting, the store and lock-outs, replayed
/// against the real collector program (<c>dotnet collector.dll</c>) on loopback. Each test writes
/// its figures to the output, one line each, for the README's reliability section.
/// </summary>
[Trait("Category", "Slow")]
public sealed class StartAndStoreBoundsTests(ITestOutputHelper output)
{
    private const long WalLimit = 64L * 1024 * 1024;
    private const string Token = "load-and-fault-admin-token-0123456789";

    [Fact]
    public async Task A_second_collector_on_the_same_MQTT_port_refuses_to_start_and_names_the_setting()
    {
        await using var rig = await FaultRig.StartAsync(BrokerKind.Embedded);
        using var data = new TempDirectory("ntp-second-");
        var (exit, stdout, stderr) = await ChildProcess.RunToEndAsync("dotnet", [
            Path.Combine(AppContext.BaseDirectory, "collector.dll"),
            "--urls", $"http://127.0.0.1:{FreePort.Next()}",
            $"--Collector:DataDirectory={data.Path}",
            $"--Collector:Broker:Port={rig.BrokerPort}",
            .. TestCredentials.CollectorArgs(),
        ], TimeSpan.FromSeconds(60));

        Assert.Equal(2, exit);
        Assert.Contains("Collector:Broker:Port", stderr + stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", stderr, StringComparison.Ordinal);
        // The first one is untouched and still the only broker on the port.
        Assert.Equal(HttpStatusCode.OK, (await rig.Http.GetAsync("/healthz")).StatusCode);
        output.WriteLine($"second collector on MQTT port {rig.BrokerPort}: exit code {exit}, '{LineWith(stderr + stdout, "Collector:Broker:Port")}'");
    }

    [Fact]
    public async Task A_broker_port_out_of_range_is_a_named_setting_error_with_exit_code_2()
    {
        using var data = new TempDirectory("ntp-port-");
        var (exit, stdout, stderr) = await ChildProcess.RunToEndAsync("dotnet", [
            Path.Combine(AppContext.BaseDirectory, "collector.dll"),
            "--urls", $"http://127.0.0.1:{FreePort.Next()}",
            $"--Collector:DataDirectory={data.Path}",
            "--Collector:Broker:Port=70000",
        ], TimeSpan.FromSeconds(60));

        Assert.Equal(2, exit);
        Assert.Contains("Collector:Broker:Port", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", stderr + stdout, StringComparison.Ordinal);
        output.WriteLine($"--Collector:Broker:Port=70000: exit code {exit}, '{LineWith(stderr + stdout, "Collector:Broker:Port")}'");
    }

    [Fact]
    public async Task Ten_wrong_admin_tokens_from_one_address_do_not_lock_out_the_right_token()
    {
        await using var rig = await FaultRig.StartAsync(BrokerKind.Embedded, $"--Collector:Admin:Token={Token}");
        const string correction = "/api/v1/occupancy/dc-lab/corrections";
        var body = new { count = 2, reason = "counted by hand" };
        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 11; i++)
        {
            answers.Add((await Post(rig, correction, body, $"wrong-token-number-{i}")).StatusCode);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, answers[0]);
        Assert.Equal(HttpStatusCode.TooManyRequests, answers[^1]);
        var right = await Post(rig, correction, body, Token);
        Assert.Equal(HttpStatusCode.Created, right.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await Post(rig, correction, body, "wrong-token-again")).StatusCode);
        output.WriteLine($"11 wrong admin tokens from 127.0.0.1: {string.Join(' ', answers.Select(a => (int)a))}; then the right token: {(int)right.StatusCode}");
    }

    [Fact]
    public async Task The_WAL_of_a_burst_over_MQTT_stays_bounded_and_is_given_back_once_idle()
    {
        await using var rig = await FaultRig.StartAsync(BrokerKind.Embedded);
        string[] devices = ["pi-load-wal-1", "pi-load-wal-2"];
        const int perDevice = 120_000;
        var wal = Path.Combine(rig.CollectorData, "collector.db-wal");
        var db = Path.Combine(rig.CollectorData, "collector.db");
        var burst = Stopwatch.StartNew();
        foreach (var device in devices)
        {
            rig.StartAgent(device, rate: 12_000, total: perDevice, "--Load:Sensors=16", "--Load:DistinctMilliseconds=true");
        }

        // The largest WAL seen while the burst is stored, sampled as the HTTP pages would read.
        long peak = 0;
        var delivered = Task.WhenAll(devices.Select(d => rig.WaitAgentDoneAsync(d, TimeSpan.FromSeconds(120))
            .ContinueWith(_ => rig.WaitDeliveredAsync(d, TimeSpan.FromSeconds(120)), TaskScheduler.Default).Unwrap()));
        while (!delivered.IsCompleted)
        {
            peak = Math.Max(peak, Size(wal));
            await Task.WhenAny(delivered, Task.Delay(50));
        }

        await delivered;
        burst.Stop();
        peak = Math.Max(peak, Size(wal));
        var idle = Stopwatch.StartNew();
        await Eventually.UntilAsync(() => Size(wal) <= WalLimit, "the WAL is at most 64 MiB once the burst is stored", TimeSpan.FromSeconds(10));
        var bounded = idle.Elapsed;
        var atBound = Size(wal);
        await Eventually.UntilAsync(() => Size(wal) == 0, "the idle collector truncates its WAL", TimeSpan.FromSeconds(10));
        var givenBack = idle.Elapsed;
        var memory = ProcessMemory.Of(rig.Collector!.Id);

        Assert.True(peak < 4 * WalLimit, $"the WAL grew to {peak / 1048576.0:F0} MiB during the burst");
        output.WriteLine($"{devices.Length * perDevice:N0} readings over MQTT in {burst.Elapsed.TotalSeconds:F1} s: WAL peak {peak / 1048576.0:F1} MiB, " +
            $"{atBound / 1048576.0:F1} MiB {bounded.TotalSeconds:F1} s and 0 bytes {givenBack.TotalSeconds:F1} s after the last commit; collector.db {Size(db) / 1048576.0:F1} MiB; " +
            $"collector RSS {memory.RssMiB:F0} MiB (peak {memory.PeakRssMiB:F0} MiB)");
    }

    private static long Size(string file) => new FileInfo(file) is { Exists: true } info ? info.Length : 0;

    private static string LineWith(string text, string part) =>
        text.Split('\n').FirstOrDefault(l => l.Contains(part, StringComparison.Ordinal))?.Trim() ?? string.Empty;

    private static Task<HttpResponseMessage> Post(FaultRig rig, string path, object body, string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return rig.Http.SendAsync(request);
    }
}
