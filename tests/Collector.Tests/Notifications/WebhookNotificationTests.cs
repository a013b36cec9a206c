using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Health;
using NewTechPark.Edge.Collector.Metrics;
using NewTechPark.Edge.Collector.Notifications;
using NewTechPark.Edge.Collector.Occupancy;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Contracts.Payloads;
using static NewTechPark.Edge.Collector.Tests.TestData;

namespace NewTechPark.Edge.Collector.Tests.Notifications;

/// <summary>
/// Webhook notifications against a real HTTP receiver on 127.0.0.1: every event kind, the payload,
/// the signature, the quiet period (on a fake clock), retries after 500 and while the receiver is
/// down, giving up on a 4xx, and the bounded queue.
/// </summary>
public sealed class WebhookNotificationTests : IAsyncLifetime
{
    // Wednesday 10 June 2026, 10:00 in Apeldoorn (08:00 UTC).
    private static readonly DateTimeOffset Ten = new(2026, 6, 10, 10, 0, 0, TimeSpan.FromHours(2));
    private const string Secret = "a-shared-secret-for-hmac";

    private readonly TempDirectory _dir = new();
    private readonly List<IAsyncDisposable> _cleanup = [];
    private SqliteStore? _store;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var item in Enumerable.Reverse(_cleanup))
        {
            await item.DisposeAsync();
        }

        _store?.Dispose();
        _dir.Dispose();
    }

    private sealed class FakeDisk : IFreeSpaceProvider
    {
        public DiskSpace Space { get; set; } = new(500L << 30, 1000L << 30);

        public DiskSpace Of(string folder) => Space;
    }

    private sealed record Rig(NotificationMonitor Monitor, OccupancyEngine Engine, SqliteStore Store, NotificationMetrics Metrics, FakeDisk Disk)
    {
        public WebhookSender Sender => Monitor.Senders[0];
    }

    private async Task<WebhookReceiver> ReceiverAsync(int? port = null)
    {
        var receiver = await WebhookReceiver.StartAsync(port);
        _cleanup.Add(receiver);
        return receiver;
    }

    /// <summary>The monitor over the small site, started (its first check runs at once).</summary>
    private async Task<Rig> StartAsync(TimeProvider clock, WebhookOptions webhook, Action<OccupancyEngine, SqliteStore, FakeDisk>? before = null)
    {
        var options = new CollectorOptions { DataDirectory = _dir.Path };
        options.Notifications.Webhooks.Add(webhook);
        var metrics = new CollectorMetrics();
        var engine = Engine(clock, metrics);
        _store ??= Store(_dir);
        var disk = new FakeDisk();
        before?.Invoke(engine, _store, disk);
        var monitor = new NotificationMonitor(Options.Create(options), SmallSite, engine, new StoreQueries(_store), disk, new NotificationMetrics(metrics), clock,
            NullLogger<NotificationMonitor>.Instance);
        await monitor.StartAsync(CancellationToken.None);
        _cleanup.Add(new Stopper(monitor));
        return new Rig(monitor, engine, _store, new NotificationMetrics(metrics), disk);
    }

    private sealed class Stopper(NotificationMonitor monitor) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await monitor.StopAsync(CancellationToken.None);
            monitor.Dispose();
        }
    }

    private static void FillLab(OccupancyEngine engine, DateTimeOffset at)
    {
        engine.Apply(DoorMain, 30, 0, at.AddMinutes(-1));
        engine.Apply(DoorLab, 22, 0, at);
    }

    [Fact]
    public async Task Every_event_kind_is_posted_as_stable_json_with_headers_and_a_signature()
    {
        var receiver = await ReceiverAsync();
        var clock = new FakeTimeProvider(Ten);
        var webhook = new WebhookOptions { Name = "chat", Url = receiver.Url, Secret = Secret, Headers = { ["Authorization"] = "Bearer ntfy-token" } };
        await StartAsync(clock, webhook, (engine, store, disk) =>
        {
            FillLab(engine, Ten.AddMinutes(-2));
            // pi-entrance said goodbye 20 minutes ago; pi-hall is online and reports door-lab's beams blocked.
            store.Commit([new StatusItem(Status("pi-entrance"), new StatusMessage { Ts = Ten.AddMinutes(-30) }, Ten.AddMinutes(-30))]);
            store.Commit([new StatusItem(Status("pi-entrance"), StatusMessage.LastWill, Ten.AddMinutes(-20))]);
            store.Commit([new StatusItem(Status("pi-hall"), new StatusMessage
            {
                Ts = Ten.AddMinutes(-1),
                Sensors = new() { [DoorLab] = "error: both beams blocked for more than 10 s (obstruction, misaligned beam or broken wire)", [DoorRoom] = "ok" },
            }, Ten.AddMinutes(-1))]);
            disk.Space = new DiskSpace(5L << 30, 100L << 30);
        });

        await Eventually.UntilAsync(() => receiver.Delivered.Count == 4, "four notifications arrived");
        var byEvent = receiver.Delivered.ToDictionary(r => r.Json.GetProperty("event").GetString()!);
        Assert.Equal(NotificationEvents.All.Order(), byEvent.Keys.Order());

        var room = byEvent[NotificationEvents.RoomFull].Json;
        Assert.Equal("firing", room.GetProperty("state").GetString());
        Assert.Equal("warning", room.GetProperty("severity").GetString());
        Assert.Equal(SiteId, room.GetProperty("site").GetString());
        Assert.Equal(Lab, room.GetProperty("subject").GetString());
        Assert.Equal(Ten.AddMinutes(-2), room.GetProperty("since").GetDateTimeOffset());
        Assert.Equal("Lab is vol: 22 van 20 personen (sinds 09:58).", room.GetProperty("message_nl").GetString());
        Assert.Equal("Lab is full: 22 of 20 people (since 09:58).", room.GetProperty("message_en").GetString());
        Assert.Contains("Lab is vol: 22 van 20", room.GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Equal(22, room.GetProperty("values").GetProperty("count").GetDouble());
        Assert.Equal(32, room.GetProperty("id").GetString()!.Length);
        // Written as UTF-8, not \u escapes: a receiver's log reads like the message.
        Assert.Contains("\"text\":\"⚠️ Lab is vol", byEvent[NotificationEvents.RoomFull].Body, StringComparison.Ordinal);
        Assert.Contains("+00:00\"", byEvent[NotificationEvents.RoomFull].Body, StringComparison.Ordinal);

        var device = byEvent[NotificationEvents.DeviceOffline].Json;
        Assert.Equal("pi-entrance", device.GetProperty("subject").GetString());
        Assert.Equal(Ten.AddMinutes(-20), device.GetProperty("since").GetDateTimeOffset());
        Assert.Contains("20 minuten offline", device.GetProperty("message_nl").GetString(), StringComparison.Ordinal);

        var door = byEvent[NotificationEvents.DoorStuck].Json;
        Assert.Equal(DoorLab, door.GetProperty("subject").GetString());
        Assert.Contains("both beams blocked", door.GetProperty("message_en").GetString(), StringComparison.Ordinal);

        var disk = byEvent[NotificationEvents.DiskLow].Json;
        Assert.Equal("critical", disk.GetProperty("severity").GetString());
        Assert.Equal(NotificationMonitor.Store, disk.GetProperty("subject").GetString());
        Assert.Equal(5, disk.GetProperty("values").GetProperty("free_percent").GetDouble());

        foreach (var request in receiver.Delivered)
        {
            Assert.Equal("Bearer ntfy-token", request.Headers["Authorization"]);
            Assert.StartsWith("application/json", request.Headers["Content-Type"], StringComparison.Ordinal);
            Assert.Equal("/hooks/SECRET-PATH-TOKEN?key=SECRET-QUERY", request.PathAndQuery);
            var timestamp = request.Headers[WebhookSender.TimestampHeader];
            // The request's own time (real time: the receiver checks it against its clock to refuse replays).
            Assert.InRange(long.Parse(timestamp, CultureInfo.InvariantCulture) - DateTimeOffset.UtcNow.ToUnixTimeSeconds(), -300, 5);
            // What a receiver recomputes: HMAC-SHA256(secret, "{timestamp}.{body}").
            var expected = Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes(timestamp + "." + request.Body)));
            Assert.Equal("sha256=" + expected, request.Headers[WebhookSender.SignatureHeader]);
        }
    }

    [Fact]
    public async Task A_full_room_is_told_once_resolved_when_it_clears_and_again_only_after_the_quiet_period()
    {
        var receiver = await ReceiverAsync();
        var clock = new FakeTimeProvider(Ten);
        var rig = await StartAsync(clock, new WebhookOptions { Url = receiver.Url, Events = [NotificationEvents.RoomFull], QuietPeriod = TimeSpan.FromMinutes(30) },
            (engine, _, _) => FillLab(engine, Ten));
        await Eventually.UntilAsync(() => receiver.Delivered.Count == 1, "the first notification arrived");

        // Still full a minute later: no second message.
        clock.Advance(TimeSpan.FromMinutes(1));
        rig.Monitor.CheckOnce();
        Assert.Equal(1, rig.Sender.Enqueued);

        // Below capacity: resolved.
        rig.Engine.Apply(DoorLab, 0, 5, clock.GetUtcNow());
        rig.Monitor.CheckOnce();
        Assert.Equal(2, rig.Sender.Enqueued);
        await Eventually.UntilAsync(() => receiver.Delivered.Count == 2, "the resolved notification arrived");
        Assert.Equal("resolved", receiver.Delivered.Last().Json.GetProperty("state").GetString());
        Assert.Equal("Lab is niet meer vol.", receiver.Delivered.Last().Json.GetProperty("message_nl").GetString());

        // Full again five minutes later, inside the quiet period: nothing.
        clock.Advance(TimeSpan.FromMinutes(5));
        rig.Engine.Apply(DoorLab, 5, 0, clock.GetUtcNow());
        rig.Monitor.CheckOnce();
        Assert.Equal(2, rig.Sender.Enqueued);

        // Still full when the quiet period has passed (30 minutes after the first message): told.
        clock.Advance(TimeSpan.FromMinutes(23));
        rig.Monitor.CheckOnce();
        Assert.Equal(2, rig.Sender.Enqueued);
        clock.Advance(TimeSpan.FromMinutes(1));
        rig.Monitor.CheckOnce();
        Assert.Equal(3, rig.Sender.Enqueued);
        await Eventually.UntilAsync(() => receiver.Delivered.Count == 3, "the next notification arrived");
        var last = receiver.Delivered.Last().Json;
        Assert.Equal("firing", last.GetProperty("state").GetString());
        Assert.Equal(Ten.AddMinutes(6), last.GetProperty("since").GetDateTimeOffset());
        // Counted once the receiver has answered, which is after it saw the request.
        await Eventually.UntilAsync(
            () => rig.Metrics.Sent.WithLabels("webhook-0", NotificationEvents.RoomFull, "firing").Value + rig.Metrics.Sent.WithLabels("webhook-0", NotificationEvents.RoomFull, "resolved").Value == 3,
            "three notifications are counted as sent");
    }

    [Fact]
    public void A_condition_that_starts_inside_the_quiet_period_is_sent_when_it_ends_if_it_still_holds()
    {
        var rules = new QuietPeriodRules([], TimeSpan.FromMinutes(10), sendResolved: false);
        var full = new Condition(NotificationEvents.RoomFull, Lab, "warning", Ten, "vol", "full", "niet vol", "not full");
        Assert.Single(rules.Check([full], Ten));
        Assert.Empty(rules.Check([], Ten.AddMinutes(1)));
        Assert.Empty(rules.Check([full], Ten.AddMinutes(2)));
        Assert.Empty(rules.Check([full], Ten.AddMinutes(9)));
        Assert.Single(rules.Check([full], Ten.AddMinutes(10)));
        // Another subject has its own quiet period; events a webhook does not take are left out.
        Assert.Single(rules.Check([full, full with { Subject = Room }], Ten.AddMinutes(11)));
        var roomsOnly = new QuietPeriodRules([NotificationEvents.RoomFull], TimeSpan.Zero, sendResolved: true);
        Assert.Empty(roomsOnly.Check([full with { Event = NotificationEvents.DiskLow }], Ten));
        // Cleared episodes past their quiet period are forgotten: the state stays bounded.
        Assert.Single(roomsOnly.Check([full], Ten));
        Assert.Single(roomsOnly.Check([], Ten.AddMinutes(1)));
        Assert.Equal(0, roomsOnly.Tracked);
    }

    [Fact]
    public async Task A_delivery_is_retried_after_500_and_given_up_on_a_4xx()
    {
        var receiver = await ReceiverAsync();
        receiver.Respond = attempt => Task.FromResult(attempt <= 2 ? 500 : attempt == 3 ? 200 : 400);
        var webhook = new WebhookOptions { Url = receiver.Url, RetryMinDelay = TimeSpan.FromMilliseconds(20), RetryMaxDelay = TimeSpan.FromMilliseconds(200) };
        var rig = await StartAsync(TimeProvider.System, webhook, (engine, _, _) => FillLab(engine, DateTimeOffset.UtcNow));

        await Eventually.UntilAsync(() => receiver.Delivered.Count == 1, "the notification got through on the third attempt");
        Assert.Equal(3, receiver.Attempts);
        Assert.Equal(2, rig.Metrics.Retries.WithLabels("webhook-0").Value);
        // The same notification each time: a receiver can drop repeats by id.
        Assert.Single(receiver.Requests.Select(r => r.Json.GetProperty("id").GetString()).Distinct());

        // A 400 is not tried again.
        rig.Sender.Enqueue(Notification(Room));
        await Eventually.UntilAsync(() => rig.Metrics.Failed.WithLabels("webhook-0", NotificationEvents.RoomFull).Value == 1, "the refused notification was given up");
        Assert.Equal(4, receiver.Attempts);
    }

    [Fact]
    public async Task A_receiver_that_is_down_gets_the_notification_once_it_comes_up()
    {
        var port = FreePort.Next();
        var webhook = new WebhookOptions { Url = $"http://127.0.0.1:{port}/hook", MaxAttempts = 100, RetryMinDelay = TimeSpan.FromMilliseconds(20), RetryMaxDelay = TimeSpan.FromMilliseconds(200) };
        var rig = await StartAsync(TimeProvider.System, webhook, (engine, _, _) => FillLab(engine, DateTimeOffset.UtcNow));
        await Eventually.UntilAsync(() => rig.Metrics.Retries.WithLabels("webhook-0").Value >= 2, "two attempts failed against the closed port");

        var receiver = await ReceiverAsync(port);
        await Eventually.UntilAsync(() => receiver.Delivered.Count == 1, "the notification arrived once the receiver was up");
        Assert.Equal(Lab, receiver.Delivered.Single().Json.GetProperty("subject").GetString());
        Assert.Equal(0, rig.Metrics.Failed.WithLabels("webhook-0", NotificationEvents.RoomFull).Value);
    }

    [Fact]
    public async Task The_queue_is_bounded_and_drops_the_oldest_counting_them()
    {
        var receiver = await ReceiverAsync();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        receiver.Respond = async attempt =>
        {
            if (attempt == 1)
            {
                await release.Task;
            }

            return 200;
        };
        var rig = await StartAsync(TimeProvider.System, new WebhookOptions { Name = "small", Url = receiver.Url, QueueCapacity = 2 },
            (engine, _, _) => FillLab(engine, DateTimeOffset.UtcNow));
        await Eventually.UntilAsync(() => receiver.Attempts == 1, "the first notification is being delivered");

        // Four more while the receiver hangs: the queue keeps the newest two, never waits.
        foreach (var subject in new[] { "n1", "n2", "n3", "n4" })
        {
            rig.Sender.Enqueue(Notification(subject));
        }

        Assert.Equal(2, rig.Sender.Queued);
        Assert.Equal(2, rig.Metrics.Dropped.WithLabels("small", NotificationEvents.RoomFull).Value);
        release.SetResult();
        await Eventually.UntilAsync(() => receiver.Delivered.Count == 3, "the held and the two queued notifications arrived");
        Assert.Equal([Lab, "n3", "n4"], receiver.Delivered.Select(r => r.Json.GetProperty("subject").GetString()));
    }

    private static Notification Notification(string subject) =>
        new(Guid.NewGuid().ToString("N"), NotificationEvents.RoomFull, "firing", "warning", SiteId, subject, null, DateTimeOffset.UtcNow, "nl", "en", "text", null);
}
