using System.Text;
using System.Text.Json;
using MQTTnet;
using MQTTnet.Server;
using NewTechPark.Edge.Collector.Broker.Security;
using NewTechPark.Edge.Collector.Tests.Http;
using NewTechPark.Edge.Collector.Tests.Reports;
using Microsoft.Extensions.DependencyInjection;

namespace NewTechPark.Edge.Collector.Tests.CommandLine;

/// <summary>Each collector command run as a process (<c>dotnet collector.dll …</c>) against a real store in a temp folder.</summary>
[Trait("Category", "Slow")]
public sealed class CollectorCommandsTests : IDisposable
{
    private readonly TempDirectory _data = new("ntp-cli-");

    public void Dispose() => _data.Dispose();

    [Fact]
    public async Task Help_and_version_answer_and_an_unknown_switch_no_longer_starts_the_service()
    {
        var (exit, stdout, _) = await CollectorProcess.RunAsync(["--help"]);
        Assert.Equal(0, exit);
        foreach (var command in new[] { "devices", "report", "doctor", "--version", "--Section:Key=value" })
        {
            Assert.Contains(command, stdout, StringComparison.Ordinal);
        }

        (exit, stdout, _) = await CollectorProcess.RunAsync(["devices", "add", "--help"]);
        Assert.Equal(0, exit);
        Assert.Contains("--rotate", stdout, StringComparison.Ordinal);

        (exit, stdout, _) = await CollectorProcess.RunAsync(["--version"]);
        Assert.Equal(0, exit);
        Assert.Matches(@"^\d+\.\d+\.\d+", stdout);

        // Before issue 17 any unknown switch started the service (here: on a port of its own, and it would not exit).
        var (refused, output, error) = await CollectorProcess.RunAsync(["--add-devic", "pi-x", $"--Collector:DataDirectory={_data.Path}", $"--Collector:Broker:Port={FreePort.Next()}", "--urls=http://127.0.0.1:0"]);
        Assert.Equal(2, refused);
        Assert.Contains("Unrecognized command or argument '--add-devic'", error, StringComparison.Ordinal);
        Assert.Equal("", output);
        Assert.False(File.Exists(Path.Combine(_data.Path, "collector.db")));
    }

