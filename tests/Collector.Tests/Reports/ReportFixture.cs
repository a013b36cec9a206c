using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Energy;
using NewTechPark.Edge.Collector.Occupancy;
using NewTechPark.Edge.Collector.Reports;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Contracts.Payloads;
using static NewTechPark.Edge.Collector.Tests.TestData;

namespace NewTechPark.Edge.Collector.Tests.Reports;

/// <summary>A store of the small metered site with crafted door, badge and meter readings, and the report services on it.</summary>
public sealed class ReportFixture : IDisposable
{
    private readonly TempDirectory _dir = new();
    private ulong _seq = 1;
    private long _in;
    private long _out;

    public ReportFixture(DateTimeOffset now, ReportTargets? targets = null)
    {
        Store = TestData.Store(_dir);
        Clock = new FakeTimeProvider(now);
        var options = new CollectorOptions();
        options.Visitors.EventDayVisits = 50;
        options.Report.RoomInUseMinShareOfOpenDays = 0.01;
        var site = EnergyTests.MeteredSite;
        var (visitors, groups) = VisitorsTests.Services(Store, site, Clock, options);
        Groups = groups;
        var o = Options.Create(options);
        Reports = new AnnualReportService(site, visitors, groups, new OccupancyHistory(Store, site, o, Clock), new EnergyService(site, new StoreQueries(Store), o),
            new StoreQueries(Store), targets ?? ReportTargets.None, Clock);
        Writer = new MonthlyReportWriter(Reports, site, NullLogger<MonthlyReportWriter>.Instance);
    }

    public SqliteStore Store { get; }

    public FakeTimeProvider Clock { get; }

    public NewTechPark.Edge.Collector.Visitors.GroupVisits Groups { get; }

    public AnnualReportService Reports { get; }

    public MonthlyReportWriter Writer { get; }

    public static DateTimeOffset Local(int year, int month, int day, int hour) =>
        new(new DateTime(year, month, day, hour, 0, 0), TimeZoneInfo.FindSystemTimeZoneById("Europe/Amsterdam").GetUtcOffset(new DateTime(year, month, day, hour, 0, 0)));

    /// <summary><paramref name="people"/> come in through the main door at 09:00 and leave at 16:00.</summary>
    public void Visit(int year, int month, int day, int people)
    {
        Commit(Door(DoorMain, Local(year, month, day, 9), people, 0, _in += people, _out));
        Commit(Door(DoorMain, Local(year, month, day, 16), 0, people, _in, _out += people));
    }

    public void Meter(string meter, DateTimeOffset at, double totalWh) => Commit(Value(meter, ReadingKinds.Energy, at, "energy_wh_total", totalWh));

    public void Commit(params Reading[] readings) => Store.Commit([Batch("pi-entrance", _seq++, readings[0].Ts, readings)]);

    public void Dispose()
    {
        Store.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }
}
