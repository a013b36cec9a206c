using System.CommandLine;
using NewTechPark.Edge.Collector.CommandLine;

namespace NewTechPark.Edge.Collector.Tests.CommandLine;

/// <summary>The collector's command line without a process: the overrides split off, the tree, the refusals.</summary>
public sealed class CommandLineParsingTests
{
    [Fact]
    public void Settings_overrides_are_split_off_in_both_forms_and_the_rest_goes_to_the_parser()
    {
        var settings = SettingsArguments.Split(
            ["doctor", "--Collector:DataDirectory=/srv/ntp", "--json", "--Logging:LogLevel:Default", "Warning", "--urls", "http://127.0.0.1:0", "--Collector:Broker:Port=-1"],
            out var rest, out var error);
        Assert.Null(error);
        Assert.Equal(["doctor", "--json"], rest);
        Assert.Equal(["--Collector:DataDirectory=/srv/ntp", "--Logging:LogLevel:Default=Warning", "--urls=http://127.0.0.1:0", "--Collector:Broker:Port=-1"], settings.Arguments);
        Assert.Equal(["--Collector:DataDirectory=/srv/ntp", "--Logging:LogLevel:Default=Warning", "--urls=http://127.0.0.1:0", "--Collector:Broker:Port=-1", "--x:y=1"], settings.ForHost("--x:y=1"));
    }

