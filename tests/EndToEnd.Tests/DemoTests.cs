using System.Text;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using NewTechPark.Edge.Collector.Broker;
using NewTechPark.Edge.Demo;
using NewTechPark.Edge.EndToEnd.Tests.Infrastructure;

namespace NewTechPark.Edge.EndToEnd.Tests;

/// <summary>The README's main command, <c>dotnet run --project demo</c>: the collector with the simulated site shows people in rooms within 30 seconds.</summary>
[Trait("Category", "Slow")]
public sealed class DemoTests
{
    [Theory]
    [InlineData("Demo:ArrivalsPerMinute", "-1")]
    [InlineData("Collector:Ingest:MaxMessagesPerCommit", "0")]
    public async Task A_wrong_setting_stops_the_demo_with_exit_code_2_naming_it(string setting, string value)
    {
        using var data = new TempDirectory();
        var (exit, stderr, printed) = await SettingsWalker.RunProgramAsync("demo.dll", data.Path, [$"--Collector:DataDirectory={data.Path}", "--urls=http://127.0.0.1:0", $"--{setting}={value}"]);
        Assert.Equal(2, exit);
        Assert.Contains($"The demo cannot start:", stderr, StringComparison.Ordinal);
        Assert.Contains(setting, stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", printed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_demo_puts_people_in_rooms_within_30_seconds_over_real_mqtt()
    {
        await using var collector = await RunningCollector.StartAsync(demo: true);
        var occupancy = await collector.EventuallyAsync<OccupancyDto>("/api/v1/occupancy",
            o => o.Building > 0 && o.Rooms.Any(r => r.Room != "ontmoetingsplek" && r.Count > 0), TimeSpan.FromSeconds(30));
        Assert.True(occupancy.Rooms.Sum(r => r.Count) <= occupancy.Building, "more people in rooms than in the building");
        Assert.All(occupancy.Rooms, r => Assert.Equal(0, r.Drift));

        // Every simulated Pi of the site file is online, and the DC benches are being measured.
        var devices = await collector.EventuallyAsync<List<DeviceDto>>("/api/v1/devices",
            list => list.Count > 0 && list.All(d => d.State == "online"), TimeSpan.FromSeconds(10));
        Assert.Contains(devices, d => d.Device == "pi-dc-lab");
        var series = await collector.EventuallyAsync<SeriesDto>("/api/v1/series?sensor=dc-bench-1&field=power_w&points=10",
            s => s.Points.Count > 0, TimeSpan.FromSeconds(10));
        Assert.All(series.Points, p => Assert.True(p.Max > 0));

        // The demo's years carry its example targets (the centre's own file stops at 2024), said as such.
        var report = await collector.GetAsync<System.Text.Json.JsonElement>("/api/v1/reports/annual?year=2026");
        Assert.Contains("demo", report.GetProperty("targets_source").GetString(), StringComparison.Ordinal);
        Assert.Contains(report.GetProperty("rows").EnumerateArray(),
            r => r.GetProperty("key").GetString() == "events" && r.GetProperty("target").ValueKind == System.Text.Json.JsonValueKind.Number);
    }

    [Fact]
    public async Task The_banners_mosquitto_pub_command_publishes_a_reading_as_the_spare_device()
    {
        await using var collector = await RunningCollector.StartAsync(demo: true);
        var command = DemoBanner.SparePublishCommand(collector.Services.GetRequiredService<DemoCredentials>(), collector.Services.GetRequiredService<BrokerEndpoint>());

        // The exact text a newcomer pastes, run by bash; a shell function stands in for
        // mosquitto_pub (mosquitto-clients is not needed by the tests) and hands over its arguments
        // as the shell made them, which MQTTnet then sends.
        var shell = await ChildProcess.RunToEndAsync("bash", ["-c", "mosquitto_pub() { printf '%s\\0' \"$@\"; }; " + command], TimeSpan.FromSeconds(30));
        var arguments = shell.Stdout.Split('\0', StringSplitOptions.RemoveEmptyEntries);
        string Option(string name) => arguments[Array.IndexOf(arguments, name) + 1];

        using var client = new MqttClientFactory().CreateMqttClient();
        var options = new MqttClientOptionsBuilder().WithTcpServer(Option("-h"), int.Parse(Option("-p"), System.Globalization.CultureInfo.InvariantCulture))
            .WithProtocolVersion(MqttProtocolVersion.V500).WithClientId(Option("-i")).WithCredentials(Option("-u"), Option("-P")).Build();
        Assert.Equal(MqttClientConnectResultCode.Success, (await client.ConnectAsync(options)).ResultCode);
        var published = await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(Option("-t")).WithPayload(Encoding.UTF8.GetBytes(Option("-m")))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
        Assert.True(published.IsSuccess, $"{published.ReasonCode} {published.ReasonString}");

        // my-sensor is not in the site file: it is stored as a plain series of the spare device.
        var series = await collector.EventuallyAsync<SeriesDto>($"/api/v1/series?sensor={DemoCredentials.SpareDevice}/my-sensor&field=temperature_c&points=10", s => s.Points.Count > 0, TimeSpan.FromSeconds(10));
        Assert.Equal(21.5, series.Points.Single().Mean);
        var devices = await collector.GetAsync<List<DeviceDto>>("/api/v1/devices");
        Assert.Contains(devices, d => d.Device == DemoCredentials.SpareDevice);
    }
}
