using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Api.Security;
using NewTechPark.Edge.Collector.Hosting;

namespace NewTechPark.Edge.Collector.Tests.Http;

/// <summary>The admin token, write limits, CORS and security headers of the real collector over HTTP (the roles: <see cref="RolesApiTests"/>).</summary>
public sealed class HttpSecurityTests
{
    private const string Token = "http-security-test-token-0123456789";
    private const string Correction = "/api/v1/occupancy/dc-lab/corrections";

    private static readonly object ValidCorrection = new { count = 3, reason = "counted by hand" };

    // Generous limits for the tests that are not about them, so they never trip one by accident.
    private static readonly string[] NoLimits = ["--Collector:Http:WriteBurst=1000", "--Collector:Http:WritesPerMinute=600", "--Collector:Http:AuthFailureLimit=10000"];

    [Fact]
    public async Task Admin_call_without_or_with_a_wrong_token_is_401_and_the_right_token_goes_through()
    {
        await using var collector = await InProcessCollector.StartAsync([$"--Collector:Admin:Token={Token}", .. NoLimits]);

        var missing = await collector.Http.PostAsJsonAsync(Correction, ValidCorrection);
        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Bearer", missing.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal("token missing", await Title(missing));

        var basic = await Send(collector, HttpMethod.Post, Correction, ValidCorrection, new AuthenticationHeaderValue("Basic", "YWRtaW46YWRtaW4="));
        Assert.Equal(HttpStatusCode.Unauthorized, basic.StatusCode);

        // A prefix of the token, the token with one more character, another token: all wrong.
        foreach (var wrong in new[] { Token[..^1], Token + "x", "another-token-of-some-length" })
        {
            var refused = await Send(collector, HttpMethod.Post, Correction, ValidCorrection, new AuthenticationHeaderValue("Bearer", wrong));
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Contains("invalid_token", refused.Headers.WwwAuthenticate.Single().Parameter, StringComparison.Ordinal);
            Assert.Equal("token wrong", await Title(refused));
        }

        var ok = await Send(collector, HttpMethod.Post, Correction, ValidCorrection, new AuthenticationHeaderValue("Bearer", Token));
        Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        var trail = JsonDocument.Parse(await collector.Http.GetStringAsync("/api/v1/occupancy/corrections")).RootElement;
        Assert.Equal("counted by hand", trail.EnumerateArray().Single().GetProperty("reason").GetString());

        // Reads need no token.
        Assert.Equal(HttpStatusCode.OK, (await collector.Http.GetAsync("/api/v1/experiments")).StatusCode);
    }

    [Fact]
    public async Task Admin_call_is_403_when_no_token_is_configured_even_with_a_token()
    {
        await using var collector = await InProcessCollector.StartAsync(NoLimits);
        foreach (var authorization in new AuthenticationHeaderValue?[] { null, new("Bearer", Token) })
        {
            var refused = await Send(collector, HttpMethod.Post, "/api/v1/experiments", new { name = "x" }, authorization);
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Empty(refused.Headers.WwwAuthenticate);
            Assert.Equal("tokens are turned off", await Title(refused));
        }

        Assert.Empty(JsonDocument.Parse(await collector.Http.GetStringAsync("/api/v1/experiments")).RootElement.EnumerateArray());
    }

