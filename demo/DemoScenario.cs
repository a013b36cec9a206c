using System.Device.Gpio;
using NewTechPark.Edge.Simulation.Scenario;
using NewTechPark.Edge.Collector.Site;

namespace NewTechPark.Edge.Demo;

/// <summary>
/// A day at NewTechPark in miniature: a school class arriving for Technodiscovery, an MBO group
/// with student badges for the DC-Lab, walk-in visitors who check in with their cards (some of
/// them returning), look around the hall and visit a few rooms, DC-Lab benches with experiments
/// running, the energy meters (grid, the roof's solar following the sun, the DC-Lab) pulsing, and
/// the air of every room with a climate sensor following the people in it. People are simulated
/// one by one; every move through a door is played as the four beam edges a real body makes, every
/// kWh as S0 pulses, every check-in as a card held to the MFRC522, so the agents' real readers
/// measure them. The models come from the agent's scenario library
/// (<see cref="NewTechPark.Edge.Simulation.Scenario"/>). Deterministic for a seed.
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
    private readonly int _seed;
    private readonly Timeline _devices = new();
    private readonly Dictionary<string, int> _inRoom = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RoomAir> _air = new(StringComparer.Ordinal);
    private readonly List<(SimulatedMeter Meter, PulseTrain Train)> _meters = [];
    private readonly List<(SimulatedBench Bench, BenchModel Model)> _benches = [];
    private readonly BadgeHolder? _entranceBadges;
    private readonly VisitorPool _visitors;
    private readonly SolarModel _solar;
    private DateTimeOffset _nextArrival;
    private DateTimeOffset _lastAir;
    private int _people;

    public DemoScenario(SiteModel site, DemoSite demo, int seed, double arrivalsPerMinute)
    {
        _site = site;
        _demo = demo;
        _random = new Random(seed);
        _seed = seed;
        _arrivalsPerMinute = arrivalsPerMinute;
        // Each room is entered through the simulated door whose 'to' side it is.
        _doorsInto = demo.Doors.GroupBy(d => d.Door.To).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var mainEntrance = demo.Doors.FirstOrDefault(d => d.Door.From == SiteModel.Outside);
        _hall = mainEntrance?.Door.To ?? string.Empty;
        _rooms = site.Rooms.Where(r => r.Id != _hall && _doorsInto.TryGetValue(r.Id, out var d) && d.Door.From == _hall).ToList();
        _visitors = new VisitorPool(seed);
        _solar = new SolarModel(seed);
        foreach (var meter in demo.Meters)
        {
            _meters.Add((meter, new PulseTrain(meter.Gpio, meter.Pin, meter.Meter.PulsesPerKwh, _devices)));
        }

        for (var i = 0; i < demo.Benches.Count; i++)
        {
            _benches.Add((demo.Benches[i], new BenchModel(i)));
        }

        foreach (var climate in demo.Climate)
        {
            var capacity = site.Rooms.FirstOrDefault(r => r.Id == climate.Room)?.Capacity ?? 30;
            // About 5 m³ of air per place; the hall is high and well ventilated.
            _air.TryAdd(climate.Room, new RoomAir(capacity * 5.0, climate.Room == _hall ? 4 : 2));
        }

        var entranceReader = demo.BadgeReaders.FirstOrDefault(b => b.Room == _hall) ?? demo.BadgeReaders.FirstOrDefault();
        _entranceBadges = entranceReader is null ? null : new BadgeHolder(entranceReader.Reader, _devices);
    }

    /// <summary>People in a room according to the simulation.</summary>
    public int PeopleIn(string room) => _inRoom.GetValueOrDefault(room);

    /// <summary>Visitor cards handed out so far (new and returning visitors draw from this pool).</summary>
    public int KnownCards => _visitors.Known;

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
            // Pupils have no cards; their teacher checks the class in.
            var badge = i == 0;
            _timeline.Enqueue(() => Visitor(arrive, classRoom, stayInHall: TimeSpan.FromSeconds(5 + _random.Next(10)), badge), arrive);
        }

        // The week's MBO group for the DC-Lab, with student badges, a little later.
        var lab = _rooms.FirstOrDefault(r => r.Id == "dc-lab");
        if (lab is not null)
        {
            var students = _random.Next(12, 21);
            for (var i = 0; i < students; i++)
            {
                var arrive = start.AddSeconds(40 + (i * 1.5));
                _timeline.Enqueue(() => Visitor(arrive, lab, stayInHall: TimeSpan.FromSeconds(3 + _random.Next(6)), badge: true), arrive);
            }
        }

        // The models run on the site's clock: the demo starts at 11:00 local time, so the roof makes power.
        var scenario = new ScenarioClock(clock, LocalElevenToday(clock.GetUtcNow()));
        var lastScenario = scenario.Now;
        _lastAir = start;

        PlayDayPlan(start);
        _nextArrival = start.AddSeconds(3);
        while (!cancellationToken.IsCancellationRequested)
        {
            var now = clock.GetUtcNow();
            while (_nextArrival <= now && _arrivalsPerMinute > 0)
            {
                var at = _nextArrival;
                _timeline.Enqueue(() => Visitor(at, null, TimeSpan.FromSeconds(3 + _random.Next(20)), badge: true), at);
                _nextArrival = _nextArrival.AddSeconds(-Math.Log(1 - _random.NextDouble()) * 60 / _arrivalsPerMinute);
            }

            while (_timeline.TryPeek(out _, out var due) && due <= now)
            {
                _timeline.Dequeue()();
            }

            var modelTime = scenario.Now;
            DriveDevices(now, modelTime, modelTime - lastScenario);
            lastScenario = modelTime;
            _devices.RunDue(now);
            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>A visitor arrives through an outside door, looks around the hall, visits rooms and leaves.</summary>
    private void Visitor(DateTimeOffset at, Room? firstRoom, TimeSpan stayInHall, bool badge, TimeSpan? stayInRoom = null)
    {
        var entrance = _doorsInto[_hall];
        var enteredAt = Walk(entrance, intoRoom: true, at);
        _people++;
        Occupy(_hall, +1, enteredAt);
        if (badge && _entranceBadges is not null)
        {
            _entranceBadges.CheckIn(_visitors.Next(), enteredAt + TimeSpan.FromSeconds(1));
        }

        var room = firstRoom ?? PickRoom();
        var leaveHall = enteredAt + stayInHall;
        _timeline.Enqueue(() => VisitRoom(room, leaveHall, visitsLeft: firstRoom is null ? _random.Next(1, 4) : 1, stayInRoom), leaveHall);
    }

    private void VisitRoom(Room? room, DateTimeOffset at, int visitsLeft, TimeSpan? stayInRoom = null)
    {
        if (room is null)
        {
            Leave(at);
            return;
        }

        var door = _doorsInto[room.Id];
        var inside = Walk(door, intoRoom: true, at);
        Occupy(room.Id, +1, inside);
        Occupy(_hall, -1, inside);
        var stay = stayInRoom ?? TimeSpan.FromSeconds(room.Id == "technodiscovery" ? 240 + _random.Next(240) : 30 + _random.Next(150));
        var leaveRoom = inside + stay;
        _timeline.Enqueue(() =>
        {
            var outside = Walk(door, intoRoom: false, leaveRoom);
            Occupy(room.Id, -1, outside);
            Occupy(_hall, +1, outside);
            var back = outside + TimeSpan.FromSeconds(2 + _random.Next(15));
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
        var gone = Walk(_doorsInto[_hall], intoRoom: false, at);
        Occupy(_hall, -1, gone);
        _people--;
    }

    /// <summary>
    /// Today's plan from the site calendar (or the next open day's: the demo is lively at night
    /// too), compressed by <see cref="DaySpeed"/>: its school classes, MBO group, event visitors and
    /// walk-ins arrive through the entrance in the order and proportions of a real day, with
    /// badges where the group has them, go to their room and stay for the compressed time.
    /// </summary>
    private void PlayDayPlan(DateTimeOffset start)
    {
        var calendar = new SiteCalendar(_seed);
        var date = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(start, calendar.TimeZone).Date);
        var plan = calendar.Plan(date);
        for (var i = 0; i < 7 && !plan.Open; i++)
        {
            plan = calendar.Plan(date.AddDays(i + 1));
        }

        DayPlan = plan;
        var rooms = _site.Rooms.ToDictionary(r => r.Id, StringComparer.Ordinal);
        // The plan's first arrival lands a minute after the demo's start.
        var first = plan.Groups.Count > 0 ? plan.Groups.Min(g => g.Arrive) : plan.Opens;
        foreach (var group in plan.Groups)
        {
            var room = rooms.GetValueOrDefault(group.Room);
            if (room is null || !_doorsInto.ContainsKey(room.Id) || _doorsInto[room.Id].Door.From != _hall)
            {
                continue;
            }

            var arrive = start + TimeSpan.FromMinutes(1) + ((group.Arrive - first) / DaySpeed);
            var stay = (group.Leave - group.Arrive) / DaySpeed;
            for (var p = 0; p < group.Size; p++)
            {
                var at = arrive + TimeSpan.FromSeconds(p * 0.9);
                var badge = group.Badges || p == 0;
                _timeline.Enqueue(() => Visitor(at, room, TimeSpan.FromSeconds(2 + _random.Next(6)), badge, stay), at);
            }
        }
    }

    /// <summary>How much faster than real time the day plan plays (60: a day's groups in about ten minutes).</summary>
    public double DaySpeed { get; init; } = 60;

    /// <summary>The day the demo plays.</summary>
    public DayPlan? DayPlan { get; private set; }

    /// <summary>Counts a person in or out of a room when they are through the door.</summary>
    private void Occupy(string room, int change, DateTimeOffset at) =>
        _timeline.Enqueue(() => _inRoom[room] = Math.Max(0, _inRoom.GetValueOrDefault(room) + change), at);

    private static DateTimeOffset LocalElevenToday(DateTimeOffset now)
    {
        var zone = new SiteCalendar(0).TimeZone;
        var local = TimeZoneInfo.ConvertTime(now, zone);
        var eleven = local.Date.AddHours(11);
        return new DateTimeOffset(eleven, zone.GetUtcOffset(eleven));
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

    /// <summary>
    /// The continuous part of the world: bench experiments, the meters' pulses (grid import is the
    /// building's load less the roof's solar; the DC-Lab meter carries the benches), and the air of
    /// the rooms with climate sensors, once a second.
    /// </summary>
    private void DriveDevices(DateTimeOffset now, DateTimeOffset at, TimeSpan elapsed)
    {
        var benchWatts = 0.0;
        foreach (var (bench, model) in _benches)
        {
            var (volts, amps) = model.At(at, inUse: true);
            bench.SetLoad(volts, amps);
            benchWatts += volts * amps;
        }

        var solar = _solar.PowerW(at);
        var load = BuildingLoad.PowerW(open: true, _people);
        foreach (var (meter, train) in _meters)
        {
            var watts = meter.Meter.Role switch
            {
                "solar" => solar,
                "grid" => BuildingLoad.GridImportW(load, solar),
                _ => 350 + benchWatts,
            };
            train.Advance(now, elapsed, watts);
        }

        if (now - _lastAir >= TimeSpan.FromSeconds(1))
        {
            var dt = now - _lastAir;
            _lastAir = now;
            foreach (var (room, air) in _air)
            {
                air.Advance(dt, PeopleIn(room));
            }

            foreach (var climate in _demo.Climate)
            {
                if (_air.TryGetValue(climate.Room, out var air))
                {
                    climate.SetAir(air);
                }
            }
        }
    }
}
