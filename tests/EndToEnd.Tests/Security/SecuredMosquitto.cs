using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using NewTechPark.Edge.EndToEnd.Tests.Infrastructure;

namespace NewTechPark.Edge.EndToEnd.Tests.Security;

/// <summary>
/// Debian's mosquitto started with the shipped <c>hardware/mosquitto/mosquitto.conf</c> and
/// <c>hardware/mosquitto/acl</c>: only ports, file paths, logging and the service user are changed
/// for the test; every rule (anonymous refused, password file, ACL, listeners) is the shipped one.
/// The password file is made by <c>mosquitto_passwd</c> with fresh random passwords, the TLS
/// certificate is self-signed and made here. Fails with a clear message when mosquitto is missing.
/// </summary>
public sealed class SecuredMosquitto : IAsyncDisposable
{
    public static readonly string[] Users = ["pi-a", "pi-b", "ntp-collector", "dashboard"];

    private static readonly string[] PasswdCandidates = ["/usr/bin/mosquitto_passwd", "/usr/sbin/mosquitto_passwd", "/usr/local/bin/mosquitto_passwd"];

    private readonly ChildProcess _process;
    private readonly string _directory;
    private readonly string _passwdExecutable;

    private SecuredMosquitto(ChildProcess process, string passwdExecutable, string directory, int plainPort, int tlsPort, IReadOnlyDictionary<string, string> passwords, X509Certificate2 certificate, string configuration)
    {
        _process = process;
        _passwdExecutable = passwdExecutable;
        _directory = directory;
        PlainPort = plainPort;
        TlsPort = tlsPort;
        Passwords = passwords;
        Certificate = certificate;
        Configuration = configuration;
    }

    /// <summary>The loopback listener (1883 in the shipped file), here on a free port.</summary>
    public int PlainPort { get; }

    /// <summary>The TLS listener (8883 in the shipped file), here on a free loopback port.</summary>
    public int TlsPort { get; }

    /// <summary>Each user's password, as put into the password file.</summary>
    public IReadOnlyDictionary<string, string> Passwords { get; }

    /// <summary>The broker's self-signed certificate (public part), for clients to trust.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The configuration mosquitto runs with, after templating.</summary>
    public string Configuration { get; }

    public string PasswordFile => Path.Combine(_directory, "passwd");

    public string Output => _process.Output;

