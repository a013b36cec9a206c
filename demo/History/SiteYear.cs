using NewTechPark.Edge.Agent.Readers.Badge;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Contracts.Payloads;
using NewTechPark.Edge.Simulation.Scenario;
using ClimateField = NewTechPark.Edge.Demo.History.SiteDay.ClimateField;

namespace NewTechPark.Edge.Demo.History;

/// <summary>
/// What runs from day to day in both year generators (the demo's history, <see cref="HistoryYear"/>,
/// and the bench's year, <c>bench/YearSite.cs</c>): the site's calendar, sun and visitor pool for a
/// seed, one random stream for the groups, the doors' cumulative totals and each room's air. Each
/// <see cref="Day"/> walks the day's groups through the doors and makes the door, badge and (through
/// the caller's sampler) climate readings; the caller adds its DC benches and meters and sorts.
/// </summary>
public sealed class SiteYear
{
    private readonly SiteCalendar _calendar;
    private readonly VisitorPool _visitors;
    private readonly VisitorPseudonym _pseudonym;
    private readonly Dictionary<string, (long In, long Out)> _doorTotals = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RoomAir> _air = new(StringComparer.Ordinal);

    /// <param name="siteKey">The key the badge readers pseudonymise visitors with.</param>
    public SiteYear(SiteModel site, int seed, string siteKey)
    {
        Site = site;
        _calendar = new SiteCalendar(seed, TimeZoneInfo.FindSystemTimeZoneById(site.TimeZone));
        Solar = new SolarModel(seed);
        _visitors = new VisitorPool(seed);
        _pseudonym = new VisitorPseudonym(siteKey);
        Random = new Random(seed);
    }

    public SiteModel Site { get; }

    public SolarModel Solar { get; }

    /// <summary>The stream the groups' crossings draw from; a caller's own draws for a group (in <c>onGroup</c>) come from it too.</summary>
    public Random Random { get; }

    public TimeZoneInfo TimeZone => _calendar.TimeZone;

    /// <summary>The devices that own something of the site (each publishes as itself).</summary>
    public IReadOnlyList<string> Devices => [.. Site.Devices];

    /// <summary>The door totals at the end of the days made so far.</summary>
    public IReadOnlyDictionary<string, (long In, long Out)> DoorTotals => _doorTotals;

    /// <summary>The values a climate part sends, by the site's sensor id (an SHT4x where the id names no other part).</summary>
    public static string[] ClimateFields(string sensorId) => sensorId switch
    {
        "climate-cer" or "climate-technodiscovery" => [ClimateField.Co2, ClimateField.Temperature, ClimateField.Humidity], // SCD4x
        "climate-dc-lab" => [ClimateField.Temperature, ClimateField.Humidity, ClimateField.Pressure], // BME280
        "temp-dc-lab-battery" => [ClimateField.Temperature], // DS18B20
        _ => [ClimateField.Temperature, ClimateField.Humidity], // SHT4x
    };

    /// <summary>
    /// The next local day (call in order), its readings inside [<paramref name="from"/>, <paramref name="to"/>):
    /// the groups (none unless <paramref name="withGroups"/>) through the doors, <paramref name="onGroup"/>
    /// after each, the door readings (see <see cref="SiteDay.Doors"/> for <paramref name="countOutsideWindow"/>),
    /// the badge scans, and each climate sensor through <paramref name="climate"/> with its room's air.
    /// </summary>
    public SiteDay Day(
        DateOnly date, DateTimeOffset from, DateTimeOffset to, bool withGroups, bool teacherChecksIn, bool countOutsideWindow,
        Action<VisitGroup> onGroup, Action<SiteDay, SiteSensor, RoomAir> climate)
    {
        var plan = _calendar.Plan(date);
        var day = new SiteDay(Site, plan, TimeZone, from, to);
        day.Walk(withGroups ? plan.Groups : [], Random, teacherChecksIn, onGroup);
        day.Doors(_doorTotals, countOutsideWindow);
        foreach (var sensor in Site.Sensors)
        {
            switch (sensor.Kind)
            {
                case ReadingKinds.Badge:
                    day.Badges(sensor, _pseudonym, _visitors);
                    break;
                case ReadingKinds.Climate:
                    if (!_air.TryGetValue(sensor.Id, out var air))
                    {
                        _air[sensor.Id] = air = new RoomAir(volumeM3: 250);
                    }

                    climate(day, sensor, air);
                    break;
            }
        }

        return day;
    }
}
