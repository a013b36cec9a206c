using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Metrics;

namespace NewTechPark.Edge.Collector.Live;

/// <summary>An event on <c>/api/v1/stream</c>; <see cref="Type"/> is the SSE event name.</summary>
[JsonPolymorphic]
[JsonDerivedType(typeof(OccupancyEvent))]
[JsonDerivedType(typeof(ReadingEvent))]
[JsonDerivedType(typeof(DeviceEvent))]
[JsonDerivedType(typeof(NewTechPark.Edge.Collector.Occupancy.CapacityEvent))]
public abstract record LiveEvent
{
    [JsonIgnore]
    public abstract string Type { get; }

    /// <summary>
    /// The site the event belongs to: a stream asked for one site (<c>?site=</c>) gets only that
    /// site's events. Written last, so the fields of earlier versions keep their place.
    /// </summary>
    [JsonPropertyOrder(1000)]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Site { get; init; }
}

/// <summary>A room's occupancy changed.</summary>
public sealed record OccupancyEvent(string Room, long Count, int Capacity, DateTimeOffset Ts, long Building) : LiveEvent
{
    public override string Type => "occupancy";
}

/// <summary>A reading was stored.</summary>
public sealed record ReadingEvent(string Device, string Sensor, string Kind, DateTimeOffset Ts, IReadOnlyDictionary<string, double>? Values) : LiveEvent
{
    public override string Type => "reading";
}

/// <summary>A device came online, went offline or sent a heartbeat.</summary>
public sealed record DeviceEvent(string Device, string State, DateTimeOffset Ts) : LiveEvent
{
    public override string Type => "device";
}

/// <summary>
/// Events that go out together (one commit group's), shared by every stream client: formatted as
/// server-sent events once, by the first client that writes them. A client of one site gets the
/// batch's part of that site (<see cref="For"/>), itself a batch formatted once for all that site's clients.
/// </summary>
public sealed class LiveBatch(IReadOnlyList<LiveEvent> events)
{
    private byte[]? _sse;
    private Dictionary<string, LiveBatch>? _bySite;

    public IReadOnlyList<LiveEvent> Events => events;

    public int Count => events.Count;

    /// <summary>
    /// The events of one site, in order: this batch itself when all its events are of that site,
    /// null when none is. Split once, on the first call; called by the fan-out task only. An event
    /// without a site belongs to no site.
    /// </summary>
    public LiveBatch? For(string site)
    {
        if (_bySite is null)
        {
            _bySite = new Dictionary<string, LiveBatch>(StringComparer.Ordinal);
            var first = events.Count > 0 ? events[0].Site : null;
            var one = first is not null;
            foreach (var e in events)
            {
                if (!string.Equals(e.Site, first, StringComparison.Ordinal))
                {
                    one = false;
                    break;
                }
            }

            if (one)
            {
                _bySite[first!] = this;
            }
            else
            {
                var parts = new Dictionary<string, List<LiveEvent>>(StringComparer.Ordinal);
                foreach (var e in events)
                {
                    if (e.Site is { } id)
                    {
                        if (!parts.TryGetValue(id, out var part))
                        {
                            parts[id] = part = [];
                        }

                        part.Add(e);
                    }
                }

                foreach (var (id, part) in parts)
                {
                    _bySite[id] = new LiveBatch(part);
                }
            }
        }

        return _bySite.GetValueOrDefault(site);
    }

    /// <summary><c>event: {type}\ndata: {json}\n\n</c> per event, in the API's JSON style.</summary>
    public ReadOnlyMemory<byte> Sse(JsonSerializerOptions json)
    {
        if (Volatile.Read(ref _sse) is { } formatted)
        {
            return formatted;
        }

        var buffer = new ArrayBufferWriter<byte>(Math.Max(256, events.Count * 160));
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = json.Encoder, SkipValidation = true }))
        {
            foreach (var e in events)
            {
                buffer.Write("event: "u8);
                Encoding.UTF8.GetBytes(e.Type, buffer);
                buffer.Write("\ndata: "u8);
                // Compact JSON has no line breaks (strings escape them), so one data line holds it.
                JsonSerializer.Serialize(writer, e, e.GetType(), json);
                writer.Flush();
                writer.Reset();
                buffer.Write("\n\n"u8);
            }
        }

        // Two clients formatting at once make the same bytes; either copy may stay.
        var bytes = buffer.WrittenSpan.ToArray();
        return Interlocked.CompareExchange(ref _sse, bytes, null) ?? bytes;
    }
}

