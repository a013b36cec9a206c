using NewTechPark.Edge.Collector.Reports;

namespace NewTechPark.Edge.Collector.Api;

public static class ReportsApi
{
    /// <summary><c>GET /api/v1/reports/annual?year=2026[&amp;format=json|csv|nl|en]</c></summary>
    public static RouteGroupBuilder MapReportsApi(this RouteGroupBuilder api)
    {
        api.MapGet("/reports/annual", (int? year, string? format, HttpRequest request, AnnualReportService reports, TimeProvider clock) =>
            {
                var y = year ?? clock.GetUtcNow().Year;
                if (y is < 2000 or > 2100)
                {
                    return ApiProblems.BadRequest("year is out of range", "Give a year such as ?year=2026.");
                }

                if (format is not (null or "json" or "csv" or "nl" or "en"))
                {
                    return ApiProblems.BadRequest("format is not valid",
                        "format is json (default), csv (Dutch Excel when Accept-Language starts with nl, else comma and decimal point), nl (semicolon, decimal comma) or en (comma, decimal point).");
                }

                var report = reports.Build(y);
                if (format is null or "json")
                {
                    return (IResult)TypedResults.Ok(report);
                }

                var dialect = ReportCsv.Negotiate(format, request.Headers.AcceptLanguage);
                request.HttpContext.Response.Headers.Vary = "Accept-Language";
                return TypedResults.File(ReportCsv.Bytes(report, dialect), "text/csv; charset=utf-8", $"ntp-jaarverslag-{y}-{dialect.Name}.csv");
            })
            .WithName("GetAnnualReport")
            .WithSummary("The yearly report: the measurable rows of the annual report's results table for one local year, each beside the year's target and the previous year, as JSON or CSV (format=csv|nl|en; nl opens in Dutch Excel).")
            .Produces<AnnualReport>().Produces<string>(StatusCodes.Status200OK, "text/csv").ProducesProblem(StatusCodes.Status400BadRequest);
        return api;
    }
}
