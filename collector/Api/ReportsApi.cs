using NewTechPark.Edge.Collector.Reports;

namespace NewTechPark.Edge.Collector.Api;

public static class ReportsApi
{
    /// <summary><c>GET /api/v1/reports/annual?year=2026[&amp;format=csv]</c></summary>
    public static RouteGroupBuilder MapReportsApi(this RouteGroupBuilder api)
    {
        api.MapGet("/reports/annual", (int? year, string? format, AnnualReportService reports, TimeProvider clock) =>
            {
                var y = year ?? clock.GetUtcNow().Year;
                if (y is < 2000 or > 2100)
                {
                    return ApiProblems.BadRequest("year is out of range", "Give a year such as ?year=2026.");
                }

                if (format is not (null or "json" or "csv"))
                {
                    return ApiProblems.BadRequest("format is not valid", "format is json (default) or csv.");
                }

                var report = reports.Build(y);
                return format == "csv"
                    ? TypedResults.Text(AnnualReportService.ToCsv(report), "text/csv; charset=utf-8")
                    : TypedResults.Ok(report);
            })
            .WithName("GetAnnualReport").WithSummary("The yearly report: the measurable rows of the annual report's results table for one local year, as JSON or CSV (format=csv).")
            .Produces<AnnualReport>().Produces<string>(StatusCodes.Status200OK, "text/csv").ProducesProblem(StatusCodes.Status400BadRequest);
        return api;
    }
}
