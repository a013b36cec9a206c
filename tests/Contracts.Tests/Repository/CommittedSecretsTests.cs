namespace NewTechPark.Edge.Contracts.Tests.Repository;

/// <summary>
/// No secret is committed: passwords, tokens and keys come from /etc/newtechpark/*.env on the
/// machines (hardware/systemd/README.md), never from a file in git.
/// </summary>
public sealed class CommittedSecretsTests
{
    [Fact]
    public void NoTrackedFileHoldsASecret()
    {
        var findings = ScanRepository();

        var unexpected = findings.Where(f => !CommittedSecrets.IsAllowed(f)).ToList();
        Assert.True(unexpected.Count == 0, "secrets in tracked files (move them to /etc/newtechpark/*.env, see hardware/systemd/README.md):\n" + string.Join('\n', unexpected));
    }

    [Fact]
    public void EveryAllowlistEntryIsStillNeeded()
    {
        // A stale entry would quietly allow a secret later put in the same place with the same value.
        var findings = ScanRepository();

        Assert.All(CommittedSecrets.Allowed, a =>
            Assert.Contains(findings, f => f.File == a.File && f.Name == a.Name && f.Value == a.Value));
    }

    [Fact]
    public void FindsSecretSettingsInAppsettingsEnvUnitsYamlAndCode()
    {
        var json = """
            { "Collector": { "Admin": { "Token": "abc123" }, "Broker": { "Password": "" } },
              "Agent": { "SiteKey": "real-key", "Broker": { "Username": "pi-a" }, "Sensors": [ { "ApiKey": "k" } ] } }
            """;
        Assert.Equal(
            ["Agent:Sensors:0:ApiKey=k", "Agent:SiteKey=real-key", "Collector:Admin:Token=abc123"],
            Names(CommittedSecrets.Scan("collector/appsettings.Production.json", json)));

        var env = "# NTP_Agent__Broker__Password=commented\nNTP_Agent__Device=pi-a\nNTP_Agent__Broker__Password=hunter2\nexport NTP_Collector__Admin__Token=\"t0k\"\nNTP_Agent__SiteKey=\n";
        Assert.Equal(["NTP_Agent__Broker__Password=hunter2", "NTP_Collector__Admin__Token=t0k"], Names(CommittedSecrets.Scan("deploy/pi-a.env", env)));

        var unit = "[Service]\nEnvironment=NTP_Agent__Hardware=Real\nEnvironment=NTP_Agent__Broker__Password=hunter2\nEnvironmentFile=/etc/newtechpark/edge-agent.env\n";
        Assert.Equal(["NTP_Agent__Broker__Password=hunter2"], Names(CommittedSecrets.Scan("hardware/systemd/x.service", unit)));

        var yaml = "datasources:\n  - name: x\n    secureJsonData:\n      token: ${NTP_INFLUX_TOKEN}\n      password: plain-text\n";
        Assert.Equal(["password=plain-text"], Names(CommittedSecrets.Scan("dashboards/grafana/x.yaml", yaml)));

        var code = "public const string SiteKey = \"real-site-key\";\nvar user = \"pi-a\";\nvar adminToken = \"tok\";";
        Assert.Equal(["SiteKey=real-site-key", "adminToken=tok"], Names(CommittedSecrets.Scan("collector/X.cs", code)));
        Assert.Empty(CommittedSecrets.Scan("tests/Agent.Tests/X.cs", code));
    }

    [Fact]
    public void FindsPrivateKeysAnywhereAndMosquittoHashesOutsideTests()
    {
        // Put together here so that this file itself holds no key block.
        var pem = "-----BEGIN " + "EC PRIVATE KEY-----\nMHcCAQEE\n-----END " + "EC PRIVATE KEY-----\n";
        var pkcs8 = "-----BEGIN " + "PRIVATE KEY-----\nMIIE\n";
        var hash = "pi-a:$7$101$fsJkdjkB+sT5PuTe$VY3dMm+p3jEabcdefghijklmnopqrstuvwxyz0123==\n";

        Assert.Single(CommittedSecrets.Scan("hardware/mosquitto/server.key", pem));
        Assert.Single(CommittedSecrets.Scan("tests/fixtures/key.pem", pkcs8));
        Assert.Single(CommittedSecrets.Scan("hardware/mosquitto/passwd", hash));
        Assert.Empty(CommittedSecrets.Scan("tests/EndToEnd.Tests/fixtures/passwd", hash));
        Assert.Empty(CommittedSecrets.Scan("hardware/mosquitto/README.md", "hashes look like `$7$101$...`"));
    }

    [Fact]
    public void AnAllowedValueInAnotherPlaceOrWithAnotherValueIsNotAllowed()
    {
        Assert.True(CommittedSecrets.IsAllowed(new SecretFinding("simulation/appsettings.Simulation.json", "Agent:SiteKey", "simulated-site-key-not-a-secret", "")));
        Assert.False(CommittedSecrets.IsAllowed(new SecretFinding("edge-agent/appsettings.json", "Agent:SiteKey", "simulated-site-key-not-a-secret", "")));
        Assert.False(CommittedSecrets.IsAllowed(new SecretFinding("simulation/appsettings.Simulation.json", "Agent:SiteKey", "a-real-key-of-the-site", "")));
    }

    private static List<SecretFinding> ScanRepository()
    {
        var root = CommittedSecrets.RepositoryRoot;
        var files = CommittedSecrets.TrackedFiles(root);
        Assert.Contains("NewTechPark.Edge.sln", files);
        var findings = new List<SecretFinding>();
        foreach (var file in files)
        {
            var path = Path.Combine(root, file);
            // Deleted in the working tree but still tracked: nothing to read.
            if (!File.Exists(path) || IsBinary(path))
            {
                continue;
            }

            findings.AddRange(CommittedSecrets.Scan(file, File.ReadAllText(path)));
        }

        return findings;
    }

    private static bool IsBinary(string path)
    {
        Span<byte> head = stackalloc byte[8000];
        using var stream = File.OpenRead(path);
        var read = stream.Read(head);
        return head[..read].Contains((byte)0);
    }

    private static List<string> Names(IEnumerable<SecretFinding> findings) =>
        findings.Select(f => $"{f.Name}={f.Value}").Order(StringComparer.Ordinal).ToList();
}
