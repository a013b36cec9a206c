using System.CommandLine;
using System.CommandLine.Invocation;
using NewTechPark.Edge.Collector.Hosting;

namespace NewTechPark.Edge.Collector.CommandLine;

/// <summary>
/// The collector's command line. With no command it runs the service; the commands work on the
/// same settings (<see cref="SettingsArguments"/>: <c>--Collector:…=value</c>, <c>NTP_Collector__…</c>,
/// appsettings.json), so they find the same store, site file and password file.
/// Exit codes: 0 done, 1 a command found something wrong (doctor), 2 wrong arguments or settings.
/// Each command is a class with <c>public static Command Create(SettingsArguments settings)</c>.
/// </summary>
public static class CollectorCommandLine
{
    /// <summary>Exit code for a wrong command line or wrong settings (systemd does not restart on it).</summary>
    public const int Invalid = 2;

    public static async Task<int> RunAsync(string[] args, TextWriter? output = null, TextWriter? error = null)
    {
        error ??= Console.Error;
        var settings = SettingsArguments.Split(args, out var rest, out var refused);
        if (refused is not null)
        {
            await error.WriteLineAsync(refused).ConfigureAwait(false);
            return Invalid;
        }

        var parsed = CreateRoot(settings).Parse(rest, Parsing);
        if (parsed.Action is ParseErrorAction parseError)
        {
            // The error, the "Did you mean …?" hint and where help is, on standard error; not the whole
            // help on standard output, where a script expects data.
            parseError.ShowHelp = false;
            await parsed.InvokeAsync(new InvocationConfiguration { Output = error, Error = error }).ConfigureAwait(false);
            var command = string.Join(' ', parsed.CommandResult.Command is RootCommand ? ["collector"] : ["collector", .. CommandPath(parsed.CommandResult)]);
            await error.WriteLineAsync($"See '{command} --help'.").ConfigureAwait(false);
            // System.CommandLine answers a parse error with 1; here 1 means "a check found a problem".
            return Invalid;
        }

        return await parsed.InvokeAsync(new InvocationConfiguration { Output = output ?? Console.Out, Error = error }).ConfigureAwait(false);
    }

    /// <summary>
    /// No response files: System.CommandLine would read any file named by an <c>@file</c> argument
    /// (as the user the command runs as, often root or the service user) and echo its lines back in errors.
    /// </summary>
    public static ParserConfiguration Parsing => new() { ResponseFileTokenReplacer = null };

    /// <summary>The whole command tree; the tests parse against it.</summary>
    public static RootCommand CreateRoot(SettingsArguments settings)
    {
        var root = new RootCommand(
            "NewTechPark.Edge collector: MQTT broker, ingest, store, HTTP API and dashboards. " +
            "With no command it runs the service. Any setting can be given as --Section:Key=value " +
            "(--Collector:DataDirectory=/srv/ntp), as an environment variable (NTP_Collector__DataDirectory) or in appsettings.json.");
        root.SetAction((_, _) => CollectorHost.RunAsync(() => CollectorHost.Build(settings.ForHost()), "collector"));

        // --version answers after any command too (collector doctor --version), as --help does.
        foreach (var version in root.Options.OfType<VersionOption>())
        {
            version.Recursive = true;
        }

        // One line per command; keep them in the order of the README's "Command line" section.
        root.Add(DevicesCommand.Create(settings));
        root.Add(ReportCommand.Create(settings));
        root.Add(DoctorCommand.Create(settings));
        root.Add(ExportCommand.Create(settings));
        root.Add(BackupCommand.Create(settings));
        root.Add(RestoreCommand.Create(settings));
        root.Add(RegionCommand.Create(settings));
        root.Add(SitesTransferCommand.Create(settings));
        return root;
    }

    /// <summary>Runs a command body; a wrong setting or an unreadable file is said in one line, not a stack trace.</summary>
    public static int Guard(ParseResult parse, Func<TextWriter, int> body)
    {
        var error = parse.InvocationConfiguration.Error;
        try
        {
            return body(error);
        }
        catch (SettingsRefusedException e)
        {
            error.WriteLine(e.Explain($"collector {parse.CommandResult.Command.Name}: the settings are not valid"));
            return Invalid;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException)
        {
            error.WriteLine($"collector {parse.CommandResult.Command.Name}: {e.Message}");
            return 1;
        }
    }

    /// <summary><see cref="Guard"/> for a command that awaits (streams, copies).</summary>
    public static async Task<int> GuardAsync(ParseResult parse, Func<TextWriter, Task<int>> body)
    {
        var error = parse.InvocationConfiguration.Error;
        try
        {
            return await body(error).ConfigureAwait(false);
        }
        catch (SettingsRefusedException e)
        {
            await error.WriteLineAsync(e.Explain($"collector {parse.CommandResult.Command.Name}: the settings are not valid")).ConfigureAwait(false);
            return Invalid;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException)
        {
            await error.WriteLineAsync($"collector {parse.CommandResult.Command.Name}: {e.Message}").ConfigureAwait(false);
            return 1;
        }
    }

    private static IEnumerable<string> CommandPath(System.CommandLine.Parsing.CommandResult result)
    {
        var names = new Stack<string>();
        for (var at = result; at is not null && at.Command is not RootCommand; at = at.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Push(at.Command.Name);
        }

        return names;
    }
}
