using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Hosting;

namespace NewTechPark.Edge.Collector.Api.Security;

/// <summary>
/// The collector's bearer tokens as an ASP.NET Core authentication scheme: a token from
/// <c>Collector:Auth:Tokens</c> (or <c>Collector:Admin:Token</c>) becomes a principal with the
/// token's name and role; the role policies (<see cref="AccessRoles"/>) decide per endpoint.
/// Refusals are RFC 7807 problems:
/// <list type="bullet">
/// <item>no token configured at all: 403, calls that need one are turned off (no credentials can help);</item>
/// <item>no bearer token: 401 with <c>WWW-Authenticate: Bearer</c>; a wrong one: 401 with
/// <c>error="invalid_token"</c>, counted per client address;</item>
/// <item>an address that sent <c>Collector:Http:AuthFailureLimit</c> wrong tokens within the window: 429
/// with Retry-After for every call without a right token until the window ends; a right token still
/// goes through, so a guesser behind a shared (NAT) address cannot lock the staff out;</item>
/// <item>a right token whose role is too low: 403 naming the role needed.</item>
/// </list>
/// Tokens are compared in constant time and never logged; their names are.
/// </summary>
public sealed class TokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> schemeOptions,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    IOptions<CollectorOptions> collector,
    TokenFailures failures)
    : AuthenticationHandler<AuthenticationSchemeOptions>(schemeOptions, loggerFactory, encoder)
{
    public const string SchemeName = "Bearer";

    private const string Realm = "Bearer realm=\"collector\"";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var bearer = BearerTokens.Of(Request);
        if (bearer is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        // Read per request: tests (and a future reload) may set tokens after start.
        var tokens = AuthOptionsValidator.Configured(collector.Value);
        if (tokens.Count == 0)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (BearerTokens.Find(bearer, tokens) is not { } token)
        {
            // The message is logged by the framework at Information: it must never hold the token.
            return Task.FromResult(AuthenticateResult.Fail("the bearer token is none of this collector's tokens"));
        }

        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, token.Name), new Claim(ClaimTypes.Role, token.Role.Name()), new Claim(AccessRoles.CallerNameClaim, token.Name)],
            SchemeName, ClaimTypes.Name, ClaimTypes.Role);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    /// <summary>No right token on a call that needs one: 403 (turned off), 429 (locked out), or 401.</summary>
    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (AuthOptionsValidator.Configured(collector.Value).Count == 0)
        {
            await Refuse(StatusCodes.Status403Forbidden, "tokens are turned off",
                "This collector has no tokens configured, so calls that need one are turned off; set Collector:Auth:Tokens (name, role lab/staff/admin, token) " +
                "or Collector:Admin:Token (or NTP_Collector__Admin__Token) and send it as 'Authorization: Bearer <token>'.");
            return;
        }

        // Throttle the failures, not the successes: staff behind one NAT address share it with a
        // guesser, and a right token must keep working for them.
        var client = ClientAddress.Of(Context);
        using (var budget = failures.Limiter.AttemptAcquire(client, 0))
        {
            if (!budget.IsAcquired)
            {
                await HttpSecurityExtensions.TooManyRequestsAsync(Context, budget, "too many wrong tokens",
                    "This address sent too many wrong tokens; its calls without a right token are refused until the wait is over.");
                return;
            }
        }

        var result = await HandleAuthenticateOnceSafeAsync();
        if (result.Failure is null)
        {
            Response.Headers.WWWAuthenticate = Realm;
            await Refuse(StatusCodes.Status401Unauthorized, "token missing",
                $"This call needs a {RequiredRole()?.Name() ?? "valid"} token (or one of a higher role): send it as 'Authorization: Bearer <token>'.");
            return;
        }

        failures.Limiter.AttemptAcquire(client, 1).Dispose();
        Logger.LogWarning("Refused {Method} {Path} from {Client}: wrong token", Request.Method, Request.Path, client);
        Response.Headers.WWWAuthenticate = Realm + ", error=\"invalid_token\"";
        await Refuse(StatusCodes.Status401Unauthorized, "token wrong", "The bearer token is none of this collector's tokens.");
    }

    /// <summary>A right token whose role is too low: 403 naming the role needed and the token's own.</summary>
    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        var principal = (await HandleAuthenticateOnceSafeAsync()).Principal;
        var name = principal?.FindFirstValue(AccessRoles.CallerNameClaim) ?? "?";
        var role = AccessRoles.Parse(principal?.FindFirstValue(ClaimTypes.Role));
        var needed = RequiredRole() ?? AccessRole.Admin;
        Logger.LogInformation("Refused {Method} {Path} to token {Token} ({Role}): needs {Needed}", Request.Method, Request.Path, name, role?.Name(), needed.Name());
        await Refuse(StatusCodes.Status403Forbidden, $"{needed.Name()} role needed",
            $"This call needs a {needed.Name()} token (or one of a higher role); the token '{name}' has the role {role?.Name()}.",
            new Dictionary<string, object?> { ["needed_role"] = needed.Name(), ["role"] = role?.Name(), ["token_name"] = name });
    }

    /// <summary>The highest role the endpoint's policies ask for, or null when none is a role's.</summary>
    private AccessRole? RequiredRole() => RequiredRole(Context.GetEndpoint());

    /// <summary>The highest role an endpoint's authorization policies ask for; null: no role needed.</summary>
    public static AccessRole? RequiredRole(Endpoint? endpoint) =>
        endpoint?.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => AccessRoles.OfPolicy(a.Policy)).Where(r => r is not null).Max();

    private Task Refuse(int status, string title, string detail, IDictionary<string, object?>? extensions = null) =>
        TypedResults.Problem(title: title, detail: detail, statusCode: status, extensions: extensions).ExecuteAsync(Context);
}

/// <summary>Wrong tokens per client address, in fixed windows; a singleton, so the container disposes its timer.</summary>
public sealed class TokenFailures : IDisposable
{
    public TokenFailures(IOptions<CollectorOptions> options)
    {
        var http = options.Value.Http;
        Limiter = PartitionedRateLimiter.Create<string, string>(client => RateLimitPartition.GetFixedWindowLimiter(client,
            _ => new FixedWindowRateLimiterOptions
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
