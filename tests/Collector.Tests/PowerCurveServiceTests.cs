using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Energy;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Contracts.Payloads;
using static NewTechPark.Edge.Collector.Tests.TestData;

namespace NewTechPark.Edge.Collector.Tests;

public sealed class PowerCurveServiceTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static Reading Grid(DateTimeOffset t, double watts, double total) =>
        new() { Ts = t, Sensor = "meter-grid", Kind = ReadingKinds.Energy, Values = new() { ["power_w"] = watts, ["energy_wh_total"] = total } };

    [Fact]
    public void A_finished_day_is_reused_for_a_while_and_then_shows_late_readings()
    {
        using var store = Store(_dir);
        var queries = new StoreQueries(store);
        var curves = new PowerCurveService(EnergyTests.MeteredSite, queries, new EnergyService(EnergyTests.MeteredSite, queries, Options.Create(new CollectorOptions())));
        var yesterday = new DateTimeOffset(2026, 6, 9, 0, 0, 0, TimeSpan.FromHours(2));
        var now = yesterday.AddDays(1).AddHours(10);
        store.Commit([Batch("pi-entrance", 1, now, Grid(yesterday.AddHours(12), 1000, 100), Grid(yesterday.AddHours(13), 1000, 1100))]);

        var first = curves.Curves(new DateOnly(2026, 6, 10), 60, now);
        Assert.Equal(1000, first.Yesterday.GridW[12]);
        Assert.Null(first.Yesterday.GridW[14]);

        // A reading of yesterday arrives late: the kiosk sees it once the finished day is read again.
        store.Commit([Batch("pi-entrance", 2, now, Grid(yesterday.AddHours(14), 3000, 3100))]);
        Assert.Null(curves.Curves(new DateOnly(2026, 6, 10), 60, now.AddMinutes(1)).Yesterday.GridW[14]);
        var later = curves.Curves(new DateOnly(2026, 6, 10), 60, now + PowerCurveService.FinishedDayReuse);
        Assert.Equal(3000, later.Yesterday.GridW[14]);
        Assert.Equal(3000, later.Yesterday.GridImportWh);
        // Another step is another curve, never the one kept.
        var quarters = curves.Curves(new DateOnly(2026, 6, 10), 15, now.AddMinutes(6)).Yesterday.GridW;
        Assert.Equal(96, quarters.Count);
        Assert.Equal(3, quarters.Count(w => w is not null));
    }
}
