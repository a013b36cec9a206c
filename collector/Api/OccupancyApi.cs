using System.Security.Claims;
using NewTechPark.Edge.Collector.Occupancy;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Storage.Rollups;

namespace NewTechPark.Edge.Collector.Api;

/// <summary>The body of <c>POST /api/v1/occupancy/{room}/corrections</c>.</summary>
public sealed record CorrectionRequest(long? Count, string? Reason, string? By);

public static class OccupancyApi
{
    /// <summary>Corrections (staff), the audit trail, per-room history and utilisation.</summary>
    public static RouteGroupBuilder MapOccupancyApi(this RouteGroupBuilder api)
    {
        api.MapPost("/occupancy/{room}/corrections", Correct)
            .RequireStaff()
            .WithName("PostOccupancyCorrection").WithSummary("Staff correction of a room's count: { \"count\": n, \"reason\": \"...\" } (staff or admin token: Authorization: Bearer <token>).")
            .Produces<OccupancyCorrection>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/occupancy/corrections", (DateTimeOffset? from, DateTimeOffset? to, string? room, OccupancyCorrections corrections, TimeProvider clock) =>
                ApiProblems.Window(from, to, clock.GetUtcNow(), TimeSpan.FromDays(30), 3660, out var start, out var end) ?? TypedResults.Ok(corrections.List(start, end, room)))
            .WithName("GetOccupancyCorrections").WithSummary("The audit trail of staff corrections (default: the last 30 days).")
            .Produces<IReadOnlyList<OccupancyCorrection>>().ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapGet("/occupancy/history", History)
            .WithName("GetOccupancyHistory").WithSummary("A room's peak and mean count, occupied share and utilisation (share of opening hours with someone present) per hour, day, week, month or year.")
            .Produces<RoomHistory>().ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/occupancy/utilisation", (DateTimeOffset? from, DateTimeOffset? to, OccupancyHistory history, TimeProvider clock) =>
            {
                if (ApiProblems.Window(from, to, clock.GetUtcNow(), TimeSpan.FromDays(30), 3660, out var start, out var end) is { } problem)
                {
                    return problem;
                }

                history.Refresh();
                return TypedResults.Ok(history.Use(start, end));
            })
            .WithName("GetOccupancyUtilisation").WithSummary("Every room's utilisation over a window, and rooms in use and labs active as the annual report counts them.")
            .Produces<RoomUseSummary>().ProducesProblem(StatusCodes.Status400BadRequest);
        return api;
    }

    private static IResult Correct(string room, CorrectionRequest? body, SiteModel site, OccupancyCorrections corrections, ClaimsPrincipal user)
    {
        if (site.Rooms.All(r => r.Id != room))
        {
            return ApiProblems.NotFound("no such room", $"'{room}' is not a room of site {site.Site}.");
        }

        if (body?.Count is not (>= 0 and <= 100_000) || string.IsNullOrWhiteSpace(body.Reason) || body.Reason.Length > 500)
        {
            return ApiProblems.BadRequest("correction is not valid", "Send { \"count\": n (0 or more), \"reason\": \"why, at most 500 characters\" }, optionally \"by\": \"who\".");
        }

        var correction = corrections.Correct(room, body.Count.Value, body.Reason.Trim(), string.IsNullOrWhiteSpace(body.By) ? user.Identity?.Name ?? "admin" : body.By.Trim());
        return correction is null
            ? ApiProblems.NotFound("no such room", $"'{room}' is not a room of site {site.Site}.")
            : TypedResults.Created($"/api/v1/occupancy/corrections?room={room}", correction);
    }

    private static IResult History(string? room, DateTimeOffset? from, DateTimeOffset? to, string? bucket, SiteModel site, OccupancyHistory history, TimeProvider clock)
    {
        if (room is null || site.Rooms.All(r => r.Id != room))
        {
            return ApiProblems.NotFound("no such room", $"Give a room of the site, such as ?room={site.Rooms.FirstOrDefault()?.Id}.");
        }

        if (ApiProblems.Bucket(bucket, CalendarBucket.Hour, [CalendarBucket.Hour, CalendarBucket.Day, CalendarBucket.Week, CalendarBucket.Month, CalendarBucket.Year], out var b) is { } badBucket)
        {
            return badBucket;
        }

        if (ApiProblems.Window(from, to, clock.GetUtcNow(), TimeSpan.FromDays(1), b == CalendarBucket.Hour ? 93 : 3660, out var start, out var end) is { } problem)
        {
            return problem;
        }

        history.Refresh();
        return TypedResults.Ok(history.History(room, start, end, b));
    }
}