    [Theory]
    [InlineData("--Collector:DataDirectory", "has no value")]
    [InlineData("--Collector::Port=1", "is not a setting")]
    [InlineData("--:x=1", "is not a setting")]
    public void A_setting_without_a_value_or_key_is_refused_by_name(string token, string message)
    {
        SettingsArguments.Split([token, "--json"], out _, out var error);
        Assert.Contains(message, error, StringComparison.Ordinal);
        Assert.Contains(token, error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_mistyped_option_is_not_taken_for_a_setting()
    {
        var settings = SettingsArguments.Split(["--jsn", "--add-device", "pi-x"], out var rest, out _);
        Assert.Empty(settings.Arguments);
        Assert.Equal(["--jsn", "--add-device", "pi-x"], rest);
    }

    [Fact]
    public void A_hostile_number_of_arguments_is_refused()
    {
        SettingsArguments.Split(Enumerable.Repeat("--Collector:SiteFile=x", SettingsArguments.MaxArguments + 1).ToArray(), out _, out var error);
        Assert.Contains("at most", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--jsn", "--json", "doctor")]
    [InlineData("devics", "devices", "")]
    [InlineData("lst", "list", "devices")]
    public async Task An_unknown_option_or_command_is_refused_with_a_hint_and_exit_code_2(string typo, string hint, string command)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        string[] args = command.Length == 0 ? [typo] : [.. command.Split(' '), typo];
        Assert.Equal(2, await CollectorCommandLine.RunAsync(args, output, error));
        Assert.Contains($"'{typo}' was not matched. Did you mean one of the following?", error.ToString(), StringComparison.Ordinal);
        Assert.Contains(hint, error.ToString(), StringComparison.Ordinal);
        Assert.Contains("--help", error.ToString(), StringComparison.Ordinal);
        Assert.Equal("", output.ToString());
    }

    [Fact]
    public async Task An_at_file_argument_is_not_read_as_a_response_file()
    {
        using var folder = new TempDirectory();
        var secret = folder.File("secret.txt");
        await File.WriteAllTextAsync(secret, "--Collector:Admin:Key=do-not-echo\n");
        var error = new StringWriter();
        Assert.Equal(2, await CollectorCommandLine.RunAsync(["doctor", "@" + secret], TextWriter.Null, error));
        Assert.DoesNotContain("do-not-echo", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("@" + secret, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Every_command_has_help_and_version()
    {
        var root = CollectorCommandLine.CreateRoot(new SettingsArguments([]));
        Assert.Contains(root.Options, o => o.Name == "--version");
        foreach (var command in All(root))
        {
            Assert.False(string.IsNullOrWhiteSpace(command.Description), command.Name);
            Assert.Empty(root.Parse([.. Path(root, command), "--help"]).Errors);
            if (command.Arguments.Count == 0)
            {
                // (After a command that takes an argument System.CommandLine wants --version alone.)
                Assert.Empty(root.Parse([.. Path(root, command), "--version"]).Errors);
            }
        }

        Assert.Equal(["devices", "doctor", "region", "report", "sites"], root.Subcommands.Select(c => c.Name).Where(n => n is "devices" or "report" or "doctor" or "region" or "sites").Order());
        Assert.Equal(["acl", "add", "hash-password", "list", "remove"], root.Subcommands.Single(c => c.Name == "devices").Subcommands.Select(c => c.Name).Order());
    }

    [Theory]
    [InlineData("report --out x", "Give either --year YYYY or --month YYYY-MM.")]
    [InlineData("report --out x --year 2026 --month 2026-11", "Give either --year YYYY or --month YYYY-MM.")]
    [InlineData("report --out x --year 1999", "--year 1999 is not a year from 2000 to 2100.")]
    [InlineData("report --out x --month 2026-13", "--month '2026-13' is not a month such as 2026-11")]
    [InlineData("report --year 2026", "Option '--out' is required.")]
    [InlineData("report --out x --year 2026 --csv fr", "fr")]
    [InlineData("devices add Pi/New", "'Pi/New' is not a device id")]
    [InlineData("devices remove", "Required argument 'device' missing")]
    [InlineData("doctor --timeout 00:05:00", "--timeout must be above 00:00:00 and at most 00:01:00")]
    [InlineData("doctor --skip settings", "settings")]
    public async Task Wrong_arguments_are_refused_by_name_with_exit_code_2(string args, string message)
    {
        var error = new StringWriter();
        Assert.Equal(2, await CollectorCommandLine.RunAsync(args.Split(' '), TextWriter.Null, error));
        Assert.Contains(message, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Remove_asks_for_yes_when_standard_input_is_not_a_terminal()
    {
        if (!Console.IsInputRedirected)
        {
            return; // run by hand on a terminal: the command would ask instead
        }

        using var folder = new TempDirectory();
        var file = folder.File("mqtt.passwd");
        Assert.Equal(0, await CollectorCommandLine.RunAsync(["devices", "add", "pi-a", "--password-file", file], TextWriter.Null, TextWriter.Null));
        var error = new StringWriter();
        Assert.Equal(2, await CollectorCommandLine.RunAsync(["devices", "remove", "pi-a", "--password-file", file], TextWriter.Null, error));
        Assert.Contains("needs --yes", error.ToString(), StringComparison.Ordinal);
        Assert.StartsWith("pi-a:$7$", await File.ReadAllTextAsync(file), StringComparison.Ordinal);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Add_refuses_a_device_that_has_a_login_unless_rotate_and_keeps_the_other_lines()
    {
        using var folder = new TempDirectory();
        var file = folder.File("mqtt.passwd");
        await File.WriteAllTextAsync(file, "# readers\ngrafana:$7$101$abc$def\n");
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        var first = new StringWriter();
        Assert.Equal(0, await CollectorCommandLine.RunAsync(["devices", "add", "pi-a", "--password-file", file], first, TextWriter.Null));
        var line = (await File.ReadAllLinesAsync(file)).Single(l => l.StartsWith("pi-a:", StringComparison.Ordinal));

        var error = new StringWriter();
        Assert.Equal(1, await CollectorCommandLine.RunAsync(["devices", "add", "pi-a", "--password-file", file], TextWriter.Null, error));
        Assert.Contains("--rotate", error.ToString(), StringComparison.Ordinal);
        Assert.Contains(line, await File.ReadAllLinesAsync(file));

        var rotated = new StringWriter();
        Assert.Equal(0, await CollectorCommandLine.RunAsync(["devices", "add", "pi-a", "--rotate", "--password-file", file], rotated, TextWriter.Null));
        var lines = await File.ReadAllLinesAsync(file);
        Assert.Equal(["# readers", "grafana:$7$101$abc$def"], lines[..2]);
        Assert.DoesNotContain(line, lines);
        Assert.NotEqual(Lines(first)[1], Lines(rotated)[1]);
        // A file the broker's group may read stays so; nobody else gets in.
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(file));
    }

    [Fact]
    public async Task A_missing_password_file_setting_is_said_with_exit_code_2()
    {
        using var data = new TempDirectory();
        var error = new StringWriter();
        Assert.Equal(2, await CollectorCommandLine.RunAsync(["devices", "add", "pi-a", $"--Collector:DataDirectory={data.Path}"], TextWriter.Null, error));
        Assert.Contains("Collector:Broker:PasswordFile", error.ToString(), StringComparison.Ordinal);
    }

    private static string[] Lines(StringWriter writer) => writer.ToString().Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    private static IEnumerable<Command> All(Command command) => command.Subcommands.SelectMany(c => All(c).Prepend(c));

    private static string[] Path(Command root, Command target)
    {
        foreach (var child in root.Subcommands)
        {
            if (child == target)
            {
                return [child.Name];
            }

            if (Path(child, target) is { Length: > 0 } below)
            {
                return [child.Name, .. below];
            }
        }

        return [];
    }
}
