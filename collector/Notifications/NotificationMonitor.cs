using System.Globalization;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Api;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Health;
using NewTechPark.Edge.Collector.Metrics;
using NewTechPark.Edge.Collector.Occupancy;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Storage;

namespace NewTechPark.Edge.Collector.Notifications;

/// <summary>
/// Every <c>Collector:Notifications:CheckInterval</c>, reads what the collector already knows
/// (live occupancy, the devices' status and sensor health, the data directory's free space),
/// turns it into conditions, and hands each webhook the notifications its quiet-period rules call
/// for. It reads, on its own timer: the ingest never waits for it, and a slow webhook only fills
/// its own bounded queue.
/// </summary>
public sealed class NotificationMonitor : BackgroundService
{
    public const string Store = "store";

    private readonly CollectorOptions _options;
    private readonly SiteModel _site;
    private readonly OccupancyEngine _occupancy;
    private readonly StoreQueries _queries;
    private readonly IFreeSpaceProvider _disks;
    private readonly NotificationMetrics _metrics;
    private readonly TimeProvider _clock;
    private readonly ILogger<NotificationMonitor> _logger;
    private readonly HttpClient _http;
    private readonly TimeZoneInfo _zone;
    private readonly HashSet<string> _doors;
    private readonly Dictionary<(string, string), DateTimeOffset> _firstSeen = [];
    private readonly LogThrottle _failures;
    private readonly Lock _gate = new();

