using NewTechPark.Edge.Collector.Storage.Rollups;
using NewTechPark.Edge.Collector.Visitors;

namespace NewTechPark.Edge.Collector.Api;

public static class VisitorsApi
{
    /// <summary><c>GET /api/v1/visitors</c> and the group visits.</summary>
    public static RouteGroupBuilder MapVisitorsApi(this RouteGroupBuilder api)
    {
        api.MapGet("/visitors", (DateTimeOffset? from, DateTimeOffset? to, string? bucket, VisitorsService visitors, TimeProvider clock) =>
            {
                if (ApiProblems.Bucket(bucket, CalendarBucket.Day, [CalendarBucket.Day, CalendarBucket.Week, CalendarBucket.Month, CalendarBucket.Year], out var b) is { } badBucket)
                {
                    return badBucket;
                }

                return ApiProblems.Window(from, to, clock.GetUtcNow(), TimeSpan.FromDays(30), 3660, out var start, out var end)
                    ?? TypedResults.Ok(visitors.Report(start, end, b));
            })
            .WithName("GetVisitors").WithSummary("Visits, unique and returning visitors (badges; 1 to 4 shown as \"< 5\"), group visits and event days per local day, ISO week, month or year.")
            .Produces<VisitorsReport>().ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapPost("/visitors/groups", (GroupVisitRequest? body, GroupVisits groups) =>
            {
                var problems = body is null ? ["send a JSON body"] : groups.Check(body);
                return problems.Count > 0
                    ? ApiProblems.BadRequest("group visit is not valid", string.Join("; ", problems))
                    : TypedResults.Created("/api/v1/visitors/groups", groups.Register(body!));
            })
            .RequireStaff()
            .WithName("PostGroupVisit").WithSummary("Registers a group visit (staff or admin token): { date, programme, target_group (PO, VO, MBO, HBO/WO, vakmensen, zij-instromers, bedrijven), head_count, room?, event?, note? }.")
            .Produces<GroupVisit>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapGet("/visitors/groups", (DateOnly? from, DateOnly? to, GroupVisits groups, VisitorsService visitors, TimeProvider clock) =>
            {
                var today = visitors.Buckets.LocalDay(clock.GetUtcNow().ToUnixTimeMilliseconds());
                var first = from ?? new DateOnly(today.Year, 1, 1);
                var last = to ?? today.AddDays(1);
                if ((ApiProblems.DateRange("from", first) ?? ApiProblems.DateRange("to", last)) is { } outOfRange)
                {
                    return outOfRange;
                }

                return first >= last
                    ? ApiProblems.BadRequest("from is not before to", "from must be an earlier date than to (to is exclusive).")
                    : TypedResults.Ok(groups.List(groups.DayStart(first), groups.DayStart(last)));
            })
            .WithName("GetGroupVisits").WithSummary("Registered group visits between two local dates (to exclusive; default: this year so far).")
            .Produces<IReadOnlyList<GroupVisit>>().ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapDelete("/visitors/groups/{id:long}", (long id, GroupVisits groups) =>
                groups.Delete(id) ? TypedResults.NoContent() : ApiProblems.NotFound("no such group visit", $"No group visit {id}."))
            .RequireStaff()
            .WithName("DeleteGroupVisit").WithSummary("Removes a wrongly registered group visit (staff or admin token).")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound);
        return api;
    }
}
