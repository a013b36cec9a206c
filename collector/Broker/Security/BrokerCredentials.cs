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
/// generated devices. No plain password is kept. The password file can be read again while the
/// broker runs (<see cref="ReloadPasswordFile"/>, on SIGHUP or a change of the file): a file with
/// a problem keeps the users loaded before.
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

    // The password file's users with their hash text, to tell on a reload who was removed or changed.
    private readonly Dictionary<string, string> _fromFile = new(StringComparer.Ordinal);
    private readonly HashSet<string> _fromSettings = new(StringComparer.Ordinal);
    private readonly Lock _reloading = new();
    private readonly string? _passwordFile;

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

            _fromSettings.Add(user);
        }

        if (!string.IsNullOrWhiteSpace(broker.PasswordFile))
        {
            _passwordFile = broker.PasswordFile;
            var read = ReadPasswordFile(broker.PasswordFile, out var users);
            problems.AddRange(read);
            foreach (var (user, hash) in users)
            {
                TryAdd(user, hash, out _);
                _fromFile[user] = hash;
            }
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
            problem = $"a user name is a device id or <device>@<site>, each matching {Identifiers.SlugPattern}";
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

    /// <summary>The password file given in <c>Collector:Broker:PasswordFile</c>, if any.</summary>
    public string? PasswordFile => _passwordFile;

    /// <summary>
    /// Reads the password file again and applies it: new users can log in, removed users cannot,
    /// a changed hash needs the new password. A file with any problem changes nothing (the users
    /// loaded before stay) and its problems are returned. <paramref name="dropped"/> names the users
    /// that were removed or whose password changed: their open connections are to be closed.
    /// </summary>
    public IReadOnlyList<string> ReloadPasswordFile(out IReadOnlyList<string> dropped)
    {
        dropped = [];
        if (_passwordFile is null)
        {
            return [];
        }

        lock (_reloading)
        {
            var problems = ReadPasswordFile(_passwordFile, out var users);
            if (problems.Count > 0)
            {
                return problems;
            }

            var gone = new List<string>();
            foreach (var (user, hash) in _fromFile)
            {
                if (!users.TryGetValue(user, out var now) || now != hash)
                {
                    gone.Add(user);
                    if (!users.ContainsKey(user) && !_fromSettings.Contains(user))
                    {
                        _users.TryRemove(user, out _);
                        _verified.TryRemove(user, out _);
                    }
                }
            }

            _fromFile.Clear();
            foreach (var (user, hash) in users)
            {
                TryAdd(user, hash, out _);
                _fromFile[user] = hash;
            }

            dropped = gone;
            return [];
        }
    }

    /// <summary>Parses the whole file first, so a broken line never leaves half a file applied.</summary>
    private static List<string> ReadPasswordFile(string path, out Dictionary<string, string> users)
    {
        users = new Dictionary<string, string>(StringComparer.Ordinal);
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

            var user = line[..colon];
            var hash = line[(colon + 1)..].Trim();
            if (!IsValidUserName(user))
            {
                problems.Add($"{path} line {number} ({user}): a user name is a device id or <device>@<site>, each matching {Identifiers.SlugPattern}");
            }
            else if (!MqttPasswordHash.TryParse(hash, out _, out var problem))
            {
                problems.Add($"{path} line {number} ({user}): {problem}");
            }
            else
            {
                users[user] = hash;
            }
        }

        return problems;
    }

    /// <summary>A user name is a device id (or a reader's name), so it follows the contract's id rule.</summary>
    /// <summary>A device id, or <c>&lt;device&gt;@&lt;site&gt;</c> (a device of one of several owned sites).</summary>
    public static bool IsValidUserName(string user)
    {
        var at = user.IndexOf('@', StringComparison.Ordinal);
        return at < 0 ? Identifiers.IsSlug(user) : Identifiers.IsSlug(user[..at]) && Identifiers.IsSlug(user[(at + 1)..]);
    }
}
