using NewTechPark.Edge.Collector.Api.Security;
using NewTechPark.Edge.Collector.Configuration;

namespace NewTechPark.Edge.Collector.Api;

/// <summary>
/// Which token role an endpoint needs, as ASP.NET Core authorization policies (<c>Lab</c>, <c>Staff</c>,
/// <c>Admin</c>; each lets the roles above it through). Every endpoint that is not a GET needs one
/// (HttpSecurityTests walks them all); <see cref="RequireAdmin"/> is the default for a new one.
/// </summary>
public static class EndpointRoles
{
    /// <summary>A lab, staff or admin token: DC-Lab experiment sessions.</summary>
    public static RouteHandlerBuilder RequireLab(this RouteHandlerBuilder builder) => builder.RequireRole(AccessRole.Lab);

    /// <summary>A staff or admin token: occupancy corrections, group visits.</summary>
    public static RouteHandlerBuilder RequireStaff(this RouteHandlerBuilder builder) => builder.RequireRole(AccessRole.Staff);

    /// <summary>An admin token: everything else that changes state.</summary>
    public static RouteHandlerBuilder RequireAdmin(this RouteHandlerBuilder builder) => builder.RequireRole(AccessRole.Admin);

    public static RouteHandlerBuilder RequireRole(this RouteHandlerBuilder builder, AccessRole role) =>
        builder.RequireAuthorization(role.Policy())
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
}