    /// <summary>The repository's <c>hardware/mosquitto</c> folder, found upwards from the test assembly.</summary>
    public static string ShippedFolder
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "NewTechPark.Edge.sln")))
                {
                    return Path.Combine(dir.FullName, "hardware", "mosquitto");
                }
            }

            throw new InvalidOperationException($"no NewTechPark.Edge.sln above {AppContext.BaseDirectory}: the tests read hardware/mosquitto from the repository");
        }
    }

    /// <summary>Starts mosquitto with <see cref="Users"/> and <paramref name="extraUsers"/> in its password file.</summary>
    public static async Task<SecuredMosquitto> StartAsync(params string[] extraUsers)
    {
        string[] users = [.. Users.Concat(extraUsers).Distinct(StringComparer.Ordinal)];
        var executable = MosquittoBroker.FindExecutable();
        var passwd = PasswdCandidates.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("mosquitto_passwd is not installed (it comes with Debian's mosquitto package): apt-get install -y mosquitto");
        var directory = Directory.CreateTempSubdirectory("ntp-mosquitto-secure-").FullName;
        var plainPort = FreePort.Next();
        var tlsPort = FreePort.Next();
        while (tlsPort == plainPort)
        {
            tlsPort = FreePort.Next();
        }

        var passwords = users.ToDictionary(u => u, _ => Convert.ToBase64String(RandomNumberGenerator.GetBytes(18)));
        var passwordFile = Path.Combine(directory, "passwd");
        foreach (var (user, index) in users.Select((u, i) => (u, i)))
        {
            // -c creates the file with the first user; -b takes the password from the command line.
            string[] args = index == 0 ? ["-c", "-b", passwordFile, user, passwords[user]] : ["-b", passwordFile, user, passwords[user]];
            await RunAsync(passwd, args);
        }

        using var certificate = MakeCertificate();
        var certFile = Path.Combine(directory, "server.crt");
        var keyFile = Path.Combine(directory, "server.key");
        await File.WriteAllTextAsync(certFile, certificate.ExportCertificatePem());
        await File.WriteAllTextAsync(keyFile, certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());

        var aclFile = Path.Combine(directory, "acl");
        File.Copy(Path.Combine(ShippedFolder, "acl"), aclFile);
        var persistence = Path.Combine(directory, "persistence") + "/";
        Directory.CreateDirectory(persistence);
        var configuration = Template(
            await File.ReadAllTextAsync(Path.Combine(ShippedFolder, "mosquitto.conf")),
            new Dictionary<string, string?>
            {
                ["password_file /etc/mosquitto/newtechpark/passwd"] = $"password_file {passwordFile}",
                ["acl_file /etc/mosquitto/newtechpark/acl"] = $"acl_file {aclFile}",
                ["listener 1883 127.0.0.1"] = $"listener {plainPort} 127.0.0.1",
                // The shipped TLS listener takes every interface; the test keeps to loopback.
                ["listener 8883"] = $"listener {tlsPort} 127.0.0.1",
                ["certfile /etc/mosquitto/newtechpark/server.crt"] = $"certfile {certFile}",
                ["keyfile /etc/mosquitto/newtechpark/server.key"] = $"keyfile {keyFile}",
                ["persistence_location /var/lib/mosquitto/"] = $"persistence_location {persistence}",
                ["pid_file /run/mosquitto/mosquitto.pid"] = null,
                ["log_dest file /var/log/mosquitto/mosquitto.log"] = "log_dest stdout",
            });
        // Started as root, mosquitto would switch to the mosquitto user, which cannot read this
        // test's private temporary folder; as any other user the line is ignored.
        configuration += "\nuser root\n";
        var configFile = Path.Combine(directory, "mosquitto.conf");
        await File.WriteAllTextAsync(configFile, configuration);

        var process = ChildProcess.Start("mosquitto", executable, ["-c", configFile]);
        var broker = new SecuredMosquitto(process, passwd, directory, plainPort, tlsPort, passwords, X509CertificateLoader.LoadCertificate(certificate.RawData), configuration);
        try
        {
            await FreePort.WaitListeningAsync(plainPort, TimeSpan.FromSeconds(10));
            await FreePort.WaitListeningAsync(tlsPort, TimeSpan.FromSeconds(10));
        }
        catch (Exception e)
        {
            await broker.DisposeAsync();
            throw new InvalidOperationException($"mosquitto with hardware/mosquitto/mosquitto.conf did not start listening on {plainPort} and {tlsPort}: {e.Message}\n{broker.Output}\n{configuration}");
        }

        return broker;
    }

    /// <summary>
    /// Replaces whole lines of the shipped file (null removes the line). Each line must be there
    /// exactly once: if the shipped file changes, this says so instead of testing something else.
    /// </summary>
    public static string Template(string shipped, IReadOnlyDictionary<string, string?> replacements) =>
        ShippedFileLines.Replace(shipped, replacements, "hardware/mosquitto/mosquitto.conf");

    /// <summary>Adds a user to the password file as the provisioning steps do (<c>mosquitto_passwd -b</c>).</summary>
    public Task AddUserAsync(string user, string password) => RunAsync(_passwdExecutable, ["-b", PasswordFile, user, password]);

    /// <summary>SIGHUP, as <c>systemctl reload mosquitto</c> sends: mosquitto reads the password and ACL files again.</summary>
    public Task ReloadAsync() => RunAsync("/bin/kill", ["-HUP", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        Certificate.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>A self-signed server certificate for localhost and 127.0.0.1, valid for a day.</summary>
    private static X509Certificate2 MakeCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));
    }

    private static async Task RunAsync(string executable, string[] args)
    {
        var (exitCode, stdout, stderr) = await ChildProcess.RunToEndAsync(executable, args, TimeSpan.FromSeconds(30));
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"{executable} {args[0]} failed with {exitCode}: {stdout}{stderr}");
        }
    }
}
