using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Energy;
using NewTechPark.Edge.Collector.Occupancy;
using NewTechPark.Edge.Collector.Reports;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Collector.Visitors;
using NewTechPark.Edge.Contracts.Payloads;
using static NewTechPark.Edge.Collector.Tests.TestData;

namespace NewTechPark.Edge.Collector.Tests;

public sealed class AnnualReportTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static DateTimeOffset Local(int month, int day, int hour) => new(2026, month, day, hour, 0, 0, month is > 3 and < 11 ? TimeSpan.FromHours(2) : TimeSpan.FromHours(1));

    [Fact]
    public void The_yearly_report_rebuilds_the_measurable_rows_from_a_crafted_year()
    {
        using var store = Store(_dir);
        var seq = 1UL;
        void Commit(params Reading[] readings) => store.Commit([Batch("pi-entrance", seq++, Local(1, 1, 0), readings)]);

        // Three weekdays with visits; on 15 April 60 people come (an event day at a threshold of 50).
        // On each of them someone works in the lab from 10:00 to 12:00 (the hall is passed through).
        long inTotal = 0, outTotal = 0, labIn = 0, labOut = 0;
        foreach (var (month, day, people) in new[] { (2, 3, 10), (4, 15, 60), (9, 22, 20) })
        {
            Commit(
                Door(DoorMain, Local(month, day, 9), people, 0, inTotal += people, outTotal),
                Door(DoorLab, Local(month, day, 10), 1, 0, ++labIn, labOut),
                Door(DoorLab, Local(month, day, 12), 0, 1, labIn, ++labOut),
                Door(DoorMain, Local(month, day, 16), 0, people, inTotal, outTotal += people));
        }

        // Badges: A comes in February and April (returning), B and C in April, D in September; E in 2025 and again in 2026.
        Commit(VisitorsTests.Scan(Local(1, 1, 0).AddDays(-100), "E"));
        Commit(
            VisitorsTests.Scan(Local(2, 3, 9), "A"), VisitorsTests.Scan(Local(4, 15, 9), "A"), VisitorsTests.Scan(Local(4, 15, 9), "B"),
            VisitorsTests.Scan(Local(4, 15, 9), "C"), VisitorsTests.Scan(Local(9, 22, 9), "D"), VisitorsTests.Scan(Local(9, 22, 9), "E"),
            VisitorsTests.Scan(Local(9, 22, 9), "F"), VisitorsTests.Scan(Local(9, 22, 9), "G"));

        // Energy: the grid meter goes from 10,000 to 1,510,000 Wh over the year, the solar meter from 0 to 400,000 Wh.
        Commit(
            Value("meter-grid", ReadingKinds.Energy, Local(1, 1, 0), "energy_wh_total", 10_000),
            Value("meter-grid", ReadingKinds.Energy, Local(6, 1, 0), "energy_wh_total", 810_000),
            Value("meter-grid", ReadingKinds.Energy, Local(12, 31, 23), "energy_wh_total", 1_510_000),
            Value("meter-solar", ReadingKinds.Energy, Local(1, 1, 0), "energy_wh_total", 0),
            Value("meter-solar", ReadingKinds.Energy, Local(12, 31, 23), "energy_wh_total", 400_000));

        var clock = new FakeTimeProvider(Local(1, 1, 0).AddYears(1).AddDays(3));
        var options = new CollectorOptions();
        options.Visitors.EventDayVisits = 50;
        options.Report.RoomInUseMinShareOfOpenDays = 0.01; // 261 weekdays in 2026: at least 3 days
        var site = EnergyTests.MeteredSite;
        var (visitors, groups) = VisitorsTests.Services(store, site, clock, options);
        var o = Options.Create(options);
        var history = new OccupancyHistory(store, site, o, clock);
        var energy = new EnergyService(site, new StoreQueries(store), o);

        groups.Register(new GroupVisitRequest(new DateOnly(2026, 3, 10), "Technodiscovery", "PO", 28, null, null, null));
        groups.Register(new GroupVisitRequest(new DateOnly(2026, 3, 12), "Technodiscovery", "PO", 25, null, null, null));
        groups.Register(new GroupVisitRequest(new DateOnly(2026, 5, 19), "Techniek Tastbaar", "VO", 30, null, null, null));
        groups.Register(new GroupVisitRequest(new DateOnly(2026, 5, 20), "Robotica", "VO", 22, null, null, null));
        groups.Register(new GroupVisitRequest(new DateOnly(2026, 6, 8), "Techniekfestival", "PO", 400, null, true, null));
        groups.Register(new GroupVisitRequest(new DateOnly(2026, 9, 14), "Praktijkles", "MBO", 12, null, null, null));
        groups.Register(new GroupVisitRequest(new DateOnly(2026, 9, 16), "Praktijkles", "MBO", 6, null, null, null));
        groups.Register(new GroupVisitRequest(new DateOnly(2026, 9, 23), "Praktijkles", "MBO", 12, null, null, null));
        groups.Register(new GroupVisitRequest(new DateOnly(2025, 12, 31), "Technodiscovery", "PO", 99, null, null, null)); // another year

        var report = new AnnualReportService(site, visitors, groups, history, energy, new StoreQueries(store), ReportTargets.None, clock).Build(2026);
        double? Figure(string key) => report.Rows.Single(r => r.Key == key).Value;
        string Display(string key) => report.Rows.Single(r => r.Key == key).Display;

        Assert.Equal(2, Figure("events"));                  // 15 April (visits) and 8 June (festival)
        Assert.Equal(90, Figure("visits"));
        Assert.Equal(7 + 28 + 25 + 30 + 22 + 400 + 30, Figure("unique-visitors")); // 7 badges (A–G) plus registered groups
        Assert.Equal("< 5", Display("returning-visitors")); // A and E
        Assert.Null(Figure("returning-visitors"));
        Assert.Equal(66.7, Figure("rooms-in-use"));           // hall and lab of three rooms
        Assert.Equal(1, Figure("labs-active"));
        Assert.Equal(53, Figure("technodiscovery"));
        Assert.Equal(400, Figure("techniekfestival"));
        Assert.Equal(30, Figure("techniek-tastbaar"));
        Assert.Equal(22, Figure("havo-vwo"));
        Assert.Equal(15, Figure("mbo-weekly"));              // 18 in week 38, 12 in week 39
        Assert.Equal(8, Figure("group-visits"));
        Assert.Equal(1500, Figure("energy-grid"));
        Assert.Equal(400, Figure("energy-solar"));
        Assert.Equal(1900, Figure("energy-used"));
        Assert.Equal(1500 * 0.33, Figure("co2")!.Value, 1);
        Assert.Equal(12, report.Months.Count);
        Assert.Equal(60, report.Months[3].Visits);
        Assert.Contains(report.Programmes, p => p is { Programme: "Technodiscovery", TargetGroup: "PO", Groups: 2, HeadCount: 53 });

        var csv = AnnualReportService.ToCsv(report).Split('\n');
        Assert.StartsWith("key,label_nl,label_en,value,unit,target,", csv[0], StringComparison.Ordinal);
        Assert.Contains(csv, line => line.StartsWith("rooms-in-use,Ruimtes in gebruik/Labs,Rooms in use,66.7,%,", StringComparison.Ordinal));
        Assert.Contains(csv, line => line.StartsWith("returning-visitors,Terugkerende bezoekers,Returning visitors,< 5,", StringComparison.Ordinal));
    }
}
