using NewTechPark.Edge.Collector.Configuration;

namespace NewTechPark.Edge.Collector.Api.Security;

/// <summary>The roles as the API and the pages name them, and the hierarchy behind the policies.</summary>
public static class AccessRoles
{
    /// <summary>The claim holding the token's name (<c>klas-3b</c>), besides <see cref="System.Security.Claims.ClaimTypes.Role"/>.</summary>
    public const string CallerNameClaim = "ntp:token";

    public static readonly IReadOnlyList<AccessRole> All = [AccessRole.Lab, AccessRole.Staff, AccessRole.Admin];

    /// <summary><c>lab</c>, <c>staff</c>, <c>admin</c>: the role claim's value and the wire name.</summary>
    public static string Name(this AccessRole role) => role switch
    {
        AccessRole.Lab => "lab",
        AccessRole.Staff => "staff",
        AccessRole.Admin => "admin",
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, null),
    };

    /// <summary>The authorization policy that lets <paramref name="role"/> and every role above it through: <c>Lab</c>, <c>Staff</c>, <c>Admin</c>.</summary>
    public static string Policy(this AccessRole role) => role.ToString();

    /// <summary>The role a policy name stands for, or null for a policy that is not a role's.</summary>
    public static AccessRole? OfPolicy(string? policy) => All.Cast<AccessRole?>().FirstOrDefault(r => r!.Value.Policy() == policy);

    /// <summary>The role names that may do what <paramref name="role"/> may (it and every role above).</summary>
    public static string[] AtLeast(AccessRole role) => All.Where(r => r >= role).Select(Name).ToArray();

    /// <summary>The role of a role claim's value, or null.</summary>
    public static AccessRole? Parse(string? name) => All.Cast<AccessRole?>().FirstOrDefault(r => r!.Value.Name() == name);
}
