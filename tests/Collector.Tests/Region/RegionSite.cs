using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Energy;
using NewTechPark.Edge.Collector.Live;
using NewTechPark.Edge.Collector.Metrics;
using NewTechPark.Edge.Collector.Occupancy;
using NewTechPark.Edge.Collector.Region;
using NewTechPark.Edge.Collector.Sinks;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Collector.Visitors;
using NewTechPark.Edge.Contracts.Payloads;
using NewTechPark.Edge.Contracts.Topics;
using NewTechPark.Edge.TestSupport;

namespace NewTechPark.Edge.Collector.Tests.Region;

/// <summary>
/// One site for the region tests: a store of its own with the site's services on it (what the
/// collector's pages use), days of door crossings, badge scans and meter readings loaded straight
/// into the store, and a <see cref="RegionFeed"/> over a queue. Shared (linked) by the region
/// tests of Collector.Tests and Reliability.Tests.
/// </summary>
public sealed class RegionSite : IDisposable
{
    public const string Hall = "hall";
    public const string Lab = "lab";
    public const string DoorMain = "door-main";
    public const string DoorLab = "door-lab";
    public const string Badge = "badge-entrance";

    private readonly TempDirectory _dir = new("ntp-region-site-");
    private readonly Dictionary<string, ulong> _seq = new(StringComparer.Ordinal);
    private long _in;
    private long _out;
    private double _grid = 1_000_000;
    private double _solar = 500;
    private DateTimeOffset? _lastMeter;

    public RegionSite(string site, DateTimeOffset now)
    {
        Site = new SiteModel
        {
            Site = site,
            Name = "Site " + site,
            TimeZone = "Europe/Amsterdam",
            Rooms =
            [
                new Room { Id = Hall, Name = new LocalizedName { Nl = "Hal", En = "Hall" }, Capacity = 100, Kind = "hall" },
                new Room { Id = Lab, Name = new LocalizedName { Nl = "Lab", En = "Lab" }, Capacity = 20, Kind = "lab" },
            ],
            Doors =
            [
                new Door { Id = DoorMain, From = SiteModel.Outside, To = Hall, Device = "pi-entrance" },
                new Door { Id = DoorLab, From = Hall, To = Lab, Device = "pi-hall" },
            ],
            Meters =
            [
                new Meter { Id = "meter-grid", Role = "grid", PulsesPerKwh = 1000, Room = Hall, Device = "pi-entrance" },
                new Meter { Id = "meter-solar", Role = "solar", PulsesPerKwh = 1000, Room = Hall, Device = "pi-entrance" },
            ],
        };
        Clock = new FakeTimeProvider(now);
        Options = new CollectorOptions();
        var o = Microsoft.Extensions.Options.Options.Create(Options);
        Store = new SqliteStore(_dir.File("collector.db"), NullLogger<SqliteStore>.Instance);
        Queries = new StoreQueries(Store);
        Visitors = new VisitorsService(Store, Site, Queries, new GroupVisits(Store, Site, Clock), o, Clock);
        Energy = new EnergyService(Site, Queries, o);
        var metrics = new CollectorMetrics();
        Occupancy = new OccupancyEngine(Site, new LiveEventHub(metrics), metrics, Clock, o);
    }

    public static TimeZoneInfo Amsterdam { get; } = TimeZoneInfo.FindSystemTimeZoneById("Europe/Amsterdam");

    public SiteModel Site { get; }

    public string Id => Site.Site;

    public FakeTimeProvider Clock { get; }

    public CollectorOptions Options { get; }

    public SqliteStore Store { get; }

    public StoreQueries Queries { get; }

    public VisitorsService Visitors { get; }

    public EnergyService Energy { get; }

    public OccupancyEngine Occupancy { get; }

    /// <summary>Visits loaded per local day.</summary>
    public SortedDictionary<DateOnly, long> Visits { get; } = [];

    /// <summary>Every pseudonym loaded (none may leave the site).</summary>
    public HashSet<string> Pseudonyms { get; } = new(StringComparer.Ordinal);

    public string Folder => _dir.Path;

    public static DateTimeOffset Local(DateOnly day, int hour, int minute = 0)
    {
        var local = day.ToDateTime(new TimeOnly(hour, minute));
        return new DateTimeOffset(local, Amsterdam.GetUtcOffset(local));
    }

