using System.Text.Json.Serialization;
using System.Threading.Channels;
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
/// Fans live events out to every stream subscriber. Each subscriber has its own bounded queue; a
/// subscriber that cannot keep up loses its oldest events (counted), never slows ingest down.
/// </summary>
public sealed class LiveEventHub(CollectorMetrics metrics)
{
    public const int SubscriberCapacity = 4096;

    private readonly Lock _gate = new();
    private Channel<LiveEvent>[] _subscribers = [];

    public int Subscribers => Volatile.Read(ref _subscribers).Length;

    public void Publish(LiveEvent e)
    {
        foreach (var subscriber in Volatile.Read(ref _subscribers))
        {
            if (!subscriber.Writer.TryWrite(e))
            {
                metrics.StreamEventsDropped.Inc();
            }
        }
    }

    /// <summary>Events from now on, until <paramref name="cancellationToken"/> ends the subscription.</summary>
    public async IAsyncEnumerable<LiveEvent> SubscribeAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<LiveEvent>(new BoundedChannelOptions(SubscriberCapacity)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
        }, _ => metrics.StreamEventsDropped.Inc());
        lock (_gate)
        {
            _subscribers = [.. _subscribers, channel];
        }

        try
        {
            await foreach (var e in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return e;
            }
        }
        finally
        {
            lock (_gate)
            {
                _subscribers = [.. _subscribers.Where(s => s != channel)];
            }
        }
    }
}