/// <summary>
/// One stream client's place at the hub: a buffer bounded in events. A client whose buffer would
/// pass the bound is dropped (<see cref="Dropped"/> fires, the buffer ends), never waited for.
/// </summary>
public sealed class LiveSubscription : IDisposable
{
    private readonly LiveEventHub _hub;
    private readonly int _capacity;
    private readonly Channel<LiveBatch> _buffer = Channel.CreateUnbounded<LiveBatch>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly CancellationTokenSource _dropped = new();
    private long _events;
    private int _isDropped;

    internal LiveSubscription(LiveEventHub hub, int capacity, string? site)
    {
        _hub = hub;
        _capacity = capacity;
        Site = site;
    }

    /// <summary>The one site whose events this client gets; null: every site's (the collector's own listeners).</summary>
    public string? Site { get; }

    /// <summary>Fires when the client fell too far behind and was dropped.</summary>
    public CancellationToken Dropped => _dropped.Token;

    public bool IsDropped => Volatile.Read(ref _isDropped) == 1;

    /// <summary>Events waiting to be written.</summary>
    public long Buffered => Interlocked.Read(ref _events);

    /// <summary>Waits until something is buffered; false once the subscription ended (dropped, or the hub stopped).</summary>
    public ValueTask<bool> WaitAsync(CancellationToken cancellationToken) => _buffer.Reader.WaitToReadAsync(cancellationToken);

    /// <summary>Takes the oldest buffered batch.</summary>
    public bool TryTake(out LiveBatch batch)
    {
        if (_buffer.Reader.TryRead(out batch!))
        {
            Interlocked.Add(ref _events, -batch.Count);
            return true;
        }

        return false;
    }

    /// <summary>
    /// From the fan-out task: false when the batch does not fit (the caller drops this client). An
    /// empty buffer takes a batch of any size, so one large commit group does not drop a client
    /// that keeps up.
    /// </summary>
    internal bool Offer(LiveBatch batch)
    {
        var now = Interlocked.Add(ref _events, batch.Count);
        if (now > _capacity && now - batch.Count > 0)
        {
            Interlocked.Add(ref _events, -batch.Count);
            return false;
        }

        // Fails only once the subscription ended: nothing to deliver to.
        _buffer.Writer.TryWrite(batch);
        return true;
    }

    /// <summary>Ends the subscription: the reader sees the end, what it had not taken is let go.</summary>
    internal bool Drop()
    {
        if (Interlocked.Exchange(ref _isDropped, 1) == 1)
        {
            return false;
        }

        End();
        // Off the fan-out task: cancellation runs the client's callbacks (its pending write).
        _ = _dropped.CancelAsync();
        return true;
    }

    internal void End()
    {
        _buffer.Writer.TryComplete();
        while (TryTake(out _))
        {
        }
    }

    public void Dispose()
    {
        _hub.Remove(this);
        End();
    }
}

/// <summary>
/// Fans live events out to every stream client, off the commit loop: the commit loop hands one
/// batch per commit group to a bounded fan-out queue (a write, never a wait; when the queue is
/// full the batch is dropped and counted), and the hub's own task copies each batch to every
/// client's bounded buffer. A client that cannot keep up is dropped (counted), never waited for.
/// </summary>
public sealed class LiveEventHub : IDisposable
{
    /// <summary>Events waiting for the fan-out task, at most (a few seconds of the busiest ingest).</summary>
    public const int FanOutCapacityEvents = 200_000;

    [ThreadStatic]
    private static Gathering? t_gathering;

    private readonly CollectorMetrics _metrics;
    private readonly int _clientBuffer;
    private readonly Channel<LiveBatch> _fanOut = Channel.CreateUnbounded<LiveBatch>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _gate = new();
    private readonly Task _fanning;
    private LiveSubscription[] _subscribers = [];
    private long _fanOutEvents;

