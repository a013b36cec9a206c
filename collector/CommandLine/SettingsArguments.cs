namespace NewTechPark.Edge.Collector.CommandLine;

/// <summary>
/// The configuration overrides of a command line, split off before System.CommandLine parses, so
/// every command reads the same settings as the service: <c>--Collector:DataDirectory=/srv/ntp</c>,
/// <c>--Collector:DataDirectory /srv/ntp</c>, <c>--Logging:LogLevel:Default=Warning</c> (any
/// <c>--</c> token whose key holds a ':'), and the host's own <c>--urls</c> and <c>--environment</c>.
/// The .NET host would take any <c>--key</c>; only these are taken here, so a mistyped option
/// (<c>--jsn</c>) reaches the parser and is refused with a hint instead of being a silent setting.
/// </summary>
public sealed class SettingsArguments
{
    /// <summary>Host settings without a ':' that the collector documents.</summary>
    private static readonly string[] HostKeys = ["urls", "environment"];

    /// <summary>Bounds a hostile command line: far more than any real one.</summary>
    public const int MaxArguments = 1_000;

    private readonly List<string> arguments;

    public SettingsArguments(IEnumerable<string> arguments) => this.arguments = [.. arguments];

    /// <summary>The overrides in the <c>--key=value</c> form and in their order (a later one wins).</summary>
    public IReadOnlyList<string> Arguments => arguments;

    /// <summary>The arguments for <c>CollectorHost.Build</c>: the overrides, then <paramref name="extra"/> (which win).</summary>
    public string[] ForHost(params string[] extra) => [.. arguments, .. extra];

    /// <summary>
    /// Splits <paramref name="args"/> into the overrides and the rest (commands and their options).
    /// <paramref name="error"/> names a refused override (a key without a value, an empty key).
    /// </summary>
    public static SettingsArguments Split(IReadOnlyList<string> args, out string[] rest, out string? error)
    {
        var settings = new List<string>();
        var others = new List<string>();
        error = null;
        if (args.Count > MaxArguments)
        {
            rest = [];
            error = $"{args.Count} arguments: at most {MaxArguments} are taken";
            return new SettingsArguments(settings);
        }

        for (var i = 0; i < args.Count; i++)
        {
            var token = args[i];
            if (token == "--")
            {
                // Everything after "--" is the parser's, as with other tools.
                others.AddRange(args.Skip(i));
                break;
            }

            if (!IsSetting(token, out var key, out var value))
            {
                others.Add(token);
                continue;
            }

            if (key.Length == 0 || key.Split(':').Any(part => part.Length == 0))
            {
                error ??= $"'{token}' is not a setting: write --Section:Key=value, for example --Collector:DataDirectory=/srv/ntp";
                continue;
            }

            if (value is null)
            {
                // "--Collector:DataDirectory /srv/ntp": the next token is the value, unless it is an option itself.
                if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    error ??= $"'{token}' has no value: write {token}=value";
                    continue;
                }

                value = args[++i];
            }

            settings.Add($"--{key}={value}");
        }

        rest = [.. others];
        return new SettingsArguments(settings);
    }

    private static bool IsSetting(string token, out string key, out string? value)
    {
        key = "";
        value = null;
        if (!token.StartsWith("--", StringComparison.Ordinal) || token.Length <= 2)
        {
            return false;
        }

        var body = token[2..];
        var equals = body.IndexOf('=', StringComparison.Ordinal);
        var name = equals < 0 ? body : body[..equals];
        if (!name.Contains(':', StringComparison.Ordinal) && !HostKeys.Contains(name, StringComparer.OrdinalIgnoreCase))
        {
            return false;
        }

        key = name;
        value = equals < 0 ? null : body[(equals + 1)..];
        return true;
    }
}
