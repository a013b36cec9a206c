using System.Globalization;
using System.Security.Cryptography;

namespace NewTechPark.Edge.Reliability.Tests.Bridge;

/// <summary>
/// One Debian mosquitto with a fixed loopback port and configuration, so it can be killed
/// (kill -9, like a power cut) and started again on the same port with its own persistence.
/// </summary>
public sealed class MosquittoInstance(string name, string configFile, int port) : IAsyncDisposable
{
    private static readonly string[] Candidates = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"];
    private readonly List<string> _history = [];
    private ChildProcess? _process;

    public int Port => port;

    public string Output => string.Join('\n', _history) + (_process?.Output ?? string.Empty);

    public static string Executable =>
        Candidates.FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("mosquitto is not installed; run ./test.sh as root (it installs it) or: apt-get install -y mosquitto");

    public async Task StartAsync()
    {
        _process = ChildProcess.Start(name, Executable, ["-c", configFile]);
        try
        {
            // A slow machine: a restart after kill -9 loads the snapshot first.
            await FreePort.WaitListeningAsync(port, TimeSpan.FromSeconds(60));
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"{name} did not start listening on {port}: {e.Message}\n{Output}\n{await File.ReadAllTextAsync(configFile)}");
        }
    }

    /// <summary>kill -9: no goodbye, no save of the in-memory database.</summary>
    public async Task KillAsync()
    {
        if (_process is { } p)
        {
            await p.KillAsync();
            _history.Add(p.Output);
            await p.DisposeAsync();
            _process = null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }
    }
}

/// <summary>
/// The site broker and the central broker of the bridge tests. The site broker runs the shipped
/// <c>hardware/mosquitto/bridge/mosquitto-site.conf.template</c> as <c>make-site-conf.sh</c> fills
/// it in; the test changes only ports, paths, logging, the service user and TLS (plain loopback),
/// line by line, each line required to be there exactly once.
/// </summary>
public sealed class BridgeBrokers : IAsyncDisposable
{
    public const string Site = "site-a";
    public const string BridgeUser = "bridge." + Site;
    public const string CollectorUser = "ntp-collector";
    public const string ProbeUser = "probe";
    public static readonly string[] Devices = ["pi-1", "pi-2", "pi-3"];

    private readonly TempDirectory _directory = new("ntp-bridge-");

    private BridgeBrokers()
    {
    }

    public MosquittoInstance SiteBroker { get; private set; } = null!;

    public MosquittoInstance Central { get; private set; } = null!;

    public IReadOnlyDictionary<string, string> Passwords { get; private set; } = null!;

    /// <summary>The site broker's configuration as it runs.</summary>
    public string SiteConfiguration { get; private set; } = string.Empty;

    /// <summary>The shipped autosave_interval (queued messages between two saves of the site broker).</summary>
    public int AutosaveInterval { get; private set; }

