using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Api;
using NewTechPark.Edge.Collector.Api.Security;
using NewTechPark.Edge.Collector.Configuration;

namespace NewTechPark.Edge.Collector.Tests.Http;

/// <summary>
/// The token roles over real HTTP: every endpoint against its role (lab, staff, admin or none) for no
/// token, a wrong token and each role's token; who may do what; the wrong-token limiter with roles;
/// each token's own write budget; the token settings refused at start.
/// </summary>
public sealed partial class RolesApiTests
{
    private const string LabToken = "lab-token-of-klas-3b-0123456789";
    private const string StaffToken = "staff-token-of-facilitair-0123456789";
    private const string AdminToken = "admin-token-of-beheer-0123456789";
    private const string Correction = "/api/v1/occupancy/dc-lab/corrections";

    private static readonly string[] Tokens =
    [
        "--Collector:Auth:Tokens:0:Name=klas-3b", "--Collector:Auth:Tokens:0:Role=lab", $"--Collector:Auth:Tokens:0:Token={LabToken}",
        "--Collector:Auth:Tokens:1:Name=facilitair", "--Collector:Auth:Tokens:1:Role=Staff", $"--Collector:Auth:Tokens:1:Token={StaffToken}",
        "--Collector:Auth:Tokens:2:Name=beheer", "--Collector:Auth:Tokens:2:Role=Admin", $"--Collector:Auth:Tokens:2:Token={AdminToken}",
    ];

    // Generous limits for the tests that are not about them, so they never trip one by accident.
    private static readonly string[] NoLimits =
    [
        "--Collector:Http:WriteBurst=1000", "--Collector:Http:WritesPerMinute=600", "--Collector:Http:AuthFailureLimit=10000", "--Collector:Stream:MaxClientsPerAddress=1000",
    ];

    /// <summary>The role each endpoint of the collector needs; any other endpoint that is not a GET must need one too.</summary>
    private static readonly Dictionary<string, AccessRole?> Expected = new(StringComparer.Ordinal)
    {
        ["POST /api/v1/experiments"] = AccessRole.Lab,
        ["POST /api/v1/experiments/{id:long}/stop"] = AccessRole.Lab,
        ["GET /api/v1/auth/whoami"] = AccessRole.Lab,
        ["POST /api/v1/occupancy/{room}/corrections"] = AccessRole.Staff,
        ["POST /api/v1/visitors/groups"] = AccessRole.Staff,
        ["DELETE /api/v1/visitors/groups/{id:long}"] = AccessRole.Staff,
        ["GET /api/v1/experiments"] = null,
        ["GET /api/v1/experiments/{id:long}/csv"] = null,
        ["GET /api/v1/occupancy"] = null,
        ["GET /api/v1/occupancy/corrections"] = null,
        ["GET /api/v1/visitors/groups"] = null,
        ["GET /api/v1/site"] = null,
    };

    private static readonly (string Caller, string? Token, AccessRole? Role)[] Callers =
    [
        ("no token", null, null), ("a wrong token", "a-wrong-token-of-some-length", null),
        ("lab", LabToken, AccessRole.Lab), ("staff", StaffToken, AccessRole.Staff), ("admin", AdminToken, AccessRole.Admin),
    ];

