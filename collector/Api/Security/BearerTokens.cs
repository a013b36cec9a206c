using System.Security.Cryptography;
using System.Text;
using NewTechPark.Edge.Collector.Configuration;

namespace NewTechPark.Edge.Collector.Api.Security;

/// <summary>Reads the bearer token of a request and finds it among the configured ones, in constant time.</summary>
public static class BearerTokens
{
    /// <summary>The token of an <c>Authorization: Bearer</c> header, or null (no header, or another scheme such as Basic).</summary>
    public static string? Of(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
    }

    /// <summary>Compares SHA-256 hashes in constant time: neither the content nor the length of the token leaks through timing.</summary>
    public static bool Same(string given, string expected) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));

    /// <summary>
    /// The configured token equal to <paramref name="given"/>, or null. Every token is compared, even
    /// after a match, so the time taken does not tell which entry (or role) matched.
    /// </summary>
    public static ConfiguredToken? Find(string given, IReadOnlyList<ConfiguredToken> tokens)
    {
        var givenHash = SHA256.HashData(Encoding.UTF8.GetBytes(given));
        ConfiguredToken? match = null;
        foreach (var token in tokens)
        {
            if (CryptographicOperations.FixedTimeEquals(givenHash, SHA256.HashData(Encoding.UTF8.GetBytes(token.Token))))
            {
                match ??= token;
            }
        }

        return match;
    }
}
