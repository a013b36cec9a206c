using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace NewTechPark.Edge.Collector.Broker.Security;

/// <summary>
/// Salted password hashes in Mosquitto's <c>$7$</c> format (PBKDF2-HMAC-SHA512:
/// <c>$7$iterations$base64(salt)$base64(hash)</c>), so one password file written by
/// <c>mosquitto_passwd</c> or by the collector serves both the embedded broker and Mosquitto.
/// </summary>
public static class MqttPasswordHash
{
    /// <summary>
    /// Iterations for hashes the collector makes (Mosquitto's own tool uses 101). A device keeps its
    /// connection for days, so one check of tens of milliseconds per connect is cheap for the site
    /// and makes each guess against a stolen file as dear; measured 0.1 s on this shared 2-core
    /// machine while busy.
    /// </summary>
    public const int DefaultIterations = 10_000;

    private const string Prefix = "$7$";
    private const int SaltBytes = 12;
    private const int HashBytes = 64;

    /// <summary>A new random password: <paramref name="bytes"/> random bytes as base64url (no quoting needed in a shell or an environment file).</summary>
    public static string NewPassword(int bytes = 24) => System.Buffers.Text.Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(bytes));

    public static string Create(string password, int iterations = DefaultIterations)
    {
        ArgumentException.ThrowIfNullOrEmpty(password);
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA512, HashBytes);
        return string.Create(CultureInfo.InvariantCulture, $"{Prefix}{iterations}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}");
    }

    /// <summary>Reads a hash; false (with the reason) when it is not a <c>$7$</c> hash this code can check.</summary>
    public static bool TryParse(string text, out ParsedHash parsed, out string problem)
    {
        parsed = default;
        var parts = text.Split('$');
        // "$7$101$salt$hash" splits into "", "7", "101", "salt", "hash".
        if (parts.Length != 5 || parts[0].Length != 0 || parts[1] != "7")
        {
            problem = "not a '$7$iterations$salt$hash' (PBKDF2-SHA512) hash; make it with 'mosquitto_passwd' (Mosquitto 2) or 'collector devices hash-password'";
            return false;
        }

        if (!int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var iterations) || iterations < 1)
        {
            problem = $"the iteration count '{parts[2]}' is not a positive number";
            return false;
        }

        try
        {
            var salt = Convert.FromBase64String(parts[3]);
            var hash = Convert.FromBase64String(parts[4]);
            if (salt.Length == 0 || hash.Length != HashBytes)
            {
                problem = $"the salt is empty or the hash is not {HashBytes} bytes";
                return false;
            }

            parsed = new ParsedHash(iterations, salt, hash);
            problem = string.Empty;
            return true;
        }
        catch (FormatException)
        {
            problem = "the salt or the hash is not base64";
            return false;
        }
    }

    /// <summary>Checks a password against a parsed hash, comparing in constant time.</summary>
    public static bool Verify(ReadOnlySpan<byte> password, ParsedHash hash)
    {
        Span<byte> computed = stackalloc byte[HashBytes];
        Rfc2898DeriveBytes.Pbkdf2(password, hash.Salt, computed, hash.Iterations, HashAlgorithmName.SHA512);
        return CryptographicOperations.FixedTimeEquals(computed, hash.Hash);
    }

    public readonly record struct ParsedHash(int Iterations, byte[] Salt, byte[] Hash);
}