    [Fact]
    public async Task Devices_add_list_and_remove_take_effect_on_the_running_embedded_broker()
    {
        var file = Path.Combine(_data.Path, "mqtt.passwd");
        var site = CollectorProcess.WriteSite(_data.Path, "pi-a", "pi-b");
        var (exit, stdout, stderr) = await CollectorProcess.RunAsync(["devices", "add", "pi-a", "--password-file", file]);
        Assert.True(exit == 0, stderr);
        var passwordA = stdout.Split('\n', StringSplitOptions.TrimEntries)[1];

        var brokerPort = FreePort.Next();
        await using var collector = await InProcessCollector.StartAsync($"--Collector:Broker:Port={brokerPort}", $"--Collector:Broker:PasswordFile={file}", $"--Collector:SiteFile={site}", $"--Collector:DataDirectory={_data.Path}");
        Assert.Equal(MqttClientConnectResultCode.Success, await ConnectAsync(brokerPort, "pi-a", passwordA));
        await PublishAsync(brokerPort, "pi-a", passwordA);
        var queries = collector.Services.GetRequiredService<NewTechPark.Edge.Collector.Storage.StoreQueries>();
        await Eventually.UntilAsync(() => queries.Devices().Any(d => d.Device == "pi-a"), "pi-a's batch stored", CollectorProcess.Patience);

        // Added while the collector runs, found through the settings (no --password-file): it logs in without a restart.
        string[] settings = [$"--Collector:Broker:PasswordFile={file}", $"--Collector:SiteFile={site}", $"--Collector:DataDirectory={_data.Path}"];
        (exit, stdout, stderr) = await CollectorProcess.RunAsync(["devices", "add", "pi-b", .. settings]);
        Assert.True(exit == 0, stderr);
        var passwordB = stdout.Split('\n', StringSplitOptions.TrimEntries)[1];
        var credentials = collector.Services.GetRequiredService<BrokerCredentials>();
        await Eventually.UntilAsync(() => credentials.Contains("pi-b"), "the password file reloaded with pi-b", CollectorProcess.Patience);
        Assert.Equal(MqttClientConnectResultCode.Success, await ConnectAsync(brokerPort, "pi-b", passwordB));

        // pi-a published through the broker: list, reading the running collector's store read-only, shows it seen and online.
        (exit, stdout, stderr) = await CollectorProcess.RunAsync(["devices", "list", "--json", .. settings]);
        Assert.True(exit == 0, stderr);
        var listed = JsonDocument.Parse(stdout).RootElement.EnumerateArray().ToDictionary(d => d.GetProperty("device").GetString()!);
        Assert.Equal(["pi-a", "pi-b"], listed.Keys.Order());
        Assert.All(listed.Values, d => Assert.Equal("file", d.GetProperty("login").GetString()));
        Assert.All(listed.Values, d => Assert.True(d.GetProperty("in_site_file").GetBoolean()));
        Assert.Equal(["hall"], listed["pi-a"].GetProperty("rooms").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal("online", listed["pi-a"].GetProperty("state").GetString());
        Assert.True(DateTimeOffset.UtcNow - listed["pi-a"].GetProperty("last_seen").GetDateTimeOffset() < CollectorProcess.Patience);
        Assert.Equal(JsonValueKind.Null, listed["pi-b"].GetProperty("last_seen").ValueKind);

        // The table, redirected: plain text, no ANSI escape, one row per device.
        (exit, stdout, _) = await CollectorProcess.RunAsync(["devices", "list", .. settings]);
        Assert.Equal(0, exit);
        Assert.DoesNotContain('\u001b', stdout);
        Assert.DoesNotContain('│', stdout);
        Assert.Matches(@"(?m)^DEVICE\s+ROOMS\s+SITE FILE\s+LOGIN\s+LAST SEEN\s+STATE", stdout);
        Assert.Matches(@"(?m)^pi-b\s+hall\s+yes\s+file\s+never\s+never-seen", stdout);

        // Removed (with --yes: standard input is not a terminal): the broker refuses pi-b again, pi-a stays.
        (exit, _, stderr) = await CollectorProcess.RunAsync(["devices", "remove", "pi-b", .. settings]);
        Assert.Equal(2, exit);
        Assert.Contains("--yes", stderr, StringComparison.Ordinal);
        (exit, _, stderr) = await CollectorProcess.RunAsync(["devices", "remove", "pi-b", "--yes", .. settings]);
        Assert.True(exit == 0, stderr);
        await Eventually.UntilAsync(() => !credentials.Contains("pi-b"), "the password file reloaded without pi-b", CollectorProcess.Patience);
        Assert.NotEqual(MqttClientConnectResultCode.Success, await ConnectAsync(brokerPort, "pi-b", passwordB));
        Assert.Equal(MqttClientConnectResultCode.Success, await ConnectAsync(brokerPort, "pi-a", passwordA));
        (exit, _, _) = await CollectorProcess.RunAsync(["devices", "remove", "pi-b", "--yes", .. settings]);
        Assert.Equal(1, exit);
    }

    [Fact]
    public async Task Hash_password_reads_standard_input()
    {
        var (exit, stdout, _) = await CollectorProcess.RunAsync(["devices", "hash-password"], stdin: "s3cret-enough\n");
        Assert.Equal(0, exit);
        Assert.True(MqttPasswordHash.TryParse(stdout.Trim(), out var parsed, out _));
        Assert.True(MqttPasswordHash.Verify("s3cret-enough"u8, parsed));

        (exit, _, var stderr) = await CollectorProcess.RunAsync(["devices", "hash-password"], stdin: "");
        Assert.Equal(2, exit);
        Assert.Contains("standard input", stderr, StringComparison.Ordinal);

        (exit, _, stderr) = await CollectorProcess.RunAsync(["devices", "hash-password"], stdin: new string('x', 100_000));
        Assert.Equal(2, exit);
        Assert.Contains("longer than 1024 characters", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Report_writes_a_year_and_a_month_as_html_and_csv_and_leaves_finished_files()
    {
        var site = CollectorProcess.WriteSite(_data.Path, "pi-a");
        CollectorProcess.WriteStore(_data.Path, "pi-a", DateTimeOffset.UtcNow, new DateTimeOffset(2026, 11, 4, 9, 0, 0, TimeSpan.Zero));
        var folder = Path.Combine(_data.Path, "reports");
        string[] settings = [$"--Collector:DataDirectory={_data.Path}", $"--Collector:SiteFile={site}", "--Collector:Report:TargetsFile="];
        var (exit, stdout, stderr) = await CollectorProcess.RunAsync(["report", "--year", "2026", "--out", folder, .. settings]);
        Assert.True(exit == 0, stderr);
        Assert.Contains("ntp-jaarrapport-2026.html (written)", stdout, StringComparison.Ordinal);
        var html = await File.ReadAllTextAsync(Path.Combine(folder, "ntp-jaarrapport-2026.html"));
        Assert.StartsWith("<!doctype html>\n<html lang=\"nl\">", html, StringComparison.Ordinal);
        Assert.Contains("<h1>Jaarrapport 2026 · Test site</h1>", html, StringComparison.Ordinal);
        Assert.Contains("november 2026", html, StringComparison.Ordinal);
        Assert.EndsWith("</html>\n", html, StringComparison.Ordinal);
        AssertCsv(Path.Combine(folder, "ntp-jaarrapport-2026.csv"), ';');

        (exit, stdout, stderr) = await CollectorProcess.RunAsync(["report", "--month", "2026-11", "--out", folder, "--csv", "en", .. settings]);
        Assert.True(exit == 0, stderr);
        Assert.Contains("ntp-maandrapport-2026-11.csv (written)", stdout, StringComparison.Ordinal);
        Assert.Contains("<h1>Maandrapport november 2026 · Test site</h1>", await File.ReadAllTextAsync(Path.Combine(folder, "ntp-maandrapport-2026-11.html")), StringComparison.Ordinal);
        AssertCsv(Path.Combine(folder, "ntp-maandrapport-2026-11.csv"), ',');

        (exit, stdout, stderr) = await CollectorProcess.RunAsync(["report", "--year", "2026", "--out", folder, .. settings]);
        Assert.Equal(0, exit);
        Assert.Contains("already there, left as it was", stdout, StringComparison.Ordinal);
        Assert.Contains("--replace", stderr, StringComparison.Ordinal);
        (exit, stdout, _) = await CollectorProcess.RunAsync(["report", "--year", "2026", "--out", folder, "--replace", .. settings]);
        Assert.Equal(0, exit);
        Assert.Contains("ntp-jaarrapport-2026.html (written)", stdout, StringComparison.Ordinal);

        (exit, _, stderr) = await CollectorProcess.RunAsync(["report", "--year", "2026", "--out", folder, "--Collector:Broker:Port=70000", .. settings]);
        Assert.Equal(2, exit);
        Assert.Contains("Collector:Broker:Port", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Doctor_says_all_well_on_a_healthy_store_with_a_broker_that_answers()
    {
        var now = DateTimeOffset.UtcNow;
        CollectorProcess.WriteStore(_data.Path, "pi-a", now, now.AddSeconds(-5));
        var port = FreePort.Next();
        using var broker = new MqttServerFactory().CreateMqttServer(new MqttServerOptionsBuilder().WithDefaultEndpoint().WithDefaultEndpointBoundIPAddress(System.Net.IPAddress.Loopback).WithDefaultEndpointPort(port).Build());
        await broker.StartAsync();

        var (exit, stdout, stderr) = await Doctor(port, "--json");
        Assert.True(exit == 0, stdout + stderr);
        var report = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal("ok", report.GetProperty("status").GetString());
        var checks = report.GetProperty("checks").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("status").GetString());
        Assert.Equal(["broker", "clock", "devices", "disk", "ntp", "schema", "settings", "site file", "store", "store size"], checks.Keys.Order());
        Assert.All(checks.Where(c => c.Key != "ntp"), c => Assert.Equal("ok", c.Value));

        (exit, stdout, _) = await Doctor(port);
        Assert.Equal(0, exit);
        Assert.DoesNotContain('\u001b', stdout);
        Assert.Matches(@"(?m)^store\s+ok\s+quick_check ok", stdout);
        Assert.Contains("All well.", stdout, StringComparison.Ordinal);
        await broker.StopAsync();
    }

    [Fact]
    public async Task Doctor_names_an_offline_device_a_future_reading_and_a_broker_not_running()
    {
        var now = DateTimeOffset.UtcNow;
        CollectorProcess.WriteStore(_data.Path, "pi-a", now.AddHours(-3), now.AddHours(-3));
        var (exit, stdout, stderr) = await Doctor(FreePort.Next(), "--json", "--timeout", "00:00:02");
        Assert.True(exit == 1, stdout + stderr);
        var checks = JsonDocument.Parse(stdout).RootElement.GetProperty("checks").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!);
        Assert.Equal("warning", checks["devices"].GetProperty("status").GetString());
        Assert.Contains("pi-a (last seen 3 h ago)", checks["devices"].GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal("warning", checks["broker"].GetProperty("status").GetString());
        Assert.Contains("the collector is not running", checks["broker"].GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal("ok", checks["clock"].GetProperty("status").GetString());

        using var future = new TempDirectory("ntp-cli-");
        CollectorProcess.WriteStore(future.Path, "pi-a", now, now.AddHours(2));
        (exit, stdout, stderr) = await CollectorProcess.RunAsync(["doctor", "--json", "--skip", "broker", "--skip", "ntp", .. Settings(future.Path, 0)]);
        Assert.True(exit == 1, stdout + stderr);
        checks = JsonDocument.Parse(stdout).RootElement.GetProperty("checks").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!);
        Assert.Equal("problem", checks["clock"].GetProperty("status").GetString());
        Assert.Contains("after this machine's clock", checks["clock"].GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal("skipped", checks["broker"].GetProperty("status").GetString());
        Assert.Equal("ok", checks["devices"].GetProperty("status").GetString());
    }

    [Fact]
    public async Task Doctor_exits_2_on_a_bad_setting_and_1_without_a_store()
    {
        var (exit, stdout, _) = await CollectorProcess.RunAsync(["doctor", "--json", $"--Collector:DataDirectory={_data.Path}", "--Collector:Health:DiskDegradedPercent=0"]);
        Assert.Equal(2, exit);
        var report = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(2, report.GetProperty("exit_code").GetInt32());
        var settings = report.GetProperty("checks").EnumerateArray().Single();
        Assert.Equal("problem", settings.GetProperty("status").GetString());
        Assert.Contains("DiskDegradedPercent", settings.GetProperty("reason").GetString(), StringComparison.Ordinal);

        (exit, stdout, _) = await CollectorProcess.RunAsync(["doctor", "--skip", "broker", "--skip", "ntp", .. Settings(_data.Path, 0)]);
        Assert.Equal(1, exit);
        Assert.Matches(@"(?m)^store\s+warning\s+no store at", stdout);
        Assert.False(File.Exists(Path.Combine(_data.Path, "collector.db")), "doctor made a store");

        // A file that is not a store is a named problem, not a crash.
        await File.WriteAllTextAsync(Path.Combine(_data.Path, "collector.db"), new string('x', 8192));
        (exit, stdout, _) = await CollectorProcess.RunAsync(["doctor", "--skip", "broker", "--skip", "ntp", .. Settings(_data.Path, 0)]);
        Assert.Equal(1, exit);
        Assert.Matches(@"(?m)^store\s+problem\s+.*not a database", stdout);
    }

    private Task<(int ExitCode, string Stdout, string Stderr)> Doctor(int brokerPort, params string[] args) =>
        CollectorProcess.RunAsync(["doctor", "--skip", "ntp", .. args, .. Settings(_data.Path, brokerPort)]);

    /// <summary>The test's site and store; thresholds of the disk check at their lowest, so a full CI disk does not fail a test about something else.</summary>
    private static string[] Settings(string data, int brokerPort) =>
    [
        $"--Collector:DataDirectory={data}",
        $"--Collector:SiteFile={CollectorProcess.WriteSite(data, "pi-a")}",
        $"--Collector:Broker:Port={brokerPort}",
        "--Collector:Health:DiskDegradedPercent=1",
        "--Collector:Health:DiskUnhealthyBytes=1048576",
    ];

    private static void AssertCsv(string path, char separator)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(Encoding.UTF8.GetPreamble(), bytes[..3]);
        var sections = ReportCsvTests.Sections(Encoding.UTF8.GetString(bytes[3..]), separator);
        Assert.True(sections.Count >= 4, $"{sections.Count} sections in {path}");
        Assert.Contains(sections[0], row => row[0] == "visits");
    }

    /// <summary>One door crossing of <paramref name="device"/>, QoS 1, acknowledged once stored.</summary>
    private static async Task PublishAsync(int port, string device, string password)
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId(device).WithCredentials(device, password).Build());
        var now = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture);
        var payload = $$$"""{"v":1,"seq":1,"sent":"{{{now}}}","readings":[{"ts":"{{{now}}}","sensor":"door-{{{device}}}","kind":"door","values":{"in":1,"out":0,"in_total":1,"out_total":0}}]}""";
        var result = await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic($"ntp/v1/{TestData.SiteId}/{device}/readings").WithPayload(payload)
            .WithQualityOfServiceLevel(MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce).Build());
        Assert.True(result.IsSuccess, result.ReasonString);
        await client.DisconnectAsync();
    }

    private static async Task<MqttClientConnectResultCode> ConnectAsync(int port, string user, string password)
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        var result = await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId(user).WithCredentials(user, password).WithTimeout(TimeSpan.FromSeconds(10)).Build());
        if (client.IsConnected)
        {
            await client.DisconnectAsync();
        }

        return result.ResultCode;
    }
}