    [Fact]
    public async Task Every_endpoint_answers_no_token_a_wrong_token_and_each_role_as_its_role_says()
    {
        await using var collector = await InProcessCollector.StartAsync([.. Tokens, .. NoLimits]);
        var seen = new Dictionary<string, AccessRole?>(StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var endpoint in collector.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            // No method metadata means every method: that counts as a write too.
            var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET", "POST", "PUT", "PATCH", "DELETE"];
            var declared = TokenAuthenticationHandler.RequiredRole(endpoint);
            if (endpoint.Metadata.GetOrderedMetadata<Microsoft.AspNetCore.Authorization.IAuthorizeData>().Any(a => AccessRoles.OfPolicy(a.Policy) is null))
            {
                problems.Add($"{endpoint.RoutePattern.RawText} asks for an authorization policy that is not a role's: use .RequireLab(), .RequireStaff() or .RequireAdmin()");
            }

            foreach (var method in methods.Where(m => !HttpMethods.IsHead(m)))
            {
                var name = $"{method} /{endpoint.RoutePattern.RawText?.TrimStart('/')}";
                seen[name] = declared;
                if (Expected.TryGetValue(name, out var expected) && expected != declared)
                {
                    problems.Add($"{name} needs {declared?.Name() ?? "no token"}, expected {expected?.Name() ?? "no token"}");
                }
                else if (!HttpMethods.IsGet(method) && declared is null)
                {
                    problems.Add($"{name} changes state but needs no token: add .RequireAdmin() (or .RequireStaff(), .RequireLab())");
                }

                foreach (var (caller, token, role) in Callers)
                {
                    using var response = await SendAsync(collector, new HttpMethod(method), Concrete(endpoint.RoutePattern.RawText!), new { }, token, headersOnly: true);
                    var status = (int)response.StatusCode;
                    var outcome = $"{name} with {caller}: {status}";
                    if (declared is null || (role is { } r && r >= declared))
                    {
                        if (status is 401 or 403 or 429)
                        {
                            problems.Add($"{outcome}, expected to be let through");
                        }
                    }
                    else if (token is null)
                    {
                        if (status != 401 || response.Headers.WwwAuthenticate.SingleOrDefault()?.Scheme != "Bearer" || await TitleAsync(response) != "token missing")
                        {
                            problems.Add($"{outcome}, expected 401 'token missing' with a Bearer challenge");
                        }
                    }
                    else if (role is null)
                    {
                        if (status != 401 || response.Headers.WwwAuthenticate.SingleOrDefault()?.Parameter?.Contains("error=\"invalid_token\"", StringComparison.Ordinal) != true)
                        {
                            problems.Add($"{outcome}, expected 401 with error=\"invalid_token\"");
                        }
                    }
                    else if (status != 403 || (await ProblemAsync(response)).GetProperty("needed_role").GetString() != declared.Value.Name())
                    {
                        problems.Add($"{outcome}, expected 403 naming the role {declared.Value.Name()}");
                    }
                }
            }
        }

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
        // The endpoints this test names are among them (so the loop above did test something).
        Assert.Empty(Expected.Keys.Except(seen.Keys));
    }

