using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace NewTechPark.Edge.Collector.Configuration;

/// <summary>
/// HTTP hardening (<c>Collector:Http</c>): the per-client limits on writes and on wrong tokens,
/// and the origins that may read the API from another site (CORS, GET only; none by default).
/// </summary>
public sealed class HttpOptions
{
    /// <summary>State-changing requests (POST, PUT, PATCH, DELETE) one client address may make per minute, on average.</summary>
    /// <remarks>At most 600: the partitioned limiter refills buckets on a 100 ms timer, so a faster pace would not hold.</remarks>
    [Range(1, 600)]
    public int WritesPerMinute { get; set; } = 30;

    /// <summary>State-changing requests one client address may make at once before the per-minute pace applies.</summary>
    [Range(1, 1000)]
    public int WriteBurst { get; set; } = 10;

    /// <summary>Wrong tokens one client address may send per <see cref="AuthFailureWindow"/>; after that its calls that need a token get 429 (the right token still works) until the window ends.</summary>
    [Range(1, 10_000)]
    public int AuthFailureLimit { get; set; } = 10;

    public TimeSpan AuthFailureWindow { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Origins (scheme://host[:port]) whose pages may read the API with GET; empty: no CORS headers at all.</summary>
    public List<string> CorsOrigins { get; set; } = [];

    /// <summary>The origins without a trailing slash, as browsers send them in the Origin header.</summary>
    public string[] NormalisedCorsOrigins() => CorsOrigins.Select(o => o.Trim().TrimEnd('/')).ToArray();
}

/// <summary>Checks <see cref="HttpOptions"/> at start, naming every setting that is wrong (the tokens: <see cref="AuthOptionsValidator"/>).</summary>
public sealed class HttpOptionsValidator : IValidateOptions<CollectorOptions>
{
    public ValidateOptionsResult Validate(string? name, CollectorOptions options)
    {
        var http = options.Http;
        var problems = new List<string>();
        // The ranges of the numbers are attributes, checked by the generated CollectorOptionsAttributeValidator.
        if (http.AuthFailureWindow < TimeSpan.FromSeconds(1) || http.AuthFailureWindow > TimeSpan.FromDays(1))
        {
            problems.Add($"Collector:Http:AuthFailureWindow must be between 00:00:01 and 1.00:00:00, not {http.AuthFailureWindow}");
        }

        for (var i = 0; i < http.CorsOrigins.Count; i++)
        {
            var origin = http.CorsOrigins[i];
            if (!IsOrigin(origin))
            {
                problems.Add($"Collector:Http:CorsOrigins:{i} '{origin}' is not an origin: give scheme://host[:port], such as https://intranet.newtechpark.nl (no '*', no path)");
            }
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    private static bool IsOrigin(string text)
    {
        var trimmed = text.Trim().TrimEnd('/');
        return Uri.TryCreate(trimmed, UriKind.Absolute, out var uri)
            && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            && uri.AbsolutePath == "/" && string.IsNullOrEmpty(uri.Query) && string.IsNullOrEmpty(uri.Fragment)
            && string.IsNullOrEmpty(uri.UserInfo) && !trimmed.Contains('*', StringComparison.Ordinal);
    }
}
