using System.Reflection;
using System.Text;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Protocol;
using MQTTnet.Server;
using NewTechPark.Edge.Collector.Api;
using NewTechPark.Edge.Collector.Broker;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Ingest;
using NewTechPark.Edge.Collector.Live;
using NewTechPark.Edge.Collector.Metrics;
using NewTechPark.Edge.Collector.Occupancy;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Collector.HomeAssistant;

/// <summary>
/// Publishes Home Assistant discovery configs and states (retained) on the collector's broker:
/// injected into the embedded MQTTnet server, or sent over the collector's own connection to an
/// outside broker (<see cref="IngestClient"/>, whose last will is the collector's retained
/// <c>offline</c>). The figures come from the live stream (readings, occupancy changes, device
/// states) into a table of one latest value per entity: nothing queues, the latest value wins, and
/// a state goes out at most once per <c>StateInterval</c> (<c>OccupancyInterval</c> for rooms).
/// <para>
/// At start, on every reconnect and when Home Assistant announces itself (<c>online</c> on
/// <c>homeassistant/status</c>), everything is published again: availability, an empty config for
/// each entity published before whose room, meter, sensor or Pi has left the site file
/// (<see cref="DiscoveryRecord"/>), every config, then every state.
/// </para>
/// </summary>
public sealed class HomeAssistantPublisher : BackgroundService, IIngestClientCompanion
{
    /// <summary>How often due states are looked for.</summary>
    public static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(250);

    /// <summary>Home Assistant's birth message may come often (a reader may send it); a full publish runs at most this often.</summary>
    public static readonly TimeSpan MinResyncInterval = TimeSpan.FromSeconds(2);