    [Fact]
    public async Task A_lab_token_starts_and_stops_sessions_and_nothing_else_a_staff_token_also_corrects_and_registers()
    {
        await using var collector = await InProcessCollector.StartAsync([.. Tokens, .. NoLimits]);

        var started = await SendAsync(collector, HttpMethod.Post, "/api/v1/experiments", new { name = "zonnepaneel", sensor = (string?)null }, LabToken);
        Assert.Equal(HttpStatusCode.Created, started.StatusCode);
        var session = JsonDocument.Parse(await started.Content.ReadAsStringAsync()).RootElement;
        // Nobody typed a name: the token's name says who started it.
        Assert.Equal("klas-3b", session.GetProperty("started_by").GetString());
        var id = session.GetProperty("id").GetInt64();
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(collector, HttpMethod.Post, $"/api/v1/experiments/{id}/stop", new { }, LabToken)).StatusCode);

        var refused = await SendAsync(collector, HttpMethod.Post, Correction, new { count = 3, reason = "geteld" }, LabToken);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Empty(refused.Headers.WwwAuthenticate);
        var problem = await ProblemAsync(refused);
        Assert.Equal("staff role needed", problem.GetProperty("title").GetString());
        Assert.Equal("staff", problem.GetProperty("needed_role").GetString());
        Assert.Equal("lab", problem.GetProperty("role").GetString());
        Assert.Contains("klas-3b", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(collector, HttpMethod.Post, "/api/v1/visitors/groups", new { }, LabToken)).StatusCode);
        Assert.Empty(JsonDocument.Parse(await collector.Http.GetStringAsync("/api/v1/occupancy/corrections")).RootElement.EnumerateArray());

        var corrected = await SendAsync(collector, HttpMethod.Post, Correction, new { count = 3, reason = "geteld" }, StaffToken);
        Assert.Equal(HttpStatusCode.Created, corrected.StatusCode);
        Assert.Equal("facilitair", JsonDocument.Parse(await corrected.Content.ReadAsStringAsync()).RootElement.GetProperty("actor").GetString());
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(collector, HttpMethod.Post, "/api/v1/experiments", new { name = "accu laden", by = "Jan" }, StaffToken)).StatusCode);
        Assert.Equal("Jan", JsonDocument.Parse(await collector.Http.GetStringAsync("/api/v1/experiments")).RootElement[0].GetProperty("started_by").GetString());
    }

    [Fact]
    public async Task An_admin_call_refuses_lab_and_staff_and_takes_admin_tokens_and_the_single_admin_token_of_earlier_versions()
    {
        const string legacy = "legacy-admin-token-0123456789";
        await using var collector = await InProcessCollector.StartAsync(null, app => app.MapPost("/test/admin-only", () => TypedResults.Ok()).RequireAdmin(),
            [.. Tokens, .. NoLimits, $"--Collector:Admin:Token={legacy}"]);
        foreach (var token in new[] { LabToken, StaffToken })
        {
            var refused = await SendAsync(collector, HttpMethod.Post, "/test/admin-only", new { }, token);
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Equal("admin role needed", await TitleAsync(refused));
        }

        Assert.Equal(HttpStatusCode.OK, (await SendAsync(collector, HttpMethod.Post, "/test/admin-only", new { }, AdminToken)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(collector, HttpMethod.Post, "/test/admin-only", new { }, legacy)).StatusCode);
        var whoami = await WhoAmIAsync(collector, legacy);
        Assert.Equal(("admin", "admin"), (whoami.GetProperty("name").GetString(), whoami.GetProperty("role").GetString()));
    }

    [Theory]
    [InlineData(LabToken, "klas-3b", "lab", new[] { "lab" })]
    [InlineData(StaffToken, "facilitair", "staff", new[] { "lab", "staff" })]
    [InlineData(AdminToken, "beheer", "admin", new[] { "lab", "staff", "admin" })]
    public async Task Whoami_names_the_token_and_its_roles(string token, string name, string role, string[] roles)
    {
        await using var collector = await InProcessCollector.StartAsync([.. Tokens, .. NoLimits]);
        var whoami = await WhoAmIAsync(collector, token);
        Assert.Equal(name, whoami.GetProperty("name").GetString());
        Assert.Equal(role, whoami.GetProperty("role").GetString());
        Assert.Equal(roles, whoami.GetProperty("roles").EnumerateArray().Select(r => r.GetString()!).ToArray());
        // The token itself is not in the answer.
        Assert.DoesNotContain(token, whoami.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_tokens_configured_every_call_that_needs_one_is_403_turned_off()
    {
        await using var collector = await InProcessCollector.StartAsync(NoLimits);
        foreach (var token in new[] { null, AdminToken })
        {
            foreach (var (method, path) in new[] { (HttpMethod.Get, "/api/v1/auth/whoami"), (HttpMethod.Post, "/api/v1/experiments"), (HttpMethod.Post, Correction) })
            {
                var refused = await SendAsync(collector, method, path, new { name = "x" }, token);
                Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
                Assert.Empty(refused.Headers.WwwAuthenticate);
                Assert.Equal("tokens are turned off", await TitleAsync(refused));
            }
        }
    }

    [Fact]
    public async Task Wrong_tokens_on_any_call_lock_the_address_out_while_every_right_token_keeps_its_role()
    {
        var logs = new LogLines();
        await using var collector = await InProcessCollector.StartAsync(builder => builder.Logging.AddProvider(logs), null,
            [.. Tokens, "--Collector:Http:WriteBurst=1000", "--Collector:Http:WritesPerMinute=600", "--Collector:Http:AuthFailureLimit=3", "--Collector:Http:AuthFailureWindow=00:10:00",
                "--Logging:LogLevel:Default=Debug"]);

        // Guesses through whoami count like guesses through a write.
        const string guess = "guessed-token-number-0123456789";
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(collector, HttpMethod.Get, "/api/v1/auth/whoami", null, guess + "0")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(collector, HttpMethod.Post, "/api/v1/experiments", new { name = "x" }, guess + "1")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(collector, HttpMethod.Post, Correction, new { count = 1, reason = "x" }, guess + "2")).StatusCode);

        foreach (var (method, path) in new[] { (HttpMethod.Get, "/api/v1/auth/whoami"), (HttpMethod.Post, "/api/v1/experiments") })
        {
            var locked = await SendAsync(collector, method, path, new { name = "x" }, guess + "3");
            Assert.Equal(HttpStatusCode.TooManyRequests, locked.StatusCode);
            Assert.Equal("too many wrong tokens", await TitleAsync(locked));
            Assert.InRange(locked.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 500, 600);
            Assert.Equal(HttpStatusCode.TooManyRequests, (await SendAsync(collector, method, path, new { name = "x" }, null)).StatusCode);
        }

        // Right tokens from the same (NAT) address: each still does what its role allows, and only that.
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(collector, HttpMethod.Post, "/api/v1/experiments", new { name = "x" }, LabToken)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(collector, HttpMethod.Post, Correction, new { count = 1, reason = "x" }, LabToken)).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(collector, HttpMethod.Post, Correction, new { count = 1, reason = "x" }, StaffToken)).StatusCode);
        Assert.Equal("beheer", (await WhoAmIAsync(collector, AdminToken)).GetProperty("name").GetString());

        // The refusals are logged with the address, never with a token; names of right tokens may be.
        Assert.Contains(logs.Lines, l => l.Contains("wrong token", StringComparison.Ordinal));
        foreach (var secret in new[] { guess, LabToken, StaffToken, AdminToken })
        {
            Assert.DoesNotContain(logs.Lines, l => l.Contains(secret, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Each_token_has_its_own_write_budget()
    {
        await using var collector = await InProcessCollector.StartAsync([.. Tokens, "--Collector:Http:WriteBurst=2", "--Collector:Http:WritesPerMinute=1", "--Collector:Http:AuthFailureLimit=10000"]);
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(HttpStatusCode.Created, (await SendAsync(collector, HttpMethod.Post, "/api/v1/experiments", new { name = $"proef {i}" }, LabToken)).StatusCode);
        }

        var spent = await SendAsync(collector, HttpMethod.Post, "/api/v1/experiments", new { name = "proef 3" }, LabToken);
        Assert.Equal(HttpStatusCode.TooManyRequests, spent.StatusCode);
        Assert.Equal("too many writes", await TitleAsync(spent));
        // A class that spends its budget does not hold up the staff.
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(collector, HttpMethod.Post, Correction, new { count = 2, reason = "geteld" }, StaffToken)).StatusCode);
    }

    [Theory]
    [InlineData("Collector:Auth:Tokens:1:Token", "--Collector:Auth:Tokens:1:Name=klas-4a", "--Collector:Auth:Tokens:1:Role=Staff", $"--Collector:Auth:Tokens:1:Token={LabToken}")]
    [InlineData("Collector:Auth:Tokens:1:Token", "--Collector:Auth:Tokens:1:Name=klas-4a", "--Collector:Auth:Tokens:1:Role=Lab", $"--Collector:Auth:Tokens:1:Token={LabToken}")]
    [InlineData("Collector:Admin:Token", $"--Collector:Admin:Token={LabToken}")]
    [InlineData("Collector:Auth:Tokens:1:Name", "--Collector:Auth:Tokens:1:Name=klas-3b", "--Collector:Auth:Tokens:1:Role=Lab", $"--Collector:Auth:Tokens:1:Token={StaffToken}")]
    [InlineData("Collector:Auth:Tokens:0:Name", "--Collector:Admin:Token=the-single-admin-token-0123", "--Collector:Auth:Tokens:0:Name=admin")]
    [InlineData("Collector:Auth:Tokens:1:Role", "--Collector:Auth:Tokens:1:Name=klas-4a", $"--Collector:Auth:Tokens:1:Token={StaffToken}")]
    [InlineData("Collector:Auth:Tokens:1:Token", "--Collector:Auth:Tokens:1:Name=klas-4a", "--Collector:Auth:Tokens:1:Role=Lab")]
    public async Task A_wrong_token_setting_stops_the_start_naming_it_and_never_the_token(string named, params string[] settings)
    {
        string[] first = ["--Collector:Auth:Tokens:0:Name=klas-3b", "--Collector:Auth:Tokens:0:Role=Lab", $"--Collector:Auth:Tokens:0:Token={LabToken}"];
        var failure = await Assert.ThrowsAsync<OptionsValidationException>(async () => await (await InProcessCollector.StartAsync([.. first, .. settings])).DisposeAsync());
        var message = string.Join("\n", failure.Failures);
        Assert.Contains(named, message, StringComparison.Ordinal);
        foreach (var secret in new[] { LabToken, StaffToken, "the-single-admin-token-0123" })
        {
            Assert.DoesNotContain(secret, message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task More_tokens_than_the_limit_are_refused()
    {
        var settings = Enumerable.Range(0, AuthOptions.MaxTokens + 1).SelectMany(i => new[]
        {
            $"--Collector:Auth:Tokens:{i}:Name=klas-{i}", $"--Collector:Auth:Tokens:{i}:Role=Lab", $"--Collector:Auth:Tokens:{i}:Token=token-of-klas-{i}-0123456789",
        }).ToArray();
        var failure = await Assert.ThrowsAsync<OptionsValidationException>(async () => await (await InProcessCollector.StartAsync(settings)).DisposeAsync());
        Assert.Contains("Collector:Auth:Tokens holds 201 tokens", string.Join("\n", failure.Failures), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_OpenAPI_document_names_the_role_of_every_operation_that_needs_one()
    {
        await using var collector = await InProcessCollector.StartAsync(Tokens);
        var document = JsonDocument.Parse(await collector.Http.GetStringAsync("/openapi/v1.json")).RootElement;
        Assert.Equal("bearer", document.GetProperty("components").GetProperty("securitySchemes").GetProperty("Bearer").GetProperty("scheme").GetString());
        var paths = document.GetProperty("paths");
        string? RoleOf(string path, string method) =>
            paths.GetProperty(path).GetProperty(method).TryGetProperty("x-ntp-role", out var role) ? role.GetString() : null;
        Assert.Equal("lab", RoleOf("/api/v1/experiments", "post"));
        Assert.Equal("lab", RoleOf("/api/v1/auth/whoami", "get"));
        Assert.Equal("staff", RoleOf("/api/v1/occupancy/{room}/corrections", "post"));
        Assert.Equal("staff", RoleOf("/api/v1/visitors/groups", "post"));
        Assert.Null(RoleOf("/api/v1/experiments", "get"));
        Assert.True(paths.GetProperty("/api/v1/experiments").GetProperty("post").TryGetProperty("security", out _));
        Assert.False(paths.GetProperty("/api/v1/experiments").GetProperty("get").TryGetProperty("security", out _));
    }

    [Fact]
    public void Tokens_are_found_by_content_whatever_their_length()
    {
        IReadOnlyList<ConfiguredToken> tokens = [new("klas-3b", AccessRole.Lab, LabToken), new("facilitair", AccessRole.Staff, StaffToken)];
        Assert.Equal("facilitair", BearerTokens.Find(StaffToken, tokens)?.Name);
        Assert.Equal("klas-3b", BearerTokens.Find(LabToken, tokens)?.Name);
        Assert.Null(BearerTokens.Find(LabToken[..^1], tokens));
        Assert.Null(BearerTokens.Find(LabToken + "x", tokens));
        Assert.Null(BearerTokens.Find(string.Empty, tokens));
        Assert.Null(BearerTokens.Find(LabToken, []));
    }

    private static async Task<JsonElement> WhoAmIAsync(InProcessCollector collector, string token)
    {
        var response = await SendAsync(collector, HttpMethod.Get, "/api/v1/auth/whoami", null, token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
    }

    /// <summary>Sends with a bearer token (or none); <paramref name="headersOnly"/>: reads only the headers, so the live stream answers too.</summary>
    private static async Task<HttpResponseMessage> SendAsync(InProcessCollector collector, HttpMethod method, string path, object? body, string? token, bool headersOnly = false)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null && method != HttpMethod.Get)
        {
            request.Content = JsonContent.Create(body);
        }

        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await collector.Http.SendAsync(request, headersOnly ? HttpCompletionOption.ResponseHeadersRead : HttpCompletionOption.ResponseContentRead);
    }

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    private static async Task<string?> TitleAsync(HttpResponseMessage response) =>
        (await ProblemAsync(response)).GetProperty("title").GetString();

    /// <summary>A route template with its parameters filled: numbers for numeric ones, a real room otherwise.</summary>
    private static string Concrete(string template) =>
        RouteParameter().Replace(template, m => m.Groups["constraint"].Value is ":long" or ":int" ? "1" : "dc-lab");

    [GeneratedRegex(@"\{(?<name>[^}:=?]+)(?<constraint>[^}]*)\}")]
    private static partial Regex RouteParameter();

    /// <summary>Every log line, with its scope-free formatted message.</summary>
    private sealed class LogLines : ILoggerProvider
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _lines = new();

        public IReadOnlyCollection<string> Lines => _lines;

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(LogLines owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                owner._lines.Enqueue($"{category}: {formatter(state, exception)} {exception}");
        }
    }
}