    [Fact]
    public async Task Writes_beyond_the_burst_get_429_with_Retry_After_while_reads_stay_open()
    {
        await using var collector = await InProcessCollector.StartAsync($"--Collector:Admin:Token={Token}", "--Collector:Http:WriteBurst=3", "--Collector:Http:WritesPerMinute=2");
        var auth = new AuthenticationHeaderValue("Bearer", Token);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.Created, (await Send(collector, HttpMethod.Post, Correction, ValidCorrection, auth)).StatusCode);
        }

        var limited = await Send(collector, HttpMethod.Post, Correction, ValidCorrection, auth);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);
        Assert.Equal("too many writes", await Title(limited));
        // Two writes a minute: the next token comes within 30 s.
        var retryAfter = limited.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value.TotalSeconds, 1, 30);

        // Other write endpoints share the token's budget; a wrong token spends its address's own
        // budget (Wrong_tokens_spend_their_address_write_budget_not_the_admin_token_one).
        Assert.Equal(HttpStatusCode.TooManyRequests, (await Send(collector, HttpMethod.Post, "/api/v1/visitors/groups", new { }, auth)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Send(collector, HttpMethod.Post, "/api/v1/visitors/groups", new { }, new AuthenticationHeaderValue("Bearer", "guess"))).StatusCode);
        Assert.Equal(3, JsonDocument.Parse(await collector.Http.GetStringAsync("/api/v1/occupancy/corrections")).RootElement.GetArrayLength());

        // Dashboards keep polling.
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await collector.Http.GetAsync("/api/v1/occupancy")).StatusCode);
        }
    }

    [Fact]
    public async Task Wrong_tokens_spend_their_address_write_budget_not_the_admin_token_one()
    {
        await using var collector = await InProcessCollector.StartAsync($"--Collector:Admin:Token={Token}", "--Collector:Http:WriteBurst=3", "--Collector:Http:WritesPerMinute=1",
            "--Collector:Http:AuthFailureLimit=10000");
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await Send(collector, HttpMethod.Post, Correction, ValidCorrection, new AuthenticationHeaderValue("Bearer", $"guess-{i}"))).StatusCode);
        }

        var spent = await Send(collector, HttpMethod.Post, Correction, ValidCorrection, new AuthenticationHeaderValue("Bearer", "guess-3"));
        Assert.Equal(HttpStatusCode.TooManyRequests, spent.StatusCode);
        Assert.Equal("too many writes", await Title(spent));

        // Same address, right token: its own budget.
        Assert.Equal(HttpStatusCode.Created, (await Send(collector, HttpMethod.Post, Correction, ValidCorrection, new AuthenticationHeaderValue("Bearer", Token))).StatusCode);
    }

    [Fact]
    public async Task Too_many_wrong_tokens_lock_the_address_out_for_wrong_tokens_but_the_right_token_still_works()
    {
        await using var collector = await InProcessCollector.StartAsync($"--Collector:Admin:Token={Token}", "--Collector:Http:WriteBurst=1000", "--Collector:Http:WritesPerMinute=600",
            "--Collector:Http:AuthFailureLimit=3", "--Collector:Http:AuthFailureWindow=00:10:00");
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await Send(collector, HttpMethod.Post, Correction, ValidCorrection, new AuthenticationHeaderValue("Bearer", $"guess-number-{i}"))).StatusCode);
        }

        // A further wrong token (or none) from this address waits for the window ...
        var locked = await Send(collector, HttpMethod.Post, Correction, ValidCorrection, new AuthenticationHeaderValue("Bearer", "guess-number-3"));
        Assert.Equal(HttpStatusCode.TooManyRequests, locked.StatusCode);
        Assert.Equal("too many wrong tokens", await Title(locked));
        Assert.InRange(locked.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 500, 600);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await collector.Http.PostAsJsonAsync(Correction, ValidCorrection)).StatusCode);
        Assert.Empty(JsonDocument.Parse(await collector.Http.GetStringAsync("/api/v1/occupancy/corrections")).RootElement.EnumerateArray());

        // ... but the staff behind the same (NAT) address keep working with the right token.
        Assert.Equal(HttpStatusCode.Created, (await Send(collector, HttpMethod.Post, Correction, ValidCorrection, new AuthenticationHeaderValue("Bearer", Token))).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await Send(collector, HttpMethod.Post, Correction, ValidCorrection, new AuthenticationHeaderValue("Bearer", "guess-number-4"))).StatusCode);
        Assert.Single(JsonDocument.Parse(await collector.Http.GetStringAsync("/api/v1/occupancy/corrections")).RootElement.EnumerateArray());
    }

    [Fact]
    public async Task A_missing_token_does_not_count_as_a_wrong_one()
    {
        await using var collector = await InProcessCollector.StartAsync($"--Collector:Admin:Token={Token}", "--Collector:Http:WriteBurst=1000", "--Collector:Http:WritesPerMinute=600", "--Collector:Http:AuthFailureLimit=2");
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await collector.Http.PostAsJsonAsync(Correction, ValidCorrection)).StatusCode);
        }

        Assert.Equal(HttpStatusCode.Created, (await Send(collector, HttpMethod.Post, Correction, ValidCorrection, new AuthenticationHeaderValue("Bearer", Token))).StatusCode);
    }

    [Fact]
    public async Task No_CORS_headers_without_configured_origins()
    {
        await using var collector = await InProcessCollector.StartAsync();
        using var get = new HttpRequestMessage(HttpMethod.Get, "/api/v1/site");
        get.Headers.Add("Origin", "https://intranet.example");
        var response = await collector.Http.SendAsync(get);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain(response.Headers, h => h.Key.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase));

        var preflight = await collector.Http.SendAsync(Preflight("/api/v1/site", "https://intranet.example", "GET"));
        Assert.DoesNotContain(preflight.Headers, h => h.Key.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task CORS_allows_a_configured_origin_to_read_and_nothing_else()
    {
        await using var collector = await InProcessCollector.StartAsync($"--Collector:Admin:Token={Token}", "--Collector:Http:CorsOrigins:0=https://intranet.example/", "--Collector:Http:CorsOrigins:1=http://signage.local:8000");
        foreach (var origin in new[] { "https://intranet.example", "http://signage.local:8000" })
        {
            using var get = new HttpRequestMessage(HttpMethod.Get, "/api/v1/occupancy");
            get.Headers.Add("Origin", origin);
            var allowed = await collector.Http.SendAsync(get);
            Assert.Equal(origin, allowed.Headers.GetValues("Access-Control-Allow-Origin").Single());
            Assert.DoesNotContain(allowed.Headers, h => h.Key == "Access-Control-Allow-Credentials");
        }

        using var other = new HttpRequestMessage(HttpMethod.Get, "/api/v1/occupancy");
        other.Headers.Add("Origin", "https://evil.example");
        Assert.DoesNotContain((await collector.Http.SendAsync(other)).Headers, h => h.Key.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase));

        var readPreflight = await collector.Http.SendAsync(Preflight("/api/v1/occupancy", "https://intranet.example", "GET"));
        Assert.Equal("https://intranet.example", readPreflight.Headers.GetValues("Access-Control-Allow-Origin").Single());

        // Writes: the preflight is not allowed, and a write itself carries no CORS header.
        var writePreflight = await collector.Http.SendAsync(Preflight(Correction, "https://intranet.example", "POST"));
        Assert.DoesNotContain(writePreflight.Headers, h => h.Key.StartsWith("Access-Control-Allow-", StringComparison.OrdinalIgnoreCase));
        using var post = new HttpRequestMessage(HttpMethod.Post, Correction) { Content = JsonContent.Create(ValidCorrection) };
        post.Headers.Add("Origin", "https://intranet.example");
        post.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        var write = await collector.Http.SendAsync(post);
        Assert.Equal(HttpStatusCode.Created, write.StatusCode);
        Assert.DoesNotContain(write.Headers, h => h.Key.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase));
    }

    [Theory]
    [InlineData("/", "text/html")]
    [InlineData("/facility", "text/html")]
    [InlineData("/kiosk.html", "text/html")]
    [InlineData("/common.js", "text/javascript")]
    [InlineData("/api/v1/site", "application/json")]
    [InlineData("/api/v1/occupancy/history?room=no-such-room", "application/problem+json")]
    [InlineData("/no-such-page", null)]
    [InlineData("/healthz", "application/json")]
    public async Task Every_response_carries_the_security_headers(string path, string? mediaType)
    {
        await using var collector = await InProcessCollector.StartAsync();
        var response = await collector.Http.GetAsync(path);
        if (mediaType is not null)
        {
            Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        }

        AssertSecurityHeaders(response);
    }

    [Fact]
    public async Task Refusals_carry_the_security_headers_too()
    {
        await using var collector = await InProcessCollector.StartAsync($"--Collector:Admin:Token={Token}", "--Collector:Http:WriteBurst=1", "--Collector:Http:WritesPerMinute=1");
        var unauthorized = await collector.Http.PostAsJsonAsync(Correction, ValidCorrection);
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        AssertSecurityHeaders(unauthorized);
        var limited = await collector.Http.PostAsJsonAsync(Correction, ValidCorrection);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        AssertSecurityHeaders(limited);
    }

    [Theory]
    [InlineData("--Collector:Http:CorsOrigins:0=*", "Collector:Http:CorsOrigins")]
    [InlineData("--Collector:Http:CorsOrigins:0=https://intranet.example/dashboards", "Collector:Http:CorsOrigins")]
    [InlineData("--Collector:Http:WritesPerMinute=0", "Collector:Http:WritesPerMinute")]
    [InlineData("--Collector:Http:WritesPerMinute=601", "Collector:Http:WritesPerMinute")]
    [InlineData("--Collector:Http:WriteBurst=0", "Collector:Http:WriteBurst")]
    [InlineData("--Collector:Http:AuthFailureLimit=0", "Collector:Http:AuthFailureLimit")]
    [InlineData("--Collector:Http:AuthFailureWindow=00:00:00", "Collector:Http:AuthFailureWindow")]
    [InlineData("--Collector:Admin:Token=short-secret", "Collector:Admin:Token")]
    public async Task A_wrong_HTTP_setting_stops_the_start_and_names_the_setting(string setting, string named)
    {
        var failure = await Assert.ThrowsAsync<OptionsValidationException>(async () => await (await InProcessCollector.StartAsync(setting)).DisposeAsync());
        var message = string.Join("\n", failure.Failures);
        Assert.Contains(named, message, StringComparison.Ordinal);
        // The token's value never appears in what the collector prints.
        Assert.DoesNotContain("short-secret", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Tokens_compare_by_content_whatever_their_length()
    {
        Assert.True(BearerTokens.Same(Token, Token));
        Assert.False(BearerTokens.Same(Token[..^1], Token));
        Assert.False(BearerTokens.Same(Token + Token, Token));
        Assert.False(BearerTokens.Same(string.Empty, Token));
    }

    private static void AssertSecurityHeaders(HttpResponseMessage response)
    {
        string Header(string name) => response.Headers.TryGetValues(name, out var values) ? string.Join(", ", values) : "(missing)";
        Assert.Equal(HttpSecurityExtensions.ContentSecurityPolicy, Header("Content-Security-Policy"));
        Assert.Contains("default-src 'self'", Header("Content-Security-Policy"), StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", Header("Content-Security-Policy"), StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", Header("Content-Security-Policy"), StringComparison.Ordinal);
        Assert.Equal("nosniff", Header("X-Content-Type-Options"));
        Assert.Equal("DENY", Header("X-Frame-Options"));
        Assert.Equal("no-referrer", Header("Referrer-Policy"));
        Assert.Equal("camera=(), microphone=(), geolocation=()", Header("Permissions-Policy"));
        Assert.Equal("same-origin", Header("Cross-Origin-Opener-Policy"));
    }

    private static HttpRequestMessage Preflight(string path, string origin, string method)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, path);
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", method);
        request.Headers.Add("Access-Control-Request-Headers", "authorization,content-type");
        return request;
    }

    private static async Task<HttpResponseMessage> Send(InProcessCollector collector, HttpMethod method, string path, object body, AuthenticationHeaderValue? authorization)
    {
        using var request = new HttpRequestMessage(method, path) { Content = JsonContent.Create(body) };
        request.Headers.Authorization = authorization;
        return await collector.Http.SendAsync(request);
    }

    private static async Task<string?> Title(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("title").GetString();
}
