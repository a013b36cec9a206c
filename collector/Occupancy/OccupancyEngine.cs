using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Live;
using NewTechPark.Edge.Collector.Metrics;
using NewTechPark.Edge.Collector.Site;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Collector.Occupancy;

/// <summary>A room's occupancy now.</summary>
/// <remarks><see cref="CapacityLevel"/>: ok, warning (90 % and up) or full (100 % and up), as on the stream; <see cref="LevelSince"/>: when the room reached that level (null: not since this start).</remarks>
public sealed record RoomOccupancy(string Room, string NameNl, string NameEn, long Count, int Capacity, double Utilisation, DateTimeOffset? LastChange, long Drift, string CapacityLevel, DateTimeOffset? LevelSince = null);

/// <summary>Every room's occupancy and the building total.</summary>
public sealed record OccupancySnapshot(DateTimeOffset Ts, long Building, IReadOnlyList<RoomOccupancy> Rooms);

/// <summary>
/// Live occupancy from door crossings: a crossing into a door's <c>to</c> room adds one there and
/// takes one from its <c>from</c> room. The building total counts the outside doors. A count never
/// goes below zero; the shortfall is kept as drift per room. Every room starts at zero again at
/// the daily reset time (local).
/// </summary>
public sealed class OccupancyEngine
{
    private readonly Lock _gate = new();
    private readonly SiteModel _site;
    private readonly LiveEventHub _hub;
    private readonly CollectorMetrics _metrics;
    private readonly TimeProvider _clock;
    private readonly TimeZoneInfo _zone;
    private readonly TimeSpan _resetAt;
    private readonly Dictionary<string, Door> _doors;
    private readonly Dictionary<string, RoomState> _rooms;
    private readonly DoorTotals _totals;
    private long _building;
    private DateTimeOffset _nextReset;

    public OccupancyEngine(SiteModel site, LiveEventHub hub, CollectorMetrics metrics, TimeProvider clock, IOptions<CollectorOptions> options)
    {
        _site = site;
        _hub = hub;
        _metrics = metrics;
        _clock = clock;
        _zone = TimeZoneInfo.FindSystemTimeZoneById(site.TimeZone);
        _resetAt = options.Value.Occupancy.DailyReset;
        _doors = site.Doors.ToDictionary(d => d.Id, StringComparer.Ordinal);
        _rooms = site.Rooms.ToDictionary(r => r.Id, r => new RoomState(r), StringComparer.Ordinal);
        _totals = new DoorTotals(options.Value.Occupancy.MaxDoorGap);
        LastReset = PreviousReset(clock.GetUtcNow());
        _nextReset = NextReset(LastReset);
    }

    /// <summary>The moment of the most recent daily reset; crossings before it do not count.</summary>
    public DateTimeOffset LastReset { get; private set; }

    public bool IsDoor(string sensor) => _doors.ContainsKey(sensor);

    public SiteModel Site => _site;

    /// <summary>Crossings the door totals brought back from missing readings, since start.</summary>
    public long RecoveredCrossings
    {
        get
        {
            lock (_gate)
            {
                return _totals.Recovered;
            }
        }
    }

    /// <summary>Applies one door reading: its crossings, plus any its totals show were lost before it.</summary>
    public bool Apply(Reading reading, bool publish = true)
    {
        if (reading.Kind != ReadingKinds.Door || reading.Values is not { } v)
        {
            return false;
        }

        return Apply(reading.Sensor, Saturating.Count(v.GetValueOrDefault(ReadingKinds.DoorValues.In)), Saturating.Count(v.GetValueOrDefault(ReadingKinds.DoorValues.Out)),
            v.TryGetValue(ReadingKinds.DoorValues.InTotal, out var inTotal) ? inTotal : null,
            v.TryGetValue(ReadingKinds.DoorValues.OutTotal, out var outTotal) ? outTotal : null,
            reading.Ts, publish);
    }

    /// <summary>Seeds a door's totals from its last reading before a replay, so the first reading after it can close a gap.</summary>
    public void SeedTotals(string door, DateTimeOffset at, double inTotal, double outTotal)
    {
        lock (_gate)
        {
            _totals.Seed(door, at.ToUnixTimeMilliseconds(), inTotal, outTotal);
        }
    }

    /// <summary>Applies crossings of one door with its totals (gap closing); returns false for an unknown door.</summary>
    public bool Apply(string door, long entered, long left, double? inTotal, double? outTotal, DateTimeOffset at, bool publish = true)
    {
        if (!_doors.ContainsKey(door))
        {
            return false;
        }

        lock (_gate)
        {
            (entered, left) = _totals.Crossings(door, at.ToUnixTimeMilliseconds(), entered, left, inTotal, outTotal);
        }

        return entered == 0 && left == 0 || Apply(door, entered, left, at, publish);
    }

    /// <summary>
    /// A staff correction: the room holds <paramref name="count"/> people from <paramref name="at"/>
    /// on. Returns the count it replaced, or null for an unknown room. The building total is not
    /// changed (it counts the outside doors).
    /// </summary>
    public long? Correct(string room, long count, DateTimeOffset at, bool publish = true)
    {
        if (!_rooms.TryGetValue(room, out var state) || count < 0)
        {
            return null;
        }

        List<LiveEvent>? events = publish ? [] : null;
        lock (_gate)
        {
            ResetIfDue(events);
            var previous = state.Count;
            if (at >= LastReset)
            {
                Move(room, count - previous, at, events);
            }

            Publish(events);
            return previous;
        }
    }