    public LiveEventHub(CollectorMetrics metrics, IOptions<CollectorOptions>? options = null)
    {
        _metrics = metrics;
        _clientBuffer = (options?.Value ?? new CollectorOptions()).Stream.ClientBufferEvents;
        _fanning = Task.Run(FanOutAsync);
    }

    public int Subscribers => Volatile.Read(ref _subscribers).Length;

    /// <summary>Events waiting for the fan-out task.</summary>
    public long FanOutQueued => Interlocked.Read(ref _fanOutEvents);

    /// <summary>One event; inside <see cref="Gather"/> on this thread, it joins the gathered batch.</summary>
    public void Publish(LiveEvent e)
    {
        if (t_gathering is { } gathering && gathering.Hub == this)
        {
            gathering.Events.Add(e);
            return;
        }

        if (Subscribers > 0)
        {
            Publish([e]);
        }
    }

    /// <summary>Hands events to the fan-out as one batch: a queue write, never a wait.</summary>
    public void Publish(IReadOnlyList<LiveEvent> events)
    {
        if (events.Count == 0 || Subscribers == 0)
        {
            return;
        }

        var queued = Interlocked.Add(ref _fanOutEvents, events.Count);
        if (queued > FanOutCapacityEvents && queued - events.Count > 0)
        {
            Interlocked.Add(ref _fanOutEvents, -events.Count);
            _metrics.StreamEventsDropped.Inc(events.Count);
            return;
        }

        _fanOut.Writer.TryWrite(new LiveBatch(events));
    }

    /// <summary>
    /// Until the returned scope ends, what this thread publishes to this hub (occupancy changes
    /// among readings) is gathered, in order, and handed to the fan-out as one batch.
    /// </summary>
    public IDisposable Gather()
    {
        var gathering = new Gathering(this, t_gathering);
        t_gathering = gathering;
        return gathering;
    }

    /// <summary>
    /// A new client's subscription: events from now on (of <paramref name="site"/> only, when given),
    /// into a buffer bounded by <c>Collector:Stream:ClientBufferEvents</c>.
    /// </summary>
    public LiveSubscription Subscribe(string? site = null)
    {
        var subscription = new LiveSubscription(this, _clientBuffer, site);
        lock (_gate)
        {
            _subscribers = [.. _subscribers, subscription];
        }

        return subscription;
    }

    /// <summary>Events from now on, until <paramref name="cancellationToken"/> ends the subscription or the client is dropped.</summary>
    public async IAsyncEnumerable<LiveEvent> SubscribeAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken, string? site = null)
    {
        using var subscription = Subscribe(site);
        while (await subscription.WaitAsync(cancellationToken).ConfigureAwait(false))
        {
            while (subscription.TryTake(out var batch))
            {
                foreach (var e in batch.Events)
                {
                    yield return e;
                }
            }
        }
    }

    internal void Remove(LiveSubscription subscription)
    {
        lock (_gate)
        {
            _subscribers = [.. _subscribers.Where(s => s != subscription)];
        }
    }

    private async Task FanOutAsync()
    {
        await foreach (var batch in _fanOut.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            Interlocked.Add(ref _fanOutEvents, -batch.Count);
            foreach (var subscriber in Volatile.Read(ref _subscribers))
            {
                // A site's part is split and formatted once for all that site's clients.
                var part = subscriber.Site is { } site ? batch.For(site) : batch;
                if (part is null)
                {
                    continue;
                }

                if (!subscriber.Offer(part) && subscriber.Drop())
                {
                    Remove(subscriber);
                    _metrics.StreamClientsDropped.WithLabels("slow").Inc();
                }
            }
        }
    }

    /// <summary>Stops the fan-out and ends every subscription.</summary>
    public void Dispose()
    {
        _fanOut.Writer.TryComplete();
        LiveSubscription[] subscribers;
        lock (_gate)
        {
            subscribers = _subscribers;
            _subscribers = [];
        }

        foreach (var subscriber in subscribers)
        {
            subscriber.End();
        }

        _fanning.Wait(TimeSpan.FromSeconds(5));
    }

    private sealed class Gathering(LiveEventHub hub, Gathering? outer) : IDisposable
    {
        public LiveEventHub Hub => hub;

        public List<LiveEvent> Events { get; } = [];

        public void Dispose()
        {
            t_gathering = outer;
            hub.Publish(Events);
        }
    }
}
