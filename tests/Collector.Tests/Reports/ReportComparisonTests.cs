using NewTechPark.Edge.Collector.Reports;
using static NewTechPark.Edge.Collector.Tests.Reports.ReportFixture;

namespace NewTechPark.Edge.Collector.Tests.Reports;

public sealed class ReportComparisonTests
{
    private static readonly ReportTargets Targets = new("targets.json", "test targets", new Dictionary<int, IReadOnlyDictionary<string, double>>
    {
        [2026] = new Dictionary<string, double> { ["events"] = 4, ["visits"] = 100, ["rooms-in-use"] = 90 },
    });

    [Fact]
    public void Each_row_stands_beside_the_years_target_and_the_previous_year_measured_by_the_same_code()
    {
        using var f = new ReportFixture(Local(2027, 1, 5, 12), Targets);
        // 2025: 60 and 20 visitors (one event day at 50); 2026: 60, 70 and 20 (two event days).
        f.Visit(2025, 3, 3, 60);
        f.Visit(2025, 9, 9, 20);
        f.Visit(2026, 3, 3, 60);
        f.Visit(2026, 4, 14, 70);
        f.Visit(2026, 9, 9, 20);
        f.Meter("meter-grid", Local(2025, 1, 1, 1), 0);
        f.Meter("meter-grid", Local(2025, 12, 31, 22), 1_000_000);
        f.Meter("meter-grid", Local(2026, 12, 31, 22), 2_500_000);

        var report = f.Reports.Build(2026);
        AnnualRow Row(string key) => report.Rows.Single(r => r.Key == key);

        Assert.Equal("2025", report.PreviousPeriod);
        Assert.False(report.Partial);
        Assert.True(report.PreviousHasData);
        Assert.Equal("test targets", report.TargetsSource);

        var visits = Row("visits");
        Assert.Equal(150, visits.Value);
        Assert.Equal(100, visits.Target);
        Assert.Equal(50, visits.VsTarget);
        Assert.Equal(50, visits.VsTargetPct);
        Assert.Equal(80, visits.Previous);
        Assert.Equal("80", visits.PreviousDisplay);
        Assert.Equal(70, visits.VsPrevious);
        Assert.Equal(87.5, visits.VsPreviousPct);

        var events = Row("events");
        Assert.Equal(2, events.Value);
        Assert.Equal(-2, events.VsTarget);
        Assert.Equal(-50, events.VsTargetPct);
        Assert.Equal(1, events.Previous);
        Assert.Equal(100, events.VsPreviousPct);

        var grid = Row("energy-grid");
        Assert.Equal(1500, grid.Value);
        Assert.Equal(1000, grid.Previous);
        Assert.Equal(50, grid.VsPreviousPct);
        Assert.Null(grid.Target); // no target for this row: never 0
        Assert.Null(grid.VsTarget);
    }

    [Fact]
    public void A_year_without_data_shows_a_dash_not_zero_and_a_year_without_targets_has_none()
    {
        using var f = new ReportFixture(Local(2026, 6, 1, 12), Targets);
        f.Visit(2026, 3, 3, 12);

        var report = f.Reports.Build(2026);
        var visits = report.Rows.Single(r => r.Key == "visits");
        Assert.Equal(12, visits.Value);
        Assert.Null(visits.Previous);
        Assert.Equal(AnnualReportService.NoFigure, visits.PreviousDisplay);
        Assert.Null(visits.VsPrevious);
        Assert.Null(visits.VsPreviousPct);
        Assert.False(report.PreviousHasData);
        Assert.True(report.Partial);

        // No meter data at all in 2026: the energy rows are "–", not 0 kWh.
        var energy = report.Rows.Single(r => r.Key == "energy-used");
        Assert.Null(energy.Value);
        Assert.Equal(AnnualReportService.NoFigure, energy.Display);

        // 2027 has no targets in the file: nothing carried forward from 2026.
        var next = f.Reports.Build(2027);
        Assert.All(next.Rows, r => Assert.Null(r.Target));
        Assert.Null(next.TargetsSource);
        Assert.All(next.Rows.Where(r => r.Key != "returning-visitors"), r => Assert.Equal(AnnualReportService.NoFigure, r.Display));
    }

    [Fact]
    public void The_month_compares_with_the_same_month_a_year_earlier_and_the_year_to_date_with_the_years_target()
    {
        using var f = new ReportFixture(Local(2026, 12, 2, 12), Targets);
        f.Visit(2025, 11, 4, 10);
        f.Visit(2025, 12, 4, 99);   // outside both periods compared
        f.Visit(2026, 2, 4, 30);
        f.Visit(2026, 11, 4, 15);

        var month = f.Reports.BuildMonth(2026, 11);
        Assert.Equal("2026-11", month.Period);
        Assert.Equal("2025-11", month.PreviousPeriod);
        var visits = month.Rows.Single(r => r.Key == "visits");
        Assert.Equal(15, visits.Value);
        Assert.Equal(10, visits.Previous);
        Assert.Equal(50, visits.VsPreviousPct);
        Assert.Null(visits.Target); // targets are yearly

        var ytd = f.Reports.BuildYearToDate(2026, 11);
        Assert.Equal("2026-01/2026-11", ytd.Period);
        var toDate = ytd.Rows.Single(r => r.Key == "visits");
        Assert.Equal(45, toDate.Value);
        Assert.Equal(100, toDate.Target);
        Assert.Equal(10, toDate.Previous);
    }
}
