using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace NewTechPark.Edge.Contracts.Tests.Repository;

/// <summary>A secret-looking value in a tracked file: where, under which name, and what.</summary>
public sealed record SecretFinding(string File, string Name, string Value, string Rule)
{
    public override string ToString() => $"{File}: {Name} = '{Value}' ({Rule})";
}

/// <summary>
/// Finds secrets in the files git tracks: values of settings named like a password, token, key or
/// secret; private keys in PEM form; Mosquitto password hashes. Each rule is a small function on
/// one file's text, so the tests can also show that it finds what it should.
/// </summary>
public static partial class CommittedSecrets
{
    /// <summary>
    /// Values that look like secrets and are not, each with the reason. An entry names the file,
    /// the setting and the exact value: a real key put in the same place is still found.
    /// </summary>
    public static readonly IReadOnlyList<(string File, string Name, string Value, string Why)> Allowed =
    [
        // The simulated agent (simulation/: no GPIO, no real card reader) needs a key to run its
        // simulated badge reader without any set-up; it only ever turns simulated card numbers
        // into pseudonyms, so knowing it reveals no visitor. Real Pis run edge-agent, which never
        // reads this file, and take their key from /etc/newtechpark/edge-agent.env.
        ("simulation/appsettings.Simulation.json", "Agent:SiteKey", "simulated-site-key-not-a-secret",
            "simulation only: pseudonymises simulated cards"),

        // The demo (dotnet run --project demo) runs simulated agents for the whole default site; same reason.
        ("demo/DemoSite.cs", "SiteKey", "newtechpark-demo-site-key-2026",
            "demo only: pseudonymises simulated cards"),
    ];

    /// <summary>Setting names that hold secrets, wherever they appear in a name.</summary>
    [GeneratedRegex("password|passwd|token|secret|sitekey|site_key|apikey|api_key|privatekey|private_key|credential", RegexOptions.IgnoreCase)]
    public static partial Regex SecretName();

    /// <summary>A private key in PEM form (RSA, EC, OpenSSH, PKCS#8, encrypted or not).</summary>
    [GeneratedRegex(@"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")]
    private static partial Regex PemPrivateKey();

    /// <summary>A Mosquitto password file line's hash: $7$ (PBKDF2-SHA512, 2.0) or $6$ (SHA512, 1.6).</summary>
    [GeneratedRegex(@"\$[67]\$(?:\d+\$)?[A-Za-z0-9+/=]{8,}\$[A-Za-z0-9+/=]{20,}")]
    private static partial Regex MosquittoHash();

    /// <summary><c>NAME=value</c> in an environment file or a unit's <c>Environment=</c>.</summary>
    [GeneratedRegex(@"^\s*(?:export\s+|Environment=""?)?(?<name>[A-Za-z_][A-Za-z0-9_]*)=(?<value>.*?)""?\s*$")]
    private static partial Regex Assignment();

    /// <summary><c>key: value</c> in YAML.</summary>
    [GeneratedRegex(@"^\s*-?\s*(?<name>[A-Za-z_][A-Za-z0-9_.-]*)\s*:\s*(?<value>[^#]*?)\s*(?:#.*)?$")]
    private static partial Regex YamlEntry();

    /// <summary>A C# field, constant or property set to a string literal: <c>SiteKey = "..."</c>.</summary>
    [GeneratedRegex(@"(?<name>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*""(?<value>[^""\\]+)""")]
    private static partial Regex CSharpLiteral();

