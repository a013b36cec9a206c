using System.CommandLine;
using System.Reflection;
using NewTechPark.Edge.Agent.Hosting;
using NewTechPark.Edge.Simulation;

namespace NewTechPark.Edge.Agent.Tests;

/// <summary>
/// The agent's command line: settings split off for the host, commands and options parsed by
/// System.CommandLine; the programs themselves for help, version, refusals and the two checks.
/// </summary>
public sealed class AgentCommandLineTests
{
    [Fact]
    public void Settings_in_one_token_or_two_go_to_the_host_and_the_rest_to_the_parser()
    {
        var split = AgentArguments.Split(["check", "--Agent:DataDirectory=/x", "--Agent:Hardware", "Real", "--Logging:LogLevel:Default=Warning", "--verbose"]);

        Assert.Null(split.Error);
        Assert.Equal(["check", "--verbose"], split.Command);
        Assert.Equal(["--Agent:DataDirectory=/x", "--Agent:Hardware=Real", "--Logging:LogLevel:Default=Warning"], split.Settings);
    }

    [Theory]
    [InlineData("--Agent:Device", "has no value")]
    [InlineData("--Agent::Device=x", "is not a setting")]
    [InlineData("--:Device=x", "is not a setting")]
    public void A_setting_that_cannot_be_read_is_refused_by_name(string token, string why)
    {
        var split = AgentArguments.Split(["check", token]);

        Assert.NotNull(split.Error);
        Assert.Contains(token, split.Error, StringComparison.Ordinal);
        Assert.Contains(why, split.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void An_equals_sign_in_a_plain_option_does_not_make_it_a_setting()
    {
        var split = AgentArguments.Split(["--foo=a:b", "--", "--Agent:Device=x"]);

        Assert.Empty(split.Settings);
        Assert.Equal(["--foo=a:b", "--", "--Agent:Device=x"], split.Command);
    }

    [Theory]
    [InlineData("check")]
    [InlineData("sensors")]
    [InlineData("--once")]
    [InlineData("--list-sensors")]
    [InlineData("check --version")]
    [InlineData("sensors --help")]
    public void Commands_and_old_spellings_parse(string line) =>
        Assert.Empty(AgentCommandLine.Build([]).Parse(line).Errors);

    [Theory]
    [InlineData("--onse", "--once")]
    [InlineData("chek", "check")]
    [InlineData("sensor", "sensors")]
    [InlineData("--list-sensor", "--list-sensors")]
    public async Task An_unknown_option_or_command_is_refused_with_a_hint(string typo, string hint)
    {
        var parsed = AgentCommandLine.Build([]).Parse(typo);
        var output = new StringWriter();
        var error = new StringWriter();

        await parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = error });

        Assert.NotEmpty(parsed.Errors);
        Assert.Contains(typo, error.ToString(), StringComparison.Ordinal);
        Assert.Contains("Did you mean", output.ToString() + error.ToString(), StringComparison.Ordinal);
        Assert.Contains(hint, output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_response_file_is_not_read()
    {
        using var temp = new TempDirectory();
        var file = temp.File("args.rsp");
        File.WriteAllText(file, "check");

        var parsed = AgentCommandLine.Build([]).Parse(["@" + file], AgentCommandLine.Parsing);

        Assert.Contains(parsed.Errors, e => e.Message.Contains("@" + file, StringComparison.Ordinal));
    }

    [Fact]
    public void Once_and_list_sensors_together_are_refused() =>
        Assert.Contains(AgentCommandLine.Build([]).Parse("--once --list-sensors").Errors, e => e.Message.Contains("cannot be combined", StringComparison.Ordinal));

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Help_lists_the_commands_the_old_spellings_and_how_settings_are_given()
    {
        var run = await RunAsync("--help");

        Assert.Equal(0, run.ExitCode);
        foreach (var word in new[] { "check", "sensors", "--once", "--list-sensors", "--version", "--Agent:Device=" })
        {
            Assert.Contains(word, run.Stdout, StringComparison.Ordinal);
        }
    }

    [Theory]
    [Trait("Category", "Slow")]
    [InlineData("--version")]
    [InlineData("check", "--version")]
    public async Task Version_prints_the_informational_version(params string[] args)
    {
        var run = await RunAsync(args);

        Assert.Equal(0, run.ExitCode);
        var version = typeof(SimulatedAgentHost).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        Assert.Equal(version, run.Stdout.Trim());
    }

    /// <summary>Before System.CommandLine any unknown switch started the service: now it exits with 2 at once.</summary>
    [Theory]
    [Trait("Category", "Slow")]
    [InlineData("--onse", "--once")]
    [InlineData("chek", "check")]
    public async Task An_unknown_option_exits_with_2_and_a_hint_instead_of_starting_the_service(string typo, string hint)
    {
        var run = await RunAsync(typo);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains($"'{typo}'", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("Did you mean", run.Stdout + run.Stderr, StringComparison.Ordinal);
        Assert.Contains(hint, run.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("Application started", run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task A_setting_without_a_value_exits_with_2()
    {
        var run = await RunAsync("check", "--Agent:Device");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("'--Agent:Device' has no value", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Check_reads_every_simulated_sensor_once_as_once_did()
    {
        using var data = new TempDirectory();
        var run = await RunAsync("check", $"--Agent:DataDirectory={data.Path}", "--Agent:Broker:Port", "1");

        Assert.Equal(0, run.ExitCode);
        var lines = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        foreach (var kind in new[] { "door", "energy", "dc", "climate", "badge" })
        {
            Assert.Contains(lines, l => l.StartsWith(kind + " ", StringComparison.Ordinal) && l.Contains('=', StringComparison.Ordinal));
        }

        Assert.Matches(@"badge\s+\S+\s+visitor=[A-Za-z0-9_-]{22}\s", run.Stdout);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Sensors_lists_every_configured_sensor_with_its_health_as_list_sensors_did()
    {
        using var data = new TempDirectory();
        var run = await RunAsync("sensors", $"--Agent:DataDirectory={data.Path}", "--Agent:Broker:Port=1");

        Assert.Equal(0, run.ExitCode);
        foreach (var type in new[] { "door-beams", "s0-meter", "ina219", "bme280", "scd4x", "mfrc522" })
        {
            Assert.Matches($@"\S+\s+{type}\s+\S+\s+.*\sok\s*$", run.Stdout.Split('\n').First(l => l.Contains($" {type} ", StringComparison.Ordinal)));
        }

        Assert.Contains("hardware: Simulated", run.Stdout, StringComparison.Ordinal);
    }

    private static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args) =>
        ChildProcess.RunToEndAsync("dotnet", [Path.Combine(AppContext.BaseDirectory, "simulated-agent.dll"), .. args], TimeSpan.FromSeconds(90));
}
