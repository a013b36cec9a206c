using System.Security.Claims;
using NewTechPark.Edge.Collector.Api.Security;

namespace NewTechPark.Edge.Collector.Api;

/// <summary>The answer of <c>GET /api/v1/auth/whoami</c>: the token's name, its role, and every role whose calls it may make.</summary>
public sealed record WhoAmI(string Name, string Role, IReadOnlyList<string> Roles);

public static class AuthApi
{
    /// <summary>
    /// <c>GET /api/v1/auth/whoami</c>: which token the pages hold, so they show its role and hide what it may not do.
    /// It needs a token of any role, so a wrong one is refused and counted like on any other call
    /// (a guesser learns nothing here that a write would not tell him).
    /// </summary>
    public static RouteGroupBuilder MapAuthApi(this RouteGroupBuilder api)
    {
        api.MapGet("/auth/whoami", (ClaimsPrincipal user) =>
            {
                var role = AccessRoles.Parse(user.FindFirstValue(ClaimTypes.Role)) ?? Configuration.AccessRole.Lab;
                return TypedResults.Ok(new WhoAmI(user.FindFirstValue(AccessRoles.CallerNameClaim) ?? "?", role.Name(),
                    AccessRoles.All.Where(r => r <= role).Select(r => r.Name()).ToArray()));
            })
            .RequireLab()
            .WithName("GetWhoAmI").WithSummary("The bearer token's name and role (lab, staff or admin) and the roles whose calls it may make; 401 without a valid token.")
            .Produces<WhoAmI>();
        return api;
    }
}
