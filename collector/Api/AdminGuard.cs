using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Hosting;

namespace NewTechPark.Edge.Collector.Api;

/// <summary>Marks an endpoint as an admin call: <see cref="AdminGuard"/> lets it through only with the admin token.</summary>
public sealed class AdminOnlyMetadata
{
    public static readonly AdminOnlyMetadata Instance = new();

    private AdminOnlyMetadata()
    {
    }
}

/// <summary>
/// Admin calls carry <c>Authorization: Bearer &lt;token&gt;</c> with the token from <c>Collector:Admin:Token</c>.
/// Runs as middleware after routing, so a refused call never reaches model binding or the handler:
/// <list type="bullet">
/// <item>no token configured: 403, admin calls are turned off (no credentials can help);</item>
/// <item>no bearer token, or the wrong one: 401 with <c>WWW-Authenticate: Bearer</c>;</item>
/// <item>a client address that sent <c>Collector:Http:AuthFailureLimit</c> wrong tokens within the window: 429
/// with Retry-After for every call without the right token until the window ends; the right token still
/// goes through, so a guesser behind a shared (NAT) address cannot lock the staff out.</item>
/// </list>
/// A right token allows every admin call; there are no roles. The token is never logged.
/// </summary>
public sealed class AdminGuard(RequestDelegate next, IOptions<CollectorOptions> options, AdminTokenFailures failures, ILogger<AdminGuard> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<AdminOnlyMetadata>() is null)
        {
            await next(context);
            return;
        }

        // Read per request: tests (and a future reload) may set the token after start.
        var token = options.Value.Admin.Token;
        if (string.IsNullOrEmpty(token))
        {
            await Refuse(context, StatusCodes.Status403Forbidden, "admin calls are turned off",
                "This collector has no admin token, so admin calls are turned off; set Collector:Admin:Token (or NTP_Collector__Admin__Token) and send it as 'Authorization: Bearer <token>'.");
            return;
        }

        // Throttle the failures, not the successes: staff behind one NAT address share it with a
        // guesser, and the right token (compared in constant time) must keep working for them.
        var bearer = BearerOf(context);
        if (bearer is not null && SameToken(bearer, token))
        {
            await next(context);
            return;
        }

        var client = ClientAddress.Of(context);
        using (var budget = failures.Limiter.AttemptAcquire(client, 0))
        {
            if (!budget.IsAcquired)
            {
                await HttpSecurityExtensions.TooManyRequestsAsync(context, budget, "too many wrong admin tokens",
                    "This address sent too many wrong admin tokens; admin calls from it without the right token are refused until the wait is over.");
                return;
            }
        }

        if (bearer is null)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer realm=\"collector\"";
            await Refuse(context, StatusCodes.Status401Unauthorized, "admin token missing", "Send the admin token as 'Authorization: Bearer <token>'.");
            return;
        }

        failures.Limiter.AttemptAcquire(client, 1).Dispose();
        logger.LogWarning("Refused an admin call {Method} {Path} from {Client}: wrong admin token", context.Request.Method, context.Request.Path, client);
        context.Response.Headers.WWWAuthenticate = "Bearer realm=\"collector\", error=\"invalid_token\"";
        await Refuse(context, StatusCodes.Status401Unauthorized, "admin token wrong", "The bearer token is not this collector's admin token.");
    }

    /// <summary>The token of an <c>Authorization: Bearer</c> header, or null.</summary>
    public static string? BearerOf(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
    }

    /// <summary>Compares SHA-256 hashes in constant time: neither the content nor the length of the token leaks through timing.</summary>
    public static bool SameToken(string given, string expected) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));

    private static Task Refuse(HttpContext context, int status, string title, string detail) =>
        TypedResults.Problem(title: title, detail: detail, statusCode: status).ExecuteAsync(context);
}

/// <summary>Wrong admin tokens per client address, in fixed windows; a singleton, so the container disposes its timer.</summary>
public sealed class AdminTokenFailures : IDisposable
{
    public AdminTokenFailures(IOptions<CollectorOptions> options)
    {
        var http = options.Value.Http;
        Limiter = PartitionedRateLimiter.Create<string, string>(client => RateLimitPartition.GetFixedWindowLimiter(client, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = http.AuthFailureLimit,
            Window = http.AuthFailureWindow,
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
    }

    public PartitionedRateLimiter<string> Limiter { get; }

    public void Dispose() => Limiter.Dispose();
}

/// <summary><c>.RequireAdmin()</c> on an endpoint: only callers with the admin token reach it.</summary>
public static class AdminGuardExtensions
{
    public static RouteHandlerBuilder RequireAdmin(this RouteHandlerBuilder builder) =>
        builder.WithMetadata(AdminOnlyMetadata.Instance)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
}
