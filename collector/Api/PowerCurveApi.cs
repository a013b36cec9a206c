using System.Globalization;
using NewTechPark.Edge.Collector.Energy;

namespace NewTechPark.Edge.Collector.Api;

public static class PowerCurveApi
{
    /// <summary>The default slot: 96 points a day, smooth from three metres and cheap to redraw.</summary>
    public const int DefaultStepMinutes = 15;

    /// <summary><c>GET /api/v1/energy/curve?date=YYYY-MM-DD&amp;step=15</c></summary>
    public static RouteGroupBuilder MapPowerCurveApi(this RouteGroupBuilder api)
    {
        api.MapGet("/energy/curve", (string? date, string? step, PowerCurveService curves, TimeProvider clock) =>
            {
                var now = clock.GetUtcNow();
                var today = curves.LocalDate(now);
                var day = today;
                // Parsed here, not by the binder, so a bad value gets a named problem like every other parameter.
                if (date is not null && !DateOnly.TryParseExact(date, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out day))
                {
                    return ApiProblems.BadRequest("date is not valid", "Give a local date as YYYY-MM-DD, such as ?date=2026-10-25; without it: today.");
                }

                if (ApiProblems.DateRange("date", day) is { } outOfRange)
                {
                    return outOfRange;
                }

                if (day > today)
                {
                    return ApiProblems.BadRequest("date is in the future", $"date {day:yyyy-MM-dd} is after today ({today:yyyy-MM-dd} in {curves.Zone.Id}).");
                }

                var minutes = DefaultStepMinutes;
                if (step is not null && (!int.TryParse(step, NumberStyles.None, CultureInfo.InvariantCulture, out minutes) || !PowerCurveService.Steps.Contains(minutes)))
                {
                    return ApiProblems.BadRequest("step is not valid", $"step is the slot in minutes, one of {string.Join(", ", PowerCurveService.Steps)}.");
                }

                return TypedResults.Ok(curves.Curves(day, minutes, now));
            })
            .WithName("GetPowerCurve").WithSummary("A local day's power curve (grid, solar, use; mean W per wall-clock slot) beside the day before's, with each day's energy and the sun's share of the energy used (23- and 25-hour days included). Default: today in 15-minute slots.")
            .Produces<PowerCurves>().ProducesProblem(StatusCodes.Status400BadRequest);
        return api;
    }
}
