using System.Security.Claims;
using System.Text;
using NewTechPark.Edge.Collector.Storage;

namespace NewTechPark.Edge.Collector.Api;

public static class ExperimentsApi
{
    /// <summary>DC-Lab experiment sessions: list and CSV for everyone; start and stop need a lab, staff or admin token.</summary>
    public static RouteGroupBuilder MapExperimentsApi(this RouteGroupBuilder api)
    {
        api.MapGet("/experiments", (ExperimentSessions sessions) => TypedResults.Ok(sessions.List()))
            .WithName("GetExperiments").WithSummary("DC-Lab experiment sessions, newest first (at most 200).")
            .Produces<IReadOnlyList<ExperimentSession>>();
        api.MapPost("/experiments", (ExperimentStartRequest? body, ExperimentSessions sessions, ClaimsPrincipal user) =>
            {
                var problems = body is null ? ["send a JSON body: { \"name\": \"...\", \"notes\": \"...\", \"sensor\": \"dc-bench-1\" or null for every bench }"] : sessions.Check(body);
                if (problems.Count > 0)
                {
                    return ApiProblems.BadRequest("experiment session is not valid", string.Join("; ", problems));
                }

                // Started by whom the student typed, else by the token's name (klas-3b).
                var session = sessions.Start(string.IsNullOrWhiteSpace(body!.By) && user.Identity?.Name is { } token ? body with { By = token } : body);
                return TypedResults.Created($"/api/v1/experiments/{session.Id}", session);
            })
            .RequireLab()
            .WithName("StartExperiment").WithSummary("Starts a session now: { \"name\": \"...\", \"notes\": \"...\", \"sensor\": null | \"dc-bench-1\" } (lab, staff or admin token: Authorization: Bearer <token>).")
            .Produces<ExperimentSession>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapPost("/experiments/{id:long}/stop", (long id, ExperimentSessions sessions) =>
            {
                var (session, wasRunning) = sessions.Stop(id);
                if (session is null)
                {
                    return ApiProblems.NotFound("no such experiment session", $"No session {id}.");
                }

                return wasRunning
                    ? TypedResults.Ok(session)
                    : TypedResults.Problem(title: "session has stopped already", detail: $"Session {id} stopped at {session.Stopped:O}.", statusCode: StatusCodes.Status409Conflict);
            })
            .RequireLab()
            .WithName("StopExperiment").WithSummary("Stops a running session now (lab, staff or admin token).")
            .Produces<ExperimentSession>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        api.MapGet("/experiments/{id:long}/csv", async (long id, HttpContext context, ExperimentSessions sessions) =>
            {
                if (sessions.Get(id) is not { } session)
                {
                    await ApiProblems.NotFound("no such experiment session", $"No session {id}.").ExecuteAsync(context);
                    return;
                }

                if (!sessions.HasRawPoints)
                {
                    await TypedResults.Problem(title: "raw points are in InfluxDB only",
                        detail: "With Collector:Influx:Mode=Instead the session's raw readings are in InfluxDB; query it for this window.",
                        statusCode: StatusCodes.Status409Conflict).ExecuteAsync(context);
                    return;
                }

                context.Response.ContentType = "text/csv; charset=utf-8";
                context.Response.Headers.ContentDisposition = $"attachment; filename=\"experiment-{id}.csv\"";
                await using var writer = new StreamWriter(context.Response.Body, new UTF8Encoding(false), 64 * 1024);
                await sessions.WriteCsvAsync(session, writer, context.RequestAborted);
            })
            .WithName("GetExperimentCsv").WithSummary("A session's raw dc readings as CSV: ts_utc, sensor, voltage_v, current_a, power_w.");
        return api;
    }
}