    public static string ShippedFolder
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "NewTechPark.Edge.sln")))
                {
                    return Path.Combine(dir.FullName, "hardware", "mosquitto", "bridge");
                }
            }

            throw new InvalidOperationException($"no NewTechPark.Edge.sln above {AppContext.BaseDirectory}: the tests read hardware/mosquitto/bridge from the repository");
        }
    }

    /// <summary>
    /// Starts both brokers. <paramref name="centralChecksLogins"/>: the central broker has a password
    /// file and the shipped central ACL lines; otherwise it takes any login and allows every topic,
    /// so only the bridge's own configuration decides what crosses.
    /// </summary>
    public static async Task<BridgeBrokers> StartAsync(bool centralChecksLogins)
    {
        var brokers = new BridgeBrokers();
        try
        {
            await brokers.StartCoreAsync(centralChecksLogins);
        }
        catch
        {
            await brokers.DisposeAsync();
            throw;
        }

        return brokers;
    }

    private async Task StartCoreAsync(bool centralChecksLogins)
    {
        var users = Devices.Concat([BridgeUser, CollectorUser, ProbeUser]).ToArray();
        Passwords = users.ToDictionary(u => u, _ => Convert.ToBase64String(RandomNumberGenerator.GetBytes(18)));
        var sitePort = FreePort.Next();
        var centralPort = FreePort.Next();
        while (centralPort == sitePort)
        {
            centralPort = FreePort.Next();
        }

        // The central broker: persistence saved on every change (it stands in for a cluster that
        // replicates; what is under test is the site broker and the bridge).
        var centralDir = Directory.CreateDirectory(_directory.File("central")).FullName;
        var centralLines = new List<string>
        {
            $"listener {centralPort} 127.0.0.1",
            "set_tcp_nodelay true",
            "persistence true",
            $"persistence_location {centralDir}/",
            "autosave_on_changes true",
            "autosave_interval 1",
            // Not 0 (unlimited): Mosquitto 2.0.11 then drops a client after a refused publish (as ../mosquitto.conf says).
            "max_queued_messages 100000000",
            "max_queued_bytes 0",
            "log_dest stdout",
            "log_type error",
            "log_type warning",
            "user root",
        };
        if (centralChecksLogins)
        {
            var passwd = Path.Combine(centralDir, "passwd");
            await MakePasswordFileAsync(passwd, [BridgeUser, CollectorUser]);
            var (code, acl, err) = await ChildProcess.RunToEndAsync("bash", [Path.Combine(ShippedFolder, "make-central-acl.sh"), Site], TimeSpan.FromSeconds(30));
            Assert.True(code == 0, $"make-central-acl.sh failed: {err}");
            var aclFile = Path.Combine(centralDir, "acl");
            await File.WriteAllTextAsync(aclFile, $"user {CollectorUser}\ntopic read ntp/v1/#\ntopic read ntp/bridge/#\n\n{acl}");
            centralLines.AddRange(["allow_anonymous false", $"password_file {passwd}", $"acl_file {aclFile}"]);
        }
        else
        {
            centralLines.Add("allow_anonymous true");
        }

        var centralConfig = Path.Combine(centralDir, "mosquitto.conf");
        await File.WriteAllLinesAsync(centralConfig, centralLines);
        Central = new MosquittoInstance("central", centralConfig, centralPort);

        // The site broker: the shipped template, filled in by the shipped script.
        var siteDir = Directory.CreateDirectory(_directory.File("site")).FullName;
        var sitePasswd = Path.Combine(siteDir, "passwd");
        await MakePasswordFileAsync(sitePasswd, [.. Devices, ProbeUser]);
        var siteAcl = Path.Combine(siteDir, "acl");
        // The site's own ACL (the shipped one is generated per site elsewhere): devices below their
        // own subtree, and a probe that may write anywhere, to try topics the bridge must not carry.
        await File.WriteAllTextAsync(siteAcl, $"user {ProbeUser}\ntopic readwrite #\n\npattern write ntp/v1/{Site}/%u/#\npattern read ntp/v1/{Site}/%u/#\n");
        var (exit, filled, stderr) = await ChildProcess.RunToEndAsync(
            "bash",
            [Path.Combine(ShippedFolder, "make-site-conf.sh"), Site, "127.0.0.1", centralPort.ToString(CultureInfo.InvariantCulture)],
            TimeSpan.FromSeconds(30),
            environment: new Dictionary<string, string> { ["NTP_BRIDGE_PASSWORD"] = Passwords[BridgeUser] });
        Assert.True(exit == 0, $"make-site-conf.sh failed ({exit}): {stderr}");
        Assert.DoesNotContain("${", filled, StringComparison.Ordinal);
        AutosaveInterval = int.Parse(
            filled.Split('\n').Single(l => l.StartsWith("autosave_interval ", StringComparison.Ordinal))["autosave_interval ".Length..],
            CultureInfo.InvariantCulture);
        var persistence = Directory.CreateDirectory(Path.Combine(siteDir, "persistence")).FullName;
        SiteConfiguration = ReplaceLines(filled, new Dictionary<string, string?>
        {
            ["password_file /etc/mosquitto/newtechpark/passwd"] = $"password_file {sitePasswd}",
            ["acl_file /etc/mosquitto/newtechpark/acl"] = $"acl_file {siteAcl}",
            ["listener 1883 127.0.0.1"] = $"listener {sitePort} 127.0.0.1",
            // No TLS listener for the Pis in this test (../mosquitto.conf's tests cover it).
            ["listener 8883"] = null,
            ["certfile /etc/mosquitto/newtechpark/server.crt"] = null,
            ["keyfile /etc/mosquitto/newtechpark/server.key"] = null,
            ["persistence_location /var/lib/mosquitto/"] = $"persistence_location {persistence}/",
            ["pid_file /run/mosquitto/mosquitto.pid"] = null,
            ["log_dest file /var/log/mosquitto/mosquitto.log"] = "log_dest stdout",
            // Plain loopback to the central broker instead of TLS.
            ["bridge_cafile /etc/mosquitto/newtechpark/central-ca.crt"] = null,
            ["bridge_insecure false"] = null,
            ["bridge_tls_version tlsv1.2"] = null,
            // A shorter backoff than the shipped 2-60 s keeps the test short; the outage is a few seconds.
            ["restart_timeout 2 60"] = "restart_timeout 1 2",
        }) + "\nuser root\n";
        var siteConfig = Path.Combine(siteDir, "mosquitto.conf");
        await File.WriteAllTextAsync(siteConfig, SiteConfiguration);
        SiteBroker = new MosquittoInstance("site", siteConfig, sitePort);

        await Central.StartAsync();
        await SiteBroker.StartAsync();
    }

    /// <summary>Replaces whole lines (null removes one); each must be there exactly once, so a changed template fails loudly.</summary>
    public static string ReplaceLines(string text, IReadOnlyDictionary<string, string?> replacements) =>
        ShippedFileLines.Replace(text, replacements, "the filled-in mosquitto-site.conf.template");

    public async ValueTask DisposeAsync()
    {
        if (SiteBroker is not null)
        {
            await SiteBroker.DisposeAsync();
        }

        if (Central is not null)
        {
            await Central.DisposeAsync();
        }

        _directory.Dispose();
    }

    private async Task MakePasswordFileAsync(string file, string[] users)
    {
        string[] candidates = ["/usr/bin/mosquitto_passwd", "/usr/sbin/mosquitto_passwd", "/usr/local/bin/mosquitto_passwd"];
        var passwd = candidates.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("mosquitto_passwd is not installed (it comes with Debian's mosquitto package)");
        for (var i = 0; i < users.Length; i++)
        {
            string[] args = i == 0 ? ["-c", "-b", file, users[i], Passwords[users[i]]] : ["-b", file, users[i], Passwords[users[i]]];
            var (code, stdout, stderr) = await ChildProcess.RunToEndAsync(passwd, args, TimeSpan.FromSeconds(30));
            Assert.True(code == 0, $"mosquitto_passwd failed: {stdout}{stderr}");
        }
    }
}
