using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;

namespace NewTechPark.Edge.Collector.Api;

/// <summary>
/// Admin calls carry <c>Authorization: Bearer &lt;token&gt;</c> with the token from
/// <c>Collector:Admin:Token</c>. Without a configured token every admin call is refused.
/// </summary>
public static class AdminGuard
{
    /// <summary>A 401 problem when the call may not go ahead; null when it may.</summary>
    public static IResult? Check(HttpContext context)
    {
        var token = context.RequestServices.GetRequiredService<IOptions<CollectorOptions>>().Value.Admin.Token;
        if (string.IsNullOrEmpty(token))
        {
            return Unauthorized(context, "admin calls are not configured",
                "This collector has no admin token; set Collector:Admin:Token (or NTP_Collector__Admin__Token) and send it as 'Authorization: Bearer <token>'.");
        }

        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return Unauthorized(context, "admin token missing", "Send the admin token as 'Authorization: Bearer <token>'.");
        }

        var given = Encoding.UTF8.GetBytes(header["Bearer ".Length..].Trim());
        var expected = Encoding.UTF8.GetBytes(token);
        return CryptographicOperations.FixedTimeEquals(given, expected) ? null : Unauthorized(context, "admin token wrong", "The bearer token is not this collector's admin token.");
    }

    private static IResult Unauthorized(HttpContext context, string title, string detail)
    {
        context.Response.Headers.WWWAuthenticate = "Bearer";
        return TypedResults.Problem(title: title, detail: detail, statusCode: StatusCodes.Status401Unauthorized);
    }
}
