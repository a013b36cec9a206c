using System.Globalization;
using System.Threading.RateLimiting;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Api.Security;
using NewTechPark.Edge.Collector.Configuration;

namespace NewTechPark.Edge.Collector.Hosting;

/// <summary>
/// HTTP hardening: security headers on every response, CORS only for configured origins and only for
/// GET, a per-client limit on state-changing requests, and the bearer tokens with their roles
/// (ASP.NET Core authentication and authorization: <see cref="TokenAuthenticationHandler"/>, one policy per role).
/// </summary>
public static class HttpSecurityExtensions
{
    /// <summary>
    /// The pages load scripts and styles from the collector only (no inline script, no inline style);
    /// <c>data:</c> images are the pages' empty favicon. Nothing may frame the pages.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; " +
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    private const string CorsPolicy = "configured-origins";

    private static readonly KeyValuePair<string, string>[] SecurityHeaders =
    [
        new("Content-Security-Policy", ContentSecurityPolicy),
        new("X-Content-Type-Options", "nosniff"),
        new("X-Frame-Options", "DENY"),
        new("Referrer-Policy", "no-referrer"),
        new("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
        new("Cross-Origin-Opener-Policy", "same-origin"),
    ];

    public static IServiceCollection AddHttpSecurity(this IServiceCollection services)
    {
        services.AddSingleton<IValidateOptions<CollectorOptions>, HttpOptionsValidator>();
        services.AddSingleton<IValidateOptions<CollectorOptions>, AuthOptionsValidator>();
        services.AddSingleton<TokenFailures>();
        services.AddAuthentication(TokenAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, TokenAuthenticationHandler>(TokenAuthenticationHandler.SchemeName, _ => { });
        services.AddAuthorization(authorization =>
        {
            foreach (var role in AccessRoles.All)
            {
                authorization.AddPolicy(role.Policy(), policy => policy.AddAuthenticationSchemes(TokenAuthenticationHandler.SchemeName)
                    .RequireAuthenticatedUser().RequireRole(AccessRoles.AtLeast(role)));
            }
        });
        services.AddRolesToOpenApi();
        services.AddCors();
        services.AddOptions<Microsoft.AspNetCore.Cors.Infrastructure.CorsOptions>().Configure<IOptions<CollectorOptions>>((cors, collector) =>
            cors.AddPolicy(CorsPolicy, policy => policy.WithOrigins(collector.Value.Http.NormalisedCorsOrigins()).WithMethods(HttpMethods.Get, HttpMethods.Head).AllowAnyHeader()));
        // The limits come from the validated CollectorOptions, so they are set once the container can give them.
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<CollectorOptions>>((limiter, collector) =>
        {
            var http = collector.Value.Http;
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            // Reads (pages, polling dashboards, the live stream) are never limited; every other method is.
            // Writes with a right token have that token's own budget, apart from the address's: a
            // guesser behind the staff's NAT address spends only the budget of that address.
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context => IsRead(context.Request.Method)
                ? RateLimitPartition.GetNoLimiter("reads")
                : RateLimitPartition.GetTokenBucketLimiter(WriterOf(context), _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = http.WriteBurst,
                    TokensPerPeriod = 1,
                    ReplenishmentPeriod = TimeSpan.FromMinutes(1) / http.WritesPerMinute,
                    QueueLimit = 0,
                    AutoReplenishment = true,
                }));
            limiter.OnRejected = (rejected, _) => new ValueTask(TooManyRequestsAsync(rejected.HttpContext, rejected.Lease, "too many writes",
                $"This address may make {http.WritesPerMinute} changes per minute ({http.WriteBurst} at once); try again after the wait."));
        });
        return services;
    }

    /// <summary>First in the pipeline after the exception handler, so every response, error pages included, gets the headers.</summary>
    public static WebApplication UseHttpSecurity(this WebApplication app)
    {
        app.Use((context, next) =>
        {
            // At response start: the exception handler clears headers set earlier.
            context.Response.OnStarting(() =>
            {
                foreach (var (name, value) in SecurityHeaders)
                {
                    context.Response.Headers[name] = value;
                }

                return Task.CompletedTask;
            });
            return next(context);
        });

        // No origins configured: no CORS middleware at all, so no CORS headers on any response.
        if (app.Services.GetRequiredService<IOptions<CollectorOptions>>().Value.Http.CorsOrigins.Count > 0)
        {
            app.UseWhen(context => CorsApplies(context.Request), branch => branch.UseCors(CorsPolicy));
        }

        // Authentication first, so the write limit can give each right token its own budget; the
        // role policies after it, still before model binding and the handler.
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();
        return app;
    }

    /// <summary>429 with Retry-After (whole seconds, at least 1) and an RFC 7807 body.</summary>
    public static Task TooManyRequestsAsync(HttpContext context, RateLimitLease lease, string title, string detail)
    {
        var wait = lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromMinutes(1);
        var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return TypedResults.Problem(title: title, detail: $"{detail} Wait {seconds} s.", statusCode: StatusCodes.Status429TooManyRequests).ExecuteAsync(context);
    }

    /// <summary>Whose write budget a write spends: its right token's (by name), or its client address's.</summary>
    private static string WriterOf(HttpContext context) =>
        context.User.FindFirstValue(AccessRoles.CallerNameClaim) is { } token
            ? "token:" + token
            : "address:" + ClientAddress.Of(context);

    /// <summary>Reads, and preflights that ask for a read: a preflight for a write gets no CORS headers at all.</summary>
    private static bool CorsApplies(HttpRequest request) =>
        HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method)
        || (HttpMethods.IsOptions(request.Method) && request.Headers.AccessControlRequestMethod.ToString() is var asked && (HttpMethods.IsGet(asked) || HttpMethods.IsHead(asked)));

    private static bool IsRead(string method) =>
        HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method);
}

/// <summary>The key the limits count by: the connection's address (the collector is reached directly, not through a proxy, so no X-Forwarded-For).</summary>
public static class ClientAddress
{
    public static string Of(HttpContext context)
    {
        var address = context.Connection.RemoteIpAddress;
        if (address is null)
        {
            return "unknown";
        }

        return (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString();
    }
}
