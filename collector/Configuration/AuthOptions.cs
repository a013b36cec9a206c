using Microsoft.Extensions.Options;
using NewTechPark.Edge.Contracts;

namespace NewTechPark.Edge.Collector.Configuration;

/// <summary>
/// What a bearer token may do; each role may do everything the roles below it may.
/// </summary>
public enum AccessRole
{
    /// <summary>DC-Lab students and teachers: start and stop experiment sessions.</summary>
    Lab = 1,

    /// <summary>Facility and programme staff: also correct occupancy and register group visits.</summary>
    Staff = 2,

    /// <summary>Everything, including what later versions add as admin calls.</summary>
    Admin = 3,
}

/// <summary>One named token (<c>Collector:Auth:Tokens:N</c>).</summary>
public sealed class AuthTokenOptions
{
    /// <summary>Who holds the token, such as <c>klas-3b</c> or <c>facilitair</c> (a slug): shown in logs and as who started a session, never the token itself.</summary>
    public string? Name { get; set; }

    /// <summary><c>lab</c>, <c>staff</c> or <c>admin</c> (any case). A string, not the enum: the binder drops a list item whose enum it cannot convert without a word, and a typo must stop the start.</summary>
    public string? Role { get; set; }

    /// <summary>The role <see cref="Role"/> names, or null.</summary>
    public static AccessRole? ParseRole(string? role) => role?.Trim().ToLowerInvariant() switch
    {
        "lab" => AccessRole.Lab,
        "staff" => AccessRole.Staff,
        "admin" => AccessRole.Admin,
        _ => null,
    };

    /// <summary>The bearer token: at least <see cref="AuthOptionsValidator.MinimumTokenLength"/> characters without spaces.</summary>
    public string? Token { get; set; }
}

/// <summary>
/// Bearer tokens for the calls that change something (<c>Collector:Auth</c>): several per role if
/// wanted (one per class or teacher). <c>Collector:Admin:Token</c> still works and counts as an
/// admin token named <c>admin</c>.
/// </summary>
public sealed class AuthOptions
{
    /// <summary>More tokens than this are refused: every request with a token is compared against all of them.</summary>
    public const int MaxTokens = 200;

    public List<AuthTokenOptions> Tokens { get; set; } = [];
}

/// <summary>One configured token, checked: who, what role, and the secret.</summary>
public sealed record ConfiguredToken(string Name, AccessRole Role, string Token);

/// <summary>Checks the tokens at start (<c>Collector:Auth:Tokens</c> and <c>Collector:Admin:Token</c>), naming the setting and never echoing a token.</summary>
public sealed class AuthOptionsValidator : IValidateOptions<CollectorOptions>
{
    /// <summary>Shorter tokens are refused: a token is the only thing between the network and the calls it allows.</summary>
    public const int MinimumTokenLength = 16;

    /// <summary>The name <c>Collector:Admin:Token</c> goes by.</summary>
    public const string LegacyAdminName = "admin";

    public ValidateOptionsResult Validate(string? name, CollectorOptions options)
    {
        var problems = new List<string>();
        var tokens = options.Auth.Tokens;
        if (tokens.Count > AuthOptions.MaxTokens)
        {
            problems.Add($"Collector:Auth:Tokens holds {tokens.Count} tokens; at most {AuthOptions.MaxTokens} are allowed");
        }

        // Where each name and token was first seen, to name both settings of a duplicate.
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        var secrets = new Dictionary<string, string>(StringComparer.Ordinal);
        var legacy = options.Admin.Token;
        if (!string.IsNullOrEmpty(legacy))
        {
            if (!IsStrong(legacy))
            {
                problems.Add($"Collector:Admin:Token must be at least {MinimumTokenLength} characters without spaces (for example the output of 'openssl rand -hex 32'), or unset");
            }

            names[LegacyAdminName] = "Collector:Admin:Token";
            secrets[legacy] = "Collector:Admin:Token";
        }

        for (var i = 0; i < tokens.Count; i++)
        {
            var entry = tokens[i];
            var path = $"Collector:Auth:Tokens:{i}";
            if (!Identifiers.IsSlug(entry.Name))
            {
                problems.Add($"{path}:Name '{entry.Name}' must be a name such as klas-3b or facilitair ({Identifiers.SlugPattern})");
            }
            else if (names.TryGetValue(entry.Name!, out var first))
            {
                problems.Add($"{path}:Name '{entry.Name}' is already the name of {first}; names must be unique");
            }
            else
            {
                names[entry.Name!] = $"{path}:Name";
            }

            if (AuthTokenOptions.ParseRole(entry.Role) is null)
            {
                problems.Add($"{path}:Role '{entry.Role}' must be lab, staff or admin");
            }

            if (string.IsNullOrEmpty(entry.Token) || !IsStrong(entry.Token))
            {
                problems.Add($"{path}:Token must be at least {MinimumTokenLength} characters without spaces (for example the output of 'openssl rand -hex 32')");
            }
            else if (secrets.TryGetValue(entry.Token, out var same))
            {
                problems.Add($"{path}:Token is the same token as {same}; every token must be different, or a role could not be told apart");
            }
            else
            {
                secrets[entry.Token] = $"{path}:Token";
            }
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    /// <summary>The tokens that count, once valid: <c>Collector:Auth:Tokens</c>, then <c>Collector:Admin:Token</c> as <c>admin</c>.</summary>
    public static IReadOnlyList<ConfiguredToken> Configured(CollectorOptions options)
    {
        var list = new List<ConfiguredToken>(options.Auth.Tokens.Count + 1);
        foreach (var entry in options.Auth.Tokens)
        {
            if (entry is { Name: { } name, Token: { Length: > 0 } token } && AuthTokenOptions.ParseRole(entry.Role) is { } role)
            {
                list.Add(new ConfiguredToken(name, role, token));
            }
        }

        if (!string.IsNullOrEmpty(options.Admin.Token))
        {
            list.Add(new ConfiguredToken(LegacyAdminName, AccessRole.Admin, options.Admin.Token));
        }

        return list;
    }

    private static bool IsStrong(string token) => token.Length >= MinimumTokenLength && !token.Any(char.IsWhiteSpace);
}
