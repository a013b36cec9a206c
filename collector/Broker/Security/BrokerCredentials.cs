using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Contracts;

namespace NewTechPark.Edge.Collector.Broker.Security;

/// <summary>
/// Who may connect to the embedded broker: user name and salted password hash, from
/// <c>Collector:Broker:Users</c> and the password file (Mosquitto's format), plus the demo's
/// generated devices. No plain password is kept.
/// </summary>
public sealed class BrokerCredentials
{
    private readonly ConcurrentDictionary<string, MqttPasswordHash.ParsedHash> _users = new(StringComparer.Ordinal);

    // A successful check is remembered as a keyed hash of the password (key made at start, never
    // stored), so a device reconnecting every few seconds through a flaky link does not cost a
    // PBKDF2 run each time; a different password still goes the slow way.
    private readonly ConcurrentDictionary<string, byte[]> _verified = new(StringComparer.Ordinal);
    private readonly byte[] _cacheKey = RandomNumberGenerator.GetBytes(32);

    // Checked for unknown user names too, so the time of a refusal does not tell which names exist.
    private readonly MqttPasswordHash.ParsedHash _decoy;

    public BrokerCredentials(IOptions<CollectorOptions> options)
    {
        MqttPasswordHash.TryParse(MqttPasswordHash.Create(MqttPasswordHash.NewPassword(16)), out _decoy, out _);
        var broker = options.Value.Broker;
        var problems = new List<string>();
        foreach (var (user, hash) in broker.Users)
        {
            if (!TryAdd(user, hash, out var problem))
            {
                problems.Add($"Collector:Broker:Users:{user}: {problem}");
            }
        }

        if (!string.IsNullOrWhiteSpace(broker.PasswordFile))
        {
            problems.AddRange(LoadPasswordFile(broker.PasswordFile));
        }

        if (problems.Count > 0)
        {
            throw new OptionsValidationException(nameof(CollectorOptions), typeof(CollectorOptions), problems);
        }
    }

    public int Count => _users.Count;

    public bool Contains(string user) => _users.ContainsKey(user);

    /// <summary>Adds or replaces a user (the demo's generated devices).</summary>
    public void Add(string user, string hash)
    {
        if (!TryAdd(user, hash, out var problem))
        {
            throw new ArgumentException($"Cannot add MQTT user '{user}': {problem}", nameof(hash));
        }
    }

    /// <summary>True when the user exists and the password is its password.</summary>
    public bool Check(string? user, ReadOnlySpan<byte> password)
    {
        if (string.IsNullOrEmpty(user) || password.IsEmpty)
        {
            return false;
        }

        if (!_users.TryGetValue(user, out var hash))
        {
            MqttPasswordHash.Verify(password, _decoy);
            return false;
        }

        var fingerprint = HMACSHA256.HashData(_cacheKey, password);
        if (_verified.TryGetValue(user, out var known) && CryptographicOperations.FixedTimeEquals(known, fingerprint))
        {
            return true;
        }

        if (!MqttPasswordHash.Verify(password, hash))
        {
            return false;
        }

        _verified[user] = fingerprint;
        return true;
    }

    /// <summary>
    /// True when this user already logged in with this password (a keyed hash, no PBKDF2 run):
    /// what a blocked address may still pass with (<see cref="ConnectThrottle"/>).
    /// </summary>
    public bool IsRemembered(string? user, ReadOnlySpan<byte> password) =>
        !string.IsNullOrEmpty(user) && !password.IsEmpty && _verified.TryGetValue(user, out var known)
        && CryptographicOperations.FixedTimeEquals(known, HMACSHA256.HashData(_cacheKey, password));

    private bool TryAdd(string user, string hash, out string problem)
    {
        if (!IsValidUserName(user))
        {
            problem = $"a user name is a device id and must match {Identifiers.SlugPattern}";
            return false;
        }

        if (!MqttPasswordHash.TryParse(hash.Trim(), out var parsed, out problem))
        {
            return false;
        }

        _users[user] = parsed;
        _verified.TryRemove(user, out _);
        return true;
    }

    private List<string> LoadPasswordFile(string path)
    {
        var problems = new List<string>();
        if (!File.Exists(path))
        {
            problems.Add($"Collector:Broker:PasswordFile: '{path}' does not exist");
            return problems;
        }

        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & (UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.GroupWrite)) != 0)
        {
            problems.Add($"Collector:Broker:PasswordFile: '{path}' may be read or changed by other users; make it readable by the service user only (chmod 600, or 640 with the group of the broker)");
            return problems;
        }

        var number = 0;
        foreach (var raw in File.ReadLines(path, Encoding.UTF8))
        {
            number++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                problems.Add($"{path} line {number}: expected 'user:hash'");
                continue;
            }

            if (!TryAdd(line[..colon], line[(colon + 1)..], out var problem))
            {
                problems.Add($"{path} line {number} ({line[..colon]}): {problem}");
            }
        }

        return problems;
    }

    /// <summary>A user name is a device id (or a reader's name), so it follows the contract's id rule.</summary>
    public static bool IsValidUserName(string user) => Identifiers.IsSlug(user);
}