    /// <summary>A 22-character pseudonym of a visitor number at this site (as the edge makes them: opaque).</summary>
    public string Pseudonym(int visitor) => $"{Id}-v{visitor:D6}zz".PadRight(22, 'q')[..22];

    public RegionFeed Feed(DurableQueue queue, RegionOptions? options = null) =>
        new(Site, Occupancy, Visitors, Energy, Queries, queue, options ?? new RegionOptions(), NullLogger.Instance);

    /// <summary>
    /// A day: <paramref name="visits"/> people in through the main door at 09:00 and out at 16:00,
    /// a badge scan at 10:00 for each of <paramref name="visitors"/>, and both meters read every 15
    /// minutes from 00:00 to 24:00 (grid <paramref name="gridW"/> W, solar <paramref name="solarW"/> W).
    /// Returns the raw batches as the ingest would have them (for the raw-point sink).
    /// </summary>
    public List<ReadingsItem> LoadDay(DateOnly day, int visits, IEnumerable<int> visitors, double gridW, double solarW)
    {
        var items = new List<ReadingsItem>();
        var nine = Local(day, 9);
        items.Add(Commit("pi-entrance", nine, Door(nine, visits, 0, _in += visits, _out)));
        var scans = visitors.Select(v =>
        {
            Pseudonyms.Add(Pseudonym(v));
            return new Reading { Ts = Local(day, 10), Sensor = Badge, Kind = ReadingKinds.Badge, Visitor = Pseudonym(v) };
        }).ToArray();
        if (scans.Length > 0)
        {
            items.Add(Commit("pi-entrance", Local(day, 10), scans));
        }

        var four = Local(day, 16);
        items.Add(Commit("pi-entrance", four, Door(four, 0, visits, _in, _out += visits)));
        Visits[day] = Visits.GetValueOrDefault(day) + visits;

        var meters = new List<Reading>();
        var end = Local(day.AddDays(1), 0);
        for (var t = Local(day, 0); t <= end; t = t.AddMinutes(15))
        {
            if (_lastMeter is { } last && t <= last)
            {
                continue;
            }

            if (_lastMeter is not null)
            {
                _grid += gridW / 4;
                _solar += solarW / 4;
            }

            _lastMeter = t;
            meters.Add(new Reading { Ts = t, Sensor = "meter-grid", Kind = ReadingKinds.Energy, Values = new() { ["power_w"] = gridW, ["energy_wh_total"] = _grid } });
            meters.Add(new Reading { Ts = t, Sensor = "meter-solar", Kind = ReadingKinds.Energy, Values = new() { ["power_w"] = solarW, ["energy_wh_total"] = _solar } });
        }

        items.Add(Commit("pi-entrance", end, [.. meters]));
        return items;
    }

    /// <summary><paramref name="people"/> come in now and stay (live occupancy, as the ingest would apply it).</summary>
    public ReadingsItem Enter(DateTimeOffset at, int people)
    {
        var reading = Door(at, people, 0, _in += people, _out);
        var item = Commit("pi-entrance", at, reading);
        Occupancy.Apply(reading);
        return item;
    }

    public void Dispose()
    {
        Store.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    private static Reading Door(DateTimeOffset ts, long entered, long left, long inTotal, long outTotal) => new()
    {
        Ts = ts,
        Sensor = DoorMain,
        Kind = ReadingKinds.Door,
        Values = new Dictionary<string, double>
        {
            [ReadingKinds.DoorValues.In] = entered,
            [ReadingKinds.DoorValues.Out] = left,
            [ReadingKinds.DoorValues.InTotal] = inTotal,
            [ReadingKinds.DoorValues.OutTotal] = outTotal,
        },
    };

    private ReadingsItem Commit(string device, DateTimeOffset received, params Reading[] readings)
    {
        var seq = _seq[device] = _seq.GetValueOrDefault(device) + 1;
        var item = new ReadingsItem(new TopicAddress(Id, device, TopicChannel.Readings), new ReadingsBatch { Seq = seq, Sent = received, Readings = readings }, received);
        Store.Commit([item]);
        return item;
    }
}