    /// <summary>Applies crossings of one door at <paramref name="at"/>; returns false for an unknown door.</summary>
    public bool Apply(string door, long entered, long left, DateTimeOffset at, bool publish = true)
    {
        if (!_doors.TryGetValue(door, out var d) || (entered == 0 && left == 0))
        {
            return false;
        }

        List<LiveEvent>? events = publish ? [] : null;
        lock (_gate)
        {
            ResetIfDue(events);
            if (at < LastReset)
            {
                // A late crossing from before the reset belongs to a finished day.
                return true;
            }

            var net = Saturating.Add(entered, left == long.MinValue ? long.MaxValue : -left);
            Move(d.To, net, at, events);
            if (d.From == SiteModel.Outside)
            {
                _building = Math.Max(0, Saturating.Add(_building, net));
            }
            else
            {
                Move(d.From, net == long.MinValue ? long.MaxValue : -net, at, events);
            }

            Publish(events);
        }

        return true;
    }

    /// <summary>The capacity level of a count: ok, warning (90 % and up) or full (100 % and up).</summary>
    public static string CapacityLevel(long count, int capacity) =>
        capacity <= 0 ? CapacityEvent.Ok : count >= capacity ? CapacityEvent.Full : count * 100 >= capacity * 90L ? CapacityEvent.Warning : CapacityEvent.Ok;

    private void Publish(List<LiveEvent>? events)
    {
        if (events is null)
        {
            return;
        }

        foreach (var e in events)
        {
            _hub.Publish(e is OccupancyEvent o ? o with { Building = _building } : e);
        }
    }

    public OccupancySnapshot Snapshot()
    {
        lock (_gate)
        {
            ResetIfDue(null);
            var rooms = _site.Rooms.Select(r =>
            {
                var s = _rooms[r.Id];
                return new RoomOccupancy(r.Id, r.Name.Nl, r.Name.En, s.Count, r.Capacity, Math.Round((double)s.Count / r.Capacity, 3), s.LastChange, s.Drift, s.Level, s.LevelSince);
            }).ToList();
            return new OccupancySnapshot(_clock.GetUtcNow(), _building, rooms);
        }
    }

    private void Move(string roomId, long delta, DateTimeOffset at, List<LiveEvent>? events)
    {
        if (delta == 0 || !_rooms.TryGetValue(roomId, out var room))
        {
            return;
        }

        var next = Saturating.Add(room.Count, delta);
        if (next < 0)
        {
            var shortfall = next == long.MinValue ? long.MaxValue : -next;
            room.Drift = Saturating.Add(room.Drift, shortfall);
            _metrics.OccupancyDrift.WithLabels(roomId).Inc(shortfall);
            next = 0;
        }

        room.Count = next;
        room.LastChange = at;
        _metrics.Occupancy.WithLabels(roomId).Set(next);
        events?.Add(new OccupancyEvent(roomId, next, room.Room.Capacity, at, 0) { Site = _site.Site });
        var level = CapacityLevel(next, room.Room.Capacity);
        if (level != room.Level)
        {
            room.Level = level;
            room.LevelSince = at;
            events?.Add(new CapacityEvent(roomId, level, next, room.Room.Capacity, at) { Site = _site.Site });
        }
    }

    private void ResetIfDue(List<LiveEvent>? events)
    {
        var now = _clock.GetUtcNow();
        if (now < _nextReset)
        {
            return;
        }

        LastReset = PreviousReset(now);
        _nextReset = NextReset(LastReset);
        _building = 0;
        foreach (var room in _rooms.Values)
        {
            room.Count = 0;
            room.LastChange = LastReset;
            _metrics.Occupancy.WithLabels(room.Room.Id).Set(0);
            events?.Add(new OccupancyEvent(room.Room.Id, 0, room.Room.Capacity, LastReset, 0) { Site = _site.Site });
            if (room.Level != CapacityEvent.Ok)
            {
                room.Level = CapacityEvent.Ok;
                room.LevelSince = LastReset;
                events?.Add(new CapacityEvent(room.Room.Id, CapacityEvent.Ok, 0, room.Room.Capacity, LastReset) { Site = _site.Site });
            }
        }
    }

    /// <summary>The latest local reset time at or before <paramref name="now"/>.</summary>
    private DateTimeOffset PreviousReset(DateTimeOffset now)
    {
        var local = TimeZoneInfo.ConvertTime(now, _zone);
        var candidate = local.Date + _resetAt;
        if (candidate > local.DateTime)
        {
            candidate = candidate.AddDays(-1);
        }

        return ToUtc(candidate);
    }

    private DateTimeOffset NextReset(DateTimeOffset lastReset)
    {
        var local = TimeZoneInfo.ConvertTime(lastReset, _zone);
        return ToUtc(local.Date.AddDays(1) + _resetAt);
    }

    /// <summary>Local wall-clock time to UTC; a time skipped by the spring change moves an hour on.</summary>
    private DateTimeOffset ToUtc(DateTime local)
    {
        var unspecified = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        if (_zone.IsInvalidTime(unspecified))
        {
            unspecified = unspecified.AddHours(1);
        }

        return new DateTimeOffset(unspecified, _zone.GetUtcOffset(unspecified)).ToUniversalTime();
    }

    private sealed class RoomState(Room room)
    {
        public Room Room { get; } = room;

        public long Count { get; set; }

        public long Drift { get; set; }

        public DateTimeOffset? LastChange { get; set; }

        public string Level { get; set; } = CapacityEvent.Ok;

        public DateTimeOffset? LevelSince { get; set; }
    }
}
