namespace NewTechPark.Edge.Agent.Hosting;

/// <summary>
/// Splits the command line into settings for the host and the rest for System.CommandLine.
/// A setting is what the .NET host's command-line configuration takes with a section in its key:
/// <c>--Agent:Device=pi-dc-lab</c> (one token) or <c>--Agent:Device pi-dc-lab</c> (the next token
/// is the value, whatever it looks like, as the host reads it). Everything else is a command or
/// an option, and an unknown one is refused instead of silently becoming a setting.
/// </summary>
public static class AgentArguments
{
    /// <summary>The split command line; <paramref name="Error"/> names a setting that cannot be read.</summary>
    public sealed record Result(IReadOnlyList<string> Command, IReadOnlyList<string> Settings, string? Error);

    public static Result Split(IReadOnlyList<string> args)
    {
        var command = new List<string>();
        var settings = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var token = args[i];
            if (token == "--")
            {
                // System.CommandLine's end of options: what follows is not a setting either.
                command.AddRange(args.Skip(i));
                break;
            }

            if (!IsSetting(token))
            {
                command.Add(token);
                continue;
            }

            var equals = token.IndexOf('=', StringComparison.Ordinal);
            var key = equals < 0 ? token[2..] : token[2..equals];
            if (key.Split(':').Any(string.IsNullOrWhiteSpace))
            {
                return new Result(command, settings, $"'{token}' is not a setting: a key is Section:Key with no empty part, as in --Agent:Device=pi-dc-lab.");
            }

            if (equals >= 0)
            {
                settings.Add(token);
            }
            else if (i + 1 < args.Count)
            {
                settings.Add($"{token}={args[++i]}");
            }
            else
            {
                return new Result(command, settings, $"The setting '{token}' has no value: give it as {token}=VALUE or {token} VALUE.");
            }
        }

        return new Result(command, settings, null);
    }

    /// <summary><c>--Section:Key</c>, with or without <c>=value</c>: a ':' in the key part.</summary>
    private static bool IsSetting(string token)
    {
        if (!token.StartsWith("--", StringComparison.Ordinal) || token.Length < 3)
        {
            return false;
        }

        var equals = token.IndexOf('=', StringComparison.Ordinal);
        var colon = token.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 && (equals < 0 || colon < equals);
    }
}
