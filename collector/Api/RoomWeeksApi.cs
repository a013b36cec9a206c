using System.Globalization;
using NewTechPark.Edge.Collector.Occupancy;
using NewTechPark.Edge.Collector.Site;

namespace NewTechPark.Edge.Collector.Api;

public static class RoomWeeksApi
{
    /// <summary>How far back a week may be asked for (the day sums are kept as long as the history).</summary>
    public const int MaxDaysBack = 3660;

    /// <summary><c>GET /api/v1/occupancy/weeks?date=&amp;room=</c></summary>
    public static RouteGroupBuilder MapRoomWeeksApi(this RouteGroupBuilder api)
    {
        api.MapGet("/occupancy/weeks", Weeks)
            .WithName("GetOccupancyWeeks").WithSummary("Each room's week (Monday to Sunday, local) against the week before: hours in use, peak, entries and utilisation per day and in total, and last week up to the same day.")
            .Produces<RoomWeeksView>().ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        return api;
    }

    private static IResult Weeks(string? date, string? room, SiteModel site, RoomWeeks weeks)
    {
        if (room is not null && site.Rooms.All(r => r.Id != room))
        {
            return ApiProblems.NotFound("no such room", $"'{room}' is not a room of site {site.Site}; leave room out for every room.");
        }

        var today = weeks.Today;
        var day = today;
        if (date is not null && !DateOnly.TryParseExact(date, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out day))
        {
            return ApiProblems.BadRequest("date is not valid", "Give date as yyyy-MM-dd: a day of the week to show (default: today).");
        }

        if (day > today || day < today.AddDays(-MaxDaysBack))
        {
            return ApiProblems.BadRequest("date is out of range", $"date must lie between {today.AddDays(-MaxDaysBack):yyyy-MM-dd} and today ({today:yyyy-MM-dd}).");
        }

        return TypedResults.Ok(weeks.Compare(day, room));
    }
}