    /// <summary>The repository's root, found upwards from the test assembly.</summary>
    public static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "NewTechPark.Edge.sln")))
                {
                    return dir.FullName;
                }
            }

            throw new InvalidOperationException($"no NewTechPark.Edge.sln above {AppContext.BaseDirectory}: the secret scan reads the repository");
        }
    }

    /// <summary>The files git tracks (<c>git ls-files</c>), relative to the root with '/'.</summary>
    public static IReadOnlyList<string> TrackedFiles(string root)
    {
        var start = new ProcessStartInfo("git", ["-C", root, "ls-files", "-z"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("could not start git");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("git is not installed; the secret scan lists the tracked files with git ls-files", e);
        }

        using (process)
        {
            var output = process.StandardOutput.ReadToEnd();
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"git ls-files failed in {root} ({process.ExitCode}): {error.Trim()}; the secret scan needs a git checkout");
            }

            return output.Split('\0', StringSplitOptions.RemoveEmptyEntries);
        }
    }

    /// <summary>Every finding in one file's text, allowed ones included.</summary>
    public static IEnumerable<SecretFinding> Scan(string file, string text)
    {
        var name = Path.GetFileName(file);
        var isTest = file.StartsWith("tests/", StringComparison.Ordinal);

        foreach (Match m in PemPrivateKey().Matches(text))
        {
            yield return new SecretFinding(file, "PEM", m.Value, "private key");
        }

        if (!isTest)
        {
            foreach (Match m in MosquittoHash().Matches(text))
            {
                yield return new SecretFinding(file, "hash", m.Value, "Mosquitto password hash outside test code");
            }
        }

        if (name.StartsWith("appsettings", StringComparison.OrdinalIgnoreCase) && name.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            foreach (var finding in ScanJson(file, text))
            {
                yield return finding;
            }
        }
        else if (name.EndsWith(".env", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".service", StringComparison.OrdinalIgnoreCase))
        {
            foreach (var finding in ScanLines(file, text, Assignment(), "secret setting in an environment file or unit"))
            {
                yield return finding;
            }
        }
        else if (name.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
        {
            foreach (var finding in ScanLines(file, text, YamlEntry(), "secret setting in YAML"))
            {
                yield return finding;
            }
        }
        else if (!isTest && name.EndsWith(".cs", StringComparison.OrdinalIgnoreCase))
        {
            foreach (Match m in CSharpLiteral().Matches(text))
            {
                if (SecretName().IsMatch(m.Groups["name"].Value))
                {
                    yield return new SecretFinding(file, m.Groups["name"].Value, m.Groups["value"].Value, "secret set to a literal in code");
                }
            }
        }
    }

    public static bool IsAllowed(SecretFinding finding) =>
        Allowed.Any(a => a.File == finding.File && a.Name == finding.Name && a.Value == finding.Value);

    private static IEnumerable<SecretFinding> ScanJson(string file, string text)
    {
        using var document = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        var findings = new List<SecretFinding>();
        Walk(document.RootElement, string.Empty);
        return findings;

        void Walk(JsonElement element, string path)
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.Object:
                    foreach (var property in element.EnumerateObject())
                    {
                        var child = path.Length == 0 ? property.Name : $"{path}:{property.Name}";
                        if (property.Value.ValueKind == JsonValueKind.String && SecretName().IsMatch(property.Name) && property.Value.GetString() is { Length: > 0 } value)
                        {
                            findings.Add(new SecretFinding(file, child, value, "secret setting in appsettings"));
                        }

                        Walk(property.Value, child);
                    }

                    break;
                case JsonValueKind.Array:
                    var index = 0;
                    foreach (var item in element.EnumerateArray())
                    {
                        Walk(item, $"{path}:{index++}");
                    }

                    break;
            }
        }
    }

    private static IEnumerable<SecretFinding> ScanLines(string file, string text, Regex entry, string rule)
    {
        foreach (var line in text.Split('\n'))
        {
            var trimmed = line.Trim();
            if (trimmed.StartsWith('#') || trimmed.StartsWith(';'))
            {
                continue;
            }

            var m = entry.Match(line);
            if (!m.Success || !SecretName().IsMatch(m.Groups["name"].Value))
            {
                continue;
            }

            var value = m.Groups["value"].Value.Trim().Trim('"', '\'');
            // Empty, or taken from the environment at run time (${NTP_INFLUX_TOKEN}, $VAR): not a secret in the file.
            if (value.Length == 0 || value.StartsWith('$'))
            {
                continue;
            }

            yield return new SecretFinding(file, m.Groups["name"].Value, value, rule);
        }
    }
}
