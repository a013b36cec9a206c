using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using NewTechPark.Edge.Collector.Notifications;
using NewTechPark.Edge.Collector.Tests.Http;
using Xunit.Abstractions;

namespace NewTechPark.Edge.Collector.Tests.Notifications;

/// <summary>Notifications in the real collector: settings from the command line, a staff correction that fills a room, the webhook told, /metrics counting.</summary>
public sealed class NotificationsInCollectorTests(ITestOutputHelper output)
{
    private const string Token = "notifications-admin-token";

    [Fact]
    public async Task A_room_made_full_is_posted_to_the_webhook_and_counted_in_metrics()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var collector = await InProcessCollector.StartAsync(
            $"--Collector:Admin:Token={Token}",
            "--Collector:Notifications:CheckInterval=00:00:01",
            $"--Collector:Notifications:Webhooks:0:Url={receiver.Url}",
            "--Collector:Notifications:Webhooks:0:Events:0=room-full");
        collector.Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        var correction = await collector.Http.PostAsJsonAsync("/api/v1/occupancy/dc-lab/corrections", new { count = 35, reason = "a full class" });
        Assert.Equal(HttpStatusCode.Created, correction.StatusCode);

        await Eventually.UntilAsync(() => receiver.Delivered.Count == 1, "the webhook was told", TimeSpan.FromSeconds(20));
        var json = receiver.Delivered.Single().Json;
        Assert.Equal(NotificationEvents.RoomFull, json.GetProperty("event").GetString());
        Assert.Equal("dc-lab", json.GetProperty("subject").GetString());
        Assert.Equal("newtechpark", json.GetProperty("site").GetString());
        Assert.StartsWith("DC-Lab is vol: 35 van 30 personen", json.GetProperty("message_nl").GetString(), StringComparison.Ordinal);

        // The live snapshot says since when the room is full (the page lists it on opening).
        var occupancy = await collector.Http.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/v1/occupancy");
        var room = occupancy.GetProperty("rooms").EnumerateArray().Single(r => r.GetProperty("room").GetString() == "dc-lab");
        Assert.Equal("full", room.GetProperty("capacity_level").GetString());
        Assert.Equal(json.GetProperty("since").GetDateTimeOffset(), room.GetProperty("level_since").GetDateTimeOffset());

        var metrics = await collector.Http.GetStringAsync("/metrics");
        Assert.Contains("ntp_notifications_sent_total{webhook=\"webhook-0\",event=\"room-full\",state=\"firing\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("ntp_notifications_dropped_total", metrics, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Collector:Notifications:Webhooks:0:Url", "ftp://hooks.example.org/SECRET-PATH")]
    [InlineData("Collector:Notifications:Webhooks:0:Events:0", "room-exploded")]
    [InlineData("Collector:Notifications:Webhooks:0:QuietPeriod", "-00:05:00")]
    public async Task The_program_exits_with_2_naming_a_bad_notification_setting_without_repeating_the_url(string setting, string value)
    {
        using var data = new TempDirectory();
        string[] url = setting.EndsWith(":Url", StringComparison.Ordinal) ? [] : ["--Collector:Notifications:Webhooks:0:Url=https://hooks.example.org/SECRET-PATH"];
        var (exit, stderr, printed) = await SettingsWalker.RunProgramAsync("collector.dll", data.Path,
            [$"--Collector:DataDirectory={data.Path}", "--urls=http://127.0.0.1:0", $"--Collector:Broker:Port={FreePort.Next()}", .. url, $"--{setting}={value}"]);
        output.WriteLine(printed);
        Assert.Equal(2, exit);
        Assert.Contains(setting, stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET-PATH", printed, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", printed, StringComparison.Ordinal);
    }
}