    public NotificationMonitor(IOptions<CollectorOptions> options, SiteModel site, OccupancyEngine occupancy, StoreQueries queries, IFreeSpaceProvider disks,
        NotificationMetrics metrics, TimeProvider clock, ILogger<NotificationMonitor> logger)
    {
        _options = options.Value;
        _site = site;
        _occupancy = occupancy;
        _queries = queries;
        _disks = disks;
        _metrics = metrics;
        _clock = clock;
        _logger = logger;
        _zone = TimeZoneInfo.FindSystemTimeZoneById(site.TimeZone);
        _doors = site.Doors.Select(d => d.Id).ToHashSet(StringComparer.Ordinal);
        _failures = new LogThrottle(clock, TimeSpan.FromMinutes(5));
        // No redirects: a webhook answers where it was set up, and a redirect could carry the headers elsewhere.
        _http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5), ConnectTimeout = TimeSpan.FromSeconds(10) })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        var webhooks = _options.Notifications.Webhooks;
        // Deliveries time out and back off on real time: they wait for the network, which a test's fake clock does not drive.
        Senders = [.. webhooks.Select((w, i) => new WebhookSender(w.Name ?? $"webhook-{i}", w, _http, metrics, TimeProvider.System, logger))];
    }

    public IReadOnlyList<WebhookSender> Senders { get; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (Senders.Count == 0)
        {
            return;
        }

        for (var i = 0; i < Senders.Count; i++)
        {
            Senders[i].Start();
            var events = _options.Notifications.Webhooks[i].Events;
            _logger.LogInformation("Notifications: webhook {Webhook} gets {Events}", Senders[i].Name, string.Join(", ", events.Count > 0 ? events : NotificationEvents.All));
        }

        using var timer = new PeriodicTimer(_options.Notifications.CheckInterval, _clock);
        do
        {
            try
            {
                CheckOnce();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                if (_failures.TryTake(out var held))
                {
                    _logger.LogWarning(e, "Notifications: the check failed ({Held} more failures not logged)", held);
                }
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    /// <summary>One check: the conditions now, and the notifications they call for, queued (tests call this directly).</summary>
    public IReadOnlyList<Condition> CheckOnce()
    {
        lock (_gate)
        {
            var now = _clock.GetUtcNow();
            var conditions = Conditions(now);
            foreach (var e in NotificationEvents.All)
            {
                _metrics.Conditions.WithLabels(e).Set(conditions.Count(c => c.Event == e));
            }

            foreach (var sender in Senders)
            {
                foreach (var (condition, state) in sender.Rules.Check(conditions, now))
                {
                    sender.Enqueue(Build(condition, state, now));
                }
            }

            return conditions;
        }
    }

    /// <summary>What holds now: full rooms, devices offline too long, stuck door beams, a low disk.</summary>
    public List<Condition> Conditions(DateTimeOffset now)
    {
        var conditions = new List<Condition>();
        foreach (var room in _occupancy.Snapshot().Rooms.Where(r => r.Capacity > 0 && r.Count >= r.Capacity))
        {
            var since = room.LevelSince;
            var (at, atEn) = since is { } s ? Since(s, now, "sinds", "since") : (null, null);
            (at, atEn) = since is null ? (string.Empty, string.Empty) : ($" ({at})", $" ({atEn})");
            conditions.Add(new Condition(NotificationEvents.RoomFull, room.Room, "warning", since,
                $"{room.NameNl} is vol: {room.Count} van {room.Capacity} personen{at}.",
                $"{room.NameEn} is full: {room.Count} of {room.Capacity} people{atEn}.",
                $"{room.NameNl} is niet meer vol.",
                $"{room.NameEn} is no longer full.",
                new Dictionary<string, double> { ["count"] = room.Count, ["capacity"] = room.Capacity }));
        }

        var offlineAfter = _options.Notifications.OfflineAfter;
        foreach (var device in DevicesApi.List(_site, _queries, now))
        {
            if (device.State == "offline" && device.LastSeen is { } seen && now - seen >= offlineAfter)
            {
                var (nl, en) = Since(seen, now, "laatst gezien", "last seen");
                var minutes = (long)(now - seen).TotalMinutes;
                conditions.Add(new Condition(NotificationEvents.DeviceOffline, device.Device, "warning", seen,
                    $"Apparaat {device.Device} is al {minutes} minuten offline ({nl}).",
                    $"Device {device.Device} has been offline for {minutes} minutes ({en}).",
                    $"Apparaat {device.Device} is weer online.",
                    $"Device {device.Device} is back online.",
                    new Dictionary<string, double> { ["offline_minutes"] = minutes }));
            }

            foreach (var (sensor, health) in device.Sensors ?? new Dictionary<string, string>())
            {
                if (IsStuckDoor(sensor, health))
                {
                    var since = FirstSeen(NotificationEvents.DoorStuck, sensor, now);
                    conditions.Add(new Condition(NotificationEvents.DoorStuck, sensor, "warning", since,
                        $"Deurteller {sensor} ({device.Device}) telt niet: {health}. Kijk of iets de deur of de lichtsluis blokkeert.",
                        $"Door counter {sensor} ({device.Device}) is not counting: {health}. Check for something blocking the door or the beams.",
                        $"Deurteller {sensor} telt weer.",
                        $"Door counter {sensor} is counting again."));
                }
            }
        }

        var disk = _options.Notifications.DiskFreeBelowPercent;
        var floor = _options.Health.DiskUnhealthyBytes;
        try
        {
            var space = _disks.Of(_options.DataDirectory);
            if (space.FreePercent < disk || space.FreeBytes < floor)
            {
                var free = space.FreeBytes / (1024.0 * 1024 * 1024);
                conditions.Add(new Condition(NotificationEvents.DiskLow, Store, "critical", FirstSeen(NotificationEvents.DiskLow, Store, now),
                    string.Create(CultureInfo.GetCultureInfo("nl-NL"), $"De schijf van de opslag is bijna vol: {free:0.0} GB vrij ({space.FreePercent:0.#} %). Zonder ruimte slaat de collector niets meer op."),
                    string.Create(CultureInfo.InvariantCulture, $"The store's disk is nearly full: {free:0.0} GB free ({space.FreePercent:0.#} %). Without room the collector stores nothing."),
                    "De schijf van de opslag heeft weer ruimte genoeg.",
                    "The store's disk has enough room again.",
                    new Dictionary<string, double> { ["free_bytes"] = space.FreeBytes, ["free_percent"] = Math.Round(space.FreePercent, 2) }));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            if (_failures.TryTake(out _))
            {
                _logger.LogWarning("Notifications: cannot read the free space of the data directory: {Problem}", e.Message);
            }
        }

        // First-seen times live only while their condition holds.
        var holding = conditions.Select(c => (c.Event, c.Subject)).ToHashSet();
        foreach (var key in _firstSeen.Keys.Where(k => !holding.Contains(k)).ToList())
        {
            _firstSeen.Remove(key);
        }

        return conditions;
    }

    /// <summary>A door counter of the site that reports both beams (or both zones) blocked: the agent's stuck-door health.</summary>
    public bool IsStuckDoor(string sensor, string health) =>
        _doors.Contains(sensor) && health.StartsWith("error", StringComparison.Ordinal)
        && (health.Contains("blocked", StringComparison.OrdinalIgnoreCase) || health.Contains("occupied for more than", StringComparison.OrdinalIgnoreCase));

    private DateTimeOffset FirstSeen(string e, string subject, DateTimeOffset now)
    {
        if (!_firstSeen.TryGetValue((e, subject), out var first))
        {
            first = now;
            _firstSeen[(e, subject)] = now;
        }

        return first;
    }

    private Notification Build(Condition c, string state, DateTimeOffset now)
    {
        var firing = state == Notification.Firing;
        var nl = firing ? c.MessageNl : c.ResolvedNl;
        var en = firing ? c.MessageEn : c.ResolvedEn;
        var mark = !firing ? "✅" : c.Severity == "critical" ? "🔴" : "⚠️";
        return new Notification(Guid.NewGuid().ToString("N"), c.Event, state, c.Severity, _site.Site, c.Subject, c.Since?.ToUniversalTime(), now.ToUniversalTime(), nl, en,
            $"{mark} {nl}\n{en}", c.Values);
    }

    /// <summary>"sinds 10:42" / "since 10:42" in the site's time; with the date when it was not today.</summary>
    private (string Nl, string En) Since(DateTimeOffset at, DateTimeOffset now, string nl, string en)
    {
        var local = TimeZoneInfo.ConvertTime(at, _zone);
        var today = TimeZoneInfo.ConvertTime(now, _zone).Date == local.Date;
        var nlText = today ? local.ToString("HH:mm", CultureInfo.InvariantCulture) : local.ToString("d MMM HH:mm", CultureInfo.GetCultureInfo("nl-NL"));
        var enText = today ? local.ToString("HH:mm", CultureInfo.InvariantCulture) : local.ToString("d MMM HH:mm", CultureInfo.InvariantCulture);
        return ($"{nl} {nlText}", $"{en} {enText}");
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        foreach (var sender in Senders)
        {
            await sender.DisposeAsync().ConfigureAwait(false);
        }
    }

    public override void Dispose()
    {
        _http.Dispose();
        base.Dispose();
    }
}
