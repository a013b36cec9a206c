using System.Device.Gpio;
using NewTechPark.Edge.Collector.Site;

namespace NewTechPark.Edge.Collector.Demo;

/// <summary>
/// A day at NewTechPark in miniature: a school class arriving for Technodiscovery, walk-in
/// visitors who look around the hall and visit a few rooms, and DC-Lab benches with experiments
/// running. People are simulated one by one; every move through a door is played as the four
/// beam edges a real body makes, into the simulated GPIO drivers, so the agents' real readers
/// count them. Deterministic for a seed.
/// </summary>
public sealed class DemoScenario
{
    /// <summary>Beam timings of a person walking through at normal pace.</summary>
    private static readonly TimeSpan[] Steps = [TimeSpan.Zero, TimeSpan.FromMilliseconds(140), TimeSpan.FromMilliseconds(330), TimeSpan.FromMilliseconds(480)];
    private static readonly TimeSpan DoorGap = TimeSpan.FromMilliseconds(250);

    private readonly SiteModel _site;
    private readonly DemoSite _demo;
    private readonly Random _random;
    private readonly double _arrivalsPerMinute;
    private readonly PriorityQueue<Action, DateTimeOffset> _timeline = new();
    private readonly Dictionary<string, SimulatedDoor> _doorsInto;
    private readonly Dictionary<string, DateTimeOffset> _doorFree = [];
    private readonly List<Room> _rooms;
    private readonly string _hall;
    private DateTimeOffset _nextArrival;
    private int _people;

    public DemoScenario(SiteModel site, DemoSite demo, int seed, double arrivalsPerMinute)
    {
        _site = site;
        _demo = demo;
        _random = new Random(seed);
        _arrivalsPerMinute = arrivalsPerMinute;
        // Each room is entered through the simulated door whose 'to' side it is.
        _doorsInto = demo.Doors.GroupBy(d => d.Door.To).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var mainEntrance = demo.Doors.FirstOrDefault(d => d.Door.From == SiteModel.Outside);
        _hall = mainEntrance?.Door.To ?? string.Empty;
        _rooms = site.Rooms.Where(r => r.Id != _hall && _doorsInto.TryGetValue(r.Id, out var d) && d.Door.From == _hall).ToList();
    }

    /// <summary>People inside the building according to the simulation.</summary>
    public int PeopleInside => _people;

    /// <summary>Runs in real time until cancelled.</summary>
    public async Task RunAsync(TimeProvider clock, CancellationToken cancellationToken)
    {
        var start = clock.GetUtcNow();
        if (_hall.Length == 0)
        {
            return;
        }

        // A school class arrives for Technodiscovery right away.
        var classRoom = _rooms.FirstOrDefault(r => r.Id == "technodiscovery") ?? _rooms.FirstOrDefault();
        var pupils = _random.Next(25, 31);
        for (var i = 0; i < pupils; i++)
        {
            var arrive = start.AddSeconds(i * 0.8);
            _timeline.Enqueue(() => Visitor(arrive, classRoom, stayInHall: TimeSpan.FromSeconds(5 + _random.Next(10))), arrive);
        }

        _nextArrival = start.AddSeconds(3);
        while (!cancellationToken.IsCancellationRequested)
        {
            var now = clock.GetUtcNow();
            while (_nextArrival <= now && _arrivalsPerMinute > 0)
            {
                var at = _nextArrival;
                _timeline.Enqueue(() => Visitor(at, null, TimeSpan.FromSeconds(3 + _random.Next(20))), at);
                _nextArrival = _nextArrival.AddSeconds(-Math.Log(1 - _random.NextDouble()) * 60 / _arrivalsPerMinute);
            }

            while (_timeline.TryPeek(out _, out var due) && due <= now)
            {
                _timeline.Dequeue()();
            }

            DriveBenches(now - start);
            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>A visitor arrives through an outside door, looks around the hall, visits rooms and leaves.</summary>
    private void Visitor(DateTimeOffset at, Room? firstRoom, TimeSpan stayInHall)
    {
        var entrance = _doorsInto[_hall];
        var enteredAt = Walk(entrance, intoRoom: true, at);
        _people++;
        var room = firstRoom ?? PickRoom();
        var leaveHall = enteredAt + stayInHall;
        _timeline.Enqueue(() => VisitRoom(room, leaveHall, visitsLeft: firstRoom is null ? _random.Next(1, 4) : 1), leaveHall);
    }

    private void VisitRoom(Room? room, DateTimeOffset at, int visitsLeft)
    {
        if (room is null)
        {
            Leave(at);
            return;
        }

        var door = _doorsInto[room.Id];
        var inside = Walk(door, intoRoom: true, at);
        var stay = TimeSpan.FromSeconds(room.Id == "technodiscovery" ? 240 + _random.Next(240) : 30 + _random.Next(150));
        var leaveRoom = inside + stay;
        _timeline.Enqueue(() =>
        {
            var back = Walk(door, intoRoom: false, leaveRoom) + TimeSpan.FromSeconds(2 + _random.Next(15));
            if (visitsLeft > 1)
            {
                _timeline.Enqueue(() => VisitRoom(PickRoom(), back, visitsLeft - 1), back);
            }
            else
            {
                _timeline.Enqueue(() => Leave(back), back);
            }
        }, leaveRoom);
    }

    private void Leave(DateTimeOffset at)
    {
        Walk(_doorsInto[_hall], intoRoom: false, at);
        _people--;
    }

    private Room? PickRoom()
    {
        var total = _rooms.Sum(r => r.Capacity);
        var pick = _random.Next(total);
        foreach (var room in _rooms)
        {
            pick -= room.Capacity;
            if (pick < 0)
            {
                return room;
            }
        }

        return _rooms.LastOrDefault();
    }

    /// <summary>
    /// Plays one passage through a door as beam edges, when the door is free; returns when the
    /// person is through.
    /// </summary>
    private DateTimeOffset Walk(SimulatedDoor door, bool intoRoom, DateTimeOffset earliest)
    {
        var start = _doorFree.TryGetValue(door.Door.Id, out var free) && free > earliest ? free : earliest;
        var (first, second) = intoRoom ? (door.OuterPin, door.InnerPin) : (door.InnerPin, door.OuterPin);
        // Broken beam = low (open-collector receivers with pull-ups).
        Edge(door, first, PinValue.Low, start + Steps[0]);
        Edge(door, second, PinValue.Low, start + Steps[1]);
        Edge(door, first, PinValue.High, start + Steps[2]);
        Edge(door, second, PinValue.High, start + Steps[3]);
        var through = start + Steps[3];
        _doorFree[door.Door.Id] = through + DoorGap;
        return through;
    }

    private void Edge(SimulatedDoor door, int pin, PinValue level, DateTimeOffset at) =>
        _timeline.Enqueue(() => door.Gpio.SetInput(pin, level), at);

    /// <summary>DC benches: a 24 V supply with a load that students switch and vary.</summary>
    private void DriveBenches(TimeSpan elapsed)
    {
        var t = elapsed.TotalSeconds;
        for (var i = 0; i < _demo.Benches.Count; i++)
        {
            var phase = i * 1.7;
            var volts = (i % 2 == 0 ? 24.0 : 12.0) - (0.15 * Math.Sin((t / 7) + phase));
            var amps = Math.Max(0, 1.2 + (0.8 * Math.Sin((t / (5 + i)) + phase)) + (0.05 * Math.Sin(t * 3)));
            _demo.Benches[i].Ina219.SetLoad(volts, amps);
        }
    }
}