    private readonly HomeAssistantOptions _options;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly LogThrottle _behindLog;
    private readonly bool _embedded;
    private readonly string _dataDirectory;
    private readonly SiteModel _site;
    private readonly HomeAssistantTopics _topics;
    private readonly LiveEventHub _hub;
    private readonly OccupancyEngine _occupancy;
    private readonly StoreQueries _queries;
    private readonly IServiceProvider _services;
    private readonly TimeProvider _clock;
    private readonly ILogger<HomeAssistantPublisher> _logger;
    private readonly string _version;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, EntityState> _entities = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Sensor, string Field), EntityState> _byReading = [];
    private readonly Dictionary<string, DeviceLive> _devices = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _climateFields = new(StringComparer.Ordinal);
    private readonly HashSet<string> _climateSensors;
    private readonly Dictionary<string, Room> _rooms;
    private readonly List<HomeAssistantEntity> _newEntities = [];
    // Wakes the loop early (a full publish wanted); the loop also wakes every Tick.
    private readonly SemaphoreSlim _wake = new(0, 1);
    private volatile bool _resyncWanted;
    private Func<MqttApplicationMessage, CancellationToken, Task<bool>>? _publish;
    private MqttServer? _server;
    private DiscoveryRecord _record = new();
    private List<string> _removed = [];
    private bool _occupancyDirty = true;
    private DateTimeOffset _lastResync = DateTimeOffset.MinValue;

    public HomeAssistantPublisher(IOptions<CollectorOptions> options, SiteModel site, LiveEventHub hub, OccupancyEngine occupancy, StoreQueries queries,
        IServiceProvider services, IHostApplicationLifetime lifetime, TimeProvider clock, ILogger<HomeAssistantPublisher> logger)
    {
        _lifetime = lifetime;
        _behindLog = new LogThrottle(clock, TimeSpan.FromMinutes(1));
        _options = options.Value.HomeAssistant;
        _embedded = options.Value.Broker.Embedded;
        _dataDirectory = options.Value.DataDirectory;
        _site = site;
        _topics = new HomeAssistantTopics(_options, site.Site);
        _hub = hub;
        _occupancy = occupancy;
        _queries = queries;
        _services = services;
        _clock = clock;
        _logger = logger;
        _version = CollectorVersion();
        _climateSensors = site.Sensors.Where(s => s.Kind == ReadingKinds.Climate).Select(s => s.Id).ToHashSet(StringComparer.Ordinal);
        _rooms = site.Rooms.ToDictionary(r => r.Id, StringComparer.Ordinal);
    }

    public HomeAssistantTopics Topics => _topics;

    /// <summary>Whether it publishes at all (the outside broker's will is set only then).</summary>
    private bool Active => _options.Enabled;

    // The outside broker: the collector's connection carries the availability as its will.
    MqttApplicationMessage? IIngestClientCompanion.Will =>
        Active ? Message(_topics.Availability, Encoding.UTF8.GetBytes(HomeAssistantTopics.Offline), retain: true) : null;

    IReadOnlyList<string> IIngestClientCompanion.Filters => Active ? [_topics.HomeAssistantStatus] : [];

    bool IIngestClientCompanion.Handles(string topic) => Active && topic == _topics.HomeAssistantStatus;

    Task IIngestClientCompanion.OnMessageAsync(MqttApplicationMessage message)
    {
        NoteHomeAssistantStatus(message.Payload);
        return Task.CompletedTask;
    }

    Task IIngestClientCompanion.OnConnectedAsync(Func<MqttApplicationMessage, CancellationToken, Task<bool>> publish, CancellationToken cancellationToken)
    {
        if (Active)
        {
            // Connected anew: a will may have said "offline" meanwhile, so everything goes again.
            Volatile.Write(ref _publish, publish);
            _lastResync = DateTimeOffset.MinValue;
            RequestResync();
        }

        return Task.CompletedTask;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Active)
        {
            return;
        }

        // Once the collector has started: a host that fills history first (the demo's year, through
        // the ingest pipeline) would otherwise pay a live event per stored reading for Home Assistant.
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (_lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        using (stoppingToken.Register(() => started.TrySetCanceled(stoppingToken)))
        {
            try
            {
                await started.Task.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        var path = Path.Combine(_dataDirectory, DiscoveryRecord.FileName);
        _record = DiscoveryRecord.Load(path, out var problem);
        _removed = [.. _record.Removed];
        if (problem is not null)
        {
            _logger.LogWarning("Home Assistant: {Problem}", problem);
        }

        foreach (var (sensor, fields) in _record.Climate)
        {
            if (_climateSensors.Contains(sensor))
            {
                _climateFields[sensor] = [.. fields.Where(f => HomeAssistantEntities.ClimateQuantity(f) is not null)];
            }
        }

        var versions = Seed();
        foreach (var entity in HomeAssistantEntities.Build(_site, _climateFields.ToDictionary(p => p.Key, p => (IReadOnlySet<string>)p.Value, StringComparer.Ordinal)))
        {
            Add(entity);
        }

        _deviceVersions = versions;
        if (_embedded && _services.GetService(typeof(EmbeddedBroker)) is EmbeddedBroker { Server: { } server })
        {
            _server = server;
            server.InterceptingPublishAsync += WatchHomeAssistantStatusAsync;
            server.ClientSubscribedTopicAsync += WatchDiscoverySubscriptionsAsync;
            _publish = InjectAsync;
            RequestResync();
        }

        _logger.LogInformation("Home Assistant discovery on: {Entities} entities under {Prefix}/+/{Node}/, states below {States}/{Site}/",
            _entities.Count, _options.DiscoveryPrefix, _topics.NodeId, _options.StatePrefix, _site.Site);
        var listening = ListenAsync(stoppingToken);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                // Real time: the tick only paces the polling; what is due is decided on the clock.
                await _wake.WaitAsync(Tick, stoppingToken).ConfigureAwait(false);
                if (Volatile.Read(ref _publish) is not { } publish)
                {
                    continue;
                }

                var now = _clock.GetUtcNow();
                if (_resyncWanted && now - _lastResync >= MinResyncInterval)
                {
                    _resyncWanted = false;
                    _lastResync = now;
                    await PublishEverythingAsync(publish, path, stoppingToken).ConfigureAwait(false);
                }

                await PublishNewEntitiesAsync(publish, path, stoppingToken).ConfigureAwait(false);
                await PublishDueStatesAsync(publish, force: false, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _logger.LogError(e, "Home Assistant discovery stopped");
        }

        await listening.ConfigureAwait(false);
    }

    private IReadOnlyDictionary<string, string> _deviceVersions = new Dictionary<string, string>();

    private void RequestResync()
    {
        _resyncWanted = true;
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already woken.
        }
    }

    public override void Dispose()
    {
        _wake.Dispose();
        base.Dispose();
    }

    /// <summary>Stops publishing, then says <c>offline</c> (retained) while the connection is still there.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (!Active || Volatile.Read(ref _publish) is not { } publish)
        {
            return;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            await publish(Message(_topics.Availability, Encoding.UTF8.GetBytes(HomeAssistantTopics.Offline), retain: true), timeout.Token).ConfigureAwait(false);
            if (_server is { } server)
            {
                await DeliveredAsync(server, timeout.Token).ConfigureAwait(false);
                server.InterceptingPublishAsync -= WatchHomeAssistantStatusAsync;
                server.ClientSubscribedTopicAsync -= WatchDiscoverySubscriptionsAsync;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or MQTTnet.Exceptions.MqttCommunicationException or InvalidOperationException)
        {
            _logger.LogWarning("Home Assistant: could not publish 'offline' at the stop: {Reason}", e.Message);
        }
    }

    /// <summary>
    /// The embedded broker queues what was injected per client: the stop waits (briefly) until
    /// the subscribers' queues are empty, so Home Assistant hears "offline" before the broker closes.
    /// </summary>
    private static async Task DeliveredAsync(MqttServer server, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var clients = await server.GetClientsAsync().ConfigureAwait(false);
            if (clients.All(c => c.Session is null || c.Session.PendingApplicationMessagesCount == 0))
            {
                return;
            }

            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
        }
    }

    private Task WatchHomeAssistantStatusAsync(InterceptingPublishEventArgs e)
    {
        if (e.ProcessPublish && e.ApplicationMessage.Topic == _topics.HomeAssistantStatus && !string.IsNullOrEmpty(e.ClientId))
        {
            NoteHomeAssistantStatus(e.ApplicationMessage.Payload);
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// MQTTnet's server reads the retained messages for a new subscription before it adds the
    /// subscription, so a config injected in between reaches that subscriber neither retained nor
    /// live (seen: one of 48 configs missing for good after a restart). A subscription that covers
    /// the discovery configs therefore asks for a full publish (at most every
    /// <see cref="MinResyncInterval"/>), as Home Assistant's birth message does.
    /// </summary>
    private Task WatchDiscoverySubscriptionsAsync(ClientSubscribedTopicEventArgs e)
    {
        if (!string.IsNullOrEmpty(e.ClientId) && e.TopicFilter.Topic is { Length: > 0 } filter
            && MqttTopicFilterComparer.Compare(_topics.Config("sensor", "any"), filter) == MqttTopicFilterCompareResult.IsMatch)
        {
            RequestResync();
        }

        return Task.CompletedTask;
    }

    private void NoteHomeAssistantStatus(System.Buffers.ReadOnlySequence<byte> payload)
    {
        // Only the exact birth payload counts; anything longer is not worth reading.
        if (payload.Length == HomeAssistantTopics.Online.Length && Encoding.UTF8.GetString(payload) == HomeAssistantTopics.Online)
        {
            _logger.LogInformation("Home Assistant announced itself: publishing discovery again");
            RequestResync();
        }
    }

    private async Task<bool> InjectAsync(MqttApplicationMessage message, CancellationToken cancellationToken)
    {
        if (_server is not { IsStarted: true } server)
        {
            return false;
        }

        await server.InjectApplicationMessage(new InjectedMqttApplicationMessage(message), cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>The device table from the store: last state, last seen and version of each Pi of the site file.</summary>
    private IReadOnlyDictionary<string, string> Seed()
    {
        var versions = new Dictionary<string, string>(StringComparer.Ordinal);
        var known = _site.Devices.ToHashSet(StringComparer.Ordinal);
        foreach (var device in known)
        {
            _devices[device] = new DeviceLive();
        }

        try
        {
            foreach (var row in _queries.Devices().Where(d => d.Site == _site.Site && known.Contains(d.Device)))
            {
                _devices[row.Device] = new DeviceLive { State = row.State, LastSeen = row.LastSeen };
                if (!string.IsNullOrEmpty(row.Version))
                {
                    versions[row.Device] = row.Version;
                }
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _logger.LogWarning(e, "Home Assistant: the devices' last states could not be read; they show offline until they report");
        }

        return versions;
    }

    private void Add(HomeAssistantEntity entity)
    {
        var state = new EntityState(entity);
        _entities[entity.ObjectId] = state;
        if (entity is { Sensor: { } sensor, Field: { } field })
        {
            _byReading[(sensor, field)] = state;
        }
    }

    /// <summary>Live events into the table of latest values; a dropped subscription is taken up again.</summary>
    private async Task ListenAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            using var subscription = _hub.Subscribe(_site.Site);
            lock (_gate)
            {
                _occupancyDirty = true;
            }

            try
            {
                while (await subscription.WaitAsync(cancellationToken).ConfigureAwait(false))
                {
                    while (subscription.TryTake(out var batch))
                    {
                        Take(batch.Events);
                    }
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (subscription.IsDropped)
            {
                if (_behindLog.TryTake(out var times))
                {
                    _logger.LogWarning("Home Assistant fell behind the live stream and takes it up again; states are re-read ({Times} more times since the last line)", times);
                }
            }
            else
            {
                return;
            }
        }
    }

    private void Take(IReadOnlyList<LiveEvent> events)
    {
        var now = _clock.GetUtcNow();
        lock (_gate)
        {
            foreach (var e in events)
            {
                switch (e)
                {
                    case OccupancyEvent:
                        _occupancyDirty = true;
                        break;
                    case DeviceEvent d when _devices.TryGetValue(d.Device, out var device):
                        device.State = d.State;
                        device.LastSeen = now;
                        break;
                    case ReadingEvent { Values: { } values } r:
                        if (_devices.TryGetValue(r.Device, out var sender))
                        {
                            // A stored reading proves the Pi is up, whatever its last status said.
                            sender.State = "online";
                            sender.LastSeen = now;
                        }

                        foreach (var (field, value) in values)
                        {
                            if (_byReading.TryGetValue((r.Sensor, field), out var entity))
                            {
                                entity.Latest = StateText.Number(value);
                            }
                            else if (r.Kind == ReadingKinds.Climate && _climateSensors.Contains(r.Sensor) && HomeAssistantEntities.ClimateQuantity(field) is { } quantity)
                            {
                                // A value this climate sensor had not reported before: its entity
                                // appears now (bounded: the sensors of the site file times four).
                                var created = HomeAssistantEntities.Build(_site, new Dictionary<string, IReadOnlySet<string>> { [r.Sensor] = new HashSet<string> { quantity.Field } })
                                    .Single(x => x.Sensor == r.Sensor && x.Field == quantity.Field);
                                Add(created);
                                _byReading[(r.Sensor, field)].Latest = StateText.Number(value);
                                (_climateFields.TryGetValue(r.Sensor, out var fields) ? fields : _climateFields[r.Sensor] = []).Add(field);
                                _newEntities.Add(created);
                            }
                        }

                        break;
                }
            }
        }
    }

    private async Task PublishEverythingAsync(Func<MqttApplicationMessage, CancellationToken, Task<bool>> publish, string recordPath, CancellationToken cancellationToken)
    {
        if (!await publish(Message(_topics.Availability, Encoding.UTF8.GetBytes(HomeAssistantTopics.Online), retain: true), cancellationToken).ConfigureAwait(false))
        {
            // Not connected: the reconnect asks for a full publish again.
            return;
        }

        List<HomeAssistantEntity> entities;
        lock (_gate)
        {
            entities = [.. _entities.Values.Select(s => s.Entity)];
            _newEntities.Clear();
        }

        var current = entities.Select(e => _topics.Config(e.Component, e.ObjectId)).ToHashSet(StringComparer.Ordinal);
        var removed = _record.Configs.Where(t => !current.Contains(t) && _topics.IsOwnConfigTopic(t)).Distinct(StringComparer.Ordinal).ToList();
        if (removed.Count > 0)
        {
            _logger.LogInformation("Home Assistant: removing {Count} entities no longer in the site file", removed.Count);
        }

        // Removed this time first, then those removed before (again: Home Assistant may have been away).
        _removed = [.. removed.Concat(_record.Removed.Where(t => !current.Contains(t) && _topics.IsOwnConfigTopic(t))).Distinct(StringComparer.Ordinal).Take(DiscoveryRecord.MaxRemoved)];
        foreach (var topic in _removed)
        {
            await publish(Message(topic, [], retain: true), cancellationToken).ConfigureAwait(false);
        }

        foreach (var entity in entities)
        {
            await publish(Message(_topics.Config(entity.Component, entity.ObjectId), DiscoveryConfig.Build(entity, _topics, _site, _version, _deviceVersions), retain: true), cancellationToken).ConfigureAwait(false);
        }

        SaveRecord(recordPath, current);
        await PublishDueStatesAsync(publish, force: true, cancellationToken).ConfigureAwait(false);
    }

    private async Task PublishNewEntitiesAsync(Func<MqttApplicationMessage, CancellationToken, Task<bool>> publish, string recordPath, CancellationToken cancellationToken)
    {
        List<HomeAssistantEntity> fresh;
        HashSet<string> current;
        lock (_gate)
        {
            if (_newEntities.Count == 0)
            {
                return;
            }

            fresh = [.. _newEntities];
            _newEntities.Clear();
            current = _entities.Values.Select(s => _topics.Config(s.Entity.Component, s.Entity.ObjectId)).ToHashSet(StringComparer.Ordinal);
        }

        foreach (var entity in fresh)
        {
            await publish(Message(_topics.Config(entity.Component, entity.ObjectId), DiscoveryConfig.Build(entity, _topics, _site, _version, _deviceVersions), retain: true), cancellationToken).ConfigureAwait(false);
        }

        SaveRecord(recordPath, current);
    }

    private void SaveRecord(string path, HashSet<string> configs)
    {
        lock (_gate)
        {
            _record = new DiscoveryRecord
            {
                Configs = [.. configs.Order(StringComparer.Ordinal)],
                Removed = [.. _removed],
                Climate = _climateFields.ToDictionary(p => p.Key, p => p.Value.Order(StringComparer.Ordinal).ToList(), StringComparer.Ordinal),
            };
        }

        try
        {
            _record.Save(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning("Home Assistant: cannot write {Path} ({Reason}); entities removed from the site file before the next start stay in Home Assistant", path, e.Message);
        }
    }

    /// <summary>Each entity whose latest state differs from the one published, once its interval has passed (all of them when forced).</summary>
    private async Task PublishDueStatesAsync(Func<MqttApplicationMessage, CancellationToken, Task<bool>> publish, bool force, CancellationToken cancellationToken)
    {
        var now = _clock.GetUtcNow();
        var due = new List<(string Topic, byte[] Payload, EntityState State, string Value, bool Attributes)>();
        lock (_gate)
        {
            Refresh(now);
            foreach (var state in _entities.Values)
            {
                if (state.Latest is not { } latest || (!force && (latest == state.Published || now - state.LastSent < Interval(state.Entity.Cadence))))
                {
                    continue;
                }

                due.Add((_topics.State(state.Entity.ObjectId), Encoding.UTF8.GetBytes(latest), state, latest, false));
                if (state.Entity.Room is { } roomId && _rooms.TryGetValue(roomId, out var room) && long.TryParse(latest, out var count))
                {
                    var attributes = DiscoveryConfig.RoomAttributes(room, count);
                    if (force || state.PublishedAttributes is null || !attributes.AsSpan().SequenceEqual(state.PublishedAttributes))
                    {
                        due.Add((_topics.Attributes(state.Entity.ObjectId), attributes, state, latest, true));
                    }
                }
            }
        }

        foreach (var (topic, payload, state, value, attributes) in due)
        {
            if (!await publish(Message(topic, payload, retain: true), cancellationToken).ConfigureAwait(false))
            {
                return;
            }

            lock (_gate)
            {
                if (attributes)
                {
                    state.PublishedAttributes = payload;
                }
                else
                {
                    state.Published = value;
                    state.LastSent = now;
                }
            }
        }
    }

    /// <summary>Occupancy from the engine (when it changed), each Pi's online state from its last status and how long it has been silent.</summary>
    private void Refresh(DateTimeOffset now)
    {
        if (_occupancyDirty)
        {
            _occupancyDirty = false;
            var snapshot = _occupancy.Snapshot();
            foreach (var room in snapshot.Rooms)
            {
                if (_entities.TryGetValue($"room-{room.Room}-occupancy", out var state))
                {
                    state.Latest = room.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
                }
            }

            if (_entities.TryGetValue("building-occupancy", out var building))
            {
                building.Latest = snapshot.Building.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        foreach (var (device, live) in _devices)
        {
            if (_entities.TryGetValue($"device-{device}-online", out var state))
            {
                var online = live.State == "online" && live.LastSeen is { } seen && now - seen <= DevicesApi.OfflineAfter;
                state.Latest = online ? StateText.On : StateText.Off;
            }
        }
    }

    private TimeSpan Interval(StateCadence cadence) => cadence switch
    {
        StateCadence.Occupancy => _options.OccupancyInterval,
        StateCadence.Measurement => _options.StateInterval,
        _ => TimeSpan.Zero,
    };

    private static MqttApplicationMessage Message(string topic, byte[] payload, bool retain) =>
        new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(payload)
            .WithRetainFlag(retain)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build();

    private static string CollectorVersion()
    {
        var version = typeof(HomeAssistantPublisher).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        var plus = version.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? version : version[..plus];
    }

    private sealed class EntityState(HomeAssistantEntity entity)
    {
        public HomeAssistantEntity Entity => entity;

        public string? Latest { get; set; }

        public string? Published { get; set; }

        public byte[]? PublishedAttributes { get; set; }

        public DateTimeOffset LastSent { get; set; } = DateTimeOffset.MinValue;
    }

    private sealed class DeviceLive
    {
        public string State { get; set; } = "never-seen";

        public DateTimeOffset? LastSeen { get; set; }
    }
}
