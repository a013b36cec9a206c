using System.Runtime.InteropServices;
using System.Text.Json;
using NewTechPark.Edge.Agent.Tests.Support;

namespace NewTechPark.Edge.Agent.Tests;

/// <summary>
/// The simulated agent (simulation/: the whole agent, edge-agent's host, readers, publishing and
/// state, on simulated buses) published with NativeAOT for this machine (linux-x64 or
/// linux-arm64), as the Pi runs the agent, reads every simulated sensor and checks its
/// configuration: proof that trimming and AOT kept what the readers, the configuration binding,
/// the options validation, SQLite and the JSON contract need. One publish only (the production
/// edge-agent is the same code less the twins; hardware/deploy.sh publishes it). Needs clang
/// (apt-get install clang); without it the tests fail and say so.
/// </summary>
[Trait("Category", "Slow")]
public sealed class AotPublishTests(AotPublishTests.PublishedAgent agent) : IClassFixture<AotPublishTests.PublishedAgent>
{
    [Theory]
    [InlineData("check")]
    [InlineData("--once")]
    public async Task The_native_agent_reads_every_simulated_sensor_once(string command)
    {
        var binary = await agent.BinaryAsync();
        using var data = new TempDirectory();
        var run = await RunAsync(binary, command, $"--Agent:DataDirectory={data.Path}");

        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}{Environment.NewLine}{run.Stdout}{run.Stderr}");
        var lines = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        foreach (var sensor in SimulatedSensorIds(Path.GetDirectoryName(binary)!))
        {
            // "climate  sim-climate-bme280  temperature_c=20.5 humidity_pct=42 pressure_hpa=1013.2  (05:12:08.141Z)"
            Assert.Contains(lines, l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is [_, var id, var first, ..] && id == sensor && first.Contains('='));
        }

        Assert.Contains(lines, l => l.Contains("sim-climate-bme280", StringComparison.Ordinal) && l.Contains("pressure_hpa=", StringComparison.Ordinal));
        Assert.Matches(@"badge\s+sim-badge\s+visitor=[A-Za-z0-9_-]{22}\s", run.Stdout);
        // The state store is SQLite: the native e_sqlite3 was found beside the binary.
        Assert.True(Directory.EnumerateFiles(data.Path, "*.db", SearchOption.AllDirectories).Any(), "no state database was written");
    }

    [Fact]
    public async Task The_native_agent_names_every_wrong_setting_and_exits_with_2()
    {
        var binary = await agent.BinaryAsync();
        using var data = new TempDirectory();
        var run = await RunAsync(
            binary, "--list-sensors", $"--Agent:DataDirectory={data.Path}",
            "--Agent:Device=Not A Slug", "--Agent:Simulation:Speed=0", "--Agent:Publishing:MaxReadingsPerBatch=5000");

        Assert.Equal(2, run.ExitCode);
        // The hand-written rules and the generated attribute checks, bound by the generated binder.
        Assert.Contains("Agent:Device 'Not A Slug' is not a slug", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("Agent:Simulation:Speed", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("Agent:Publishing:MaxReadingsPerBatch", run.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sensors")]
    [InlineData("--list-sensors")]
    public async Task The_native_agent_lists_every_simulated_sensor_as_ok(string command)
    {
        var binary = await agent.BinaryAsync();
        using var data = new TempDirectory();
        var run = await RunAsync(binary, command, $"--Agent:DataDirectory={data.Path}");

        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}{Environment.NewLine}{run.Stdout}{run.Stderr}");
        var lines = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        foreach (var sensor in SimulatedSensorIds(Path.GetDirectoryName(binary)!))
        {
            Assert.Contains(lines, l => l.StartsWith(sensor + " ", StringComparison.Ordinal) && l.TrimEnd().EndsWith(" ok", StringComparison.Ordinal));
        }
    }

    /// <summary>System.CommandLine under NativeAOT: help, the version, a refusal with its hint (trimming kept them all).</summary>
    [Fact]
    public async Task The_native_agent_answers_help_and_version_and_refuses_an_unknown_option()
    {
        var binary = await agent.BinaryAsync();

        var help = await RunAsync(binary, "--help");
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("check", help.Stdout, StringComparison.Ordinal);
        Assert.Contains("sensors", help.Stdout, StringComparison.Ordinal);
        Assert.Contains("--list-sensors", help.Stdout, StringComparison.Ordinal);

        var version = await RunAsync(binary, "check", "--version");
        Assert.Equal(0, version.ExitCode);
        Assert.Matches(@"^\d+\.\d+\.\d+\S*$", version.Stdout.Trim());

        var unknown = await RunAsync(binary, "--list-sensor");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("'--list-sensor'", unknown.Stderr, StringComparison.Ordinal);
        Assert.Contains("Did you mean", unknown.Stdout + unknown.Stderr, StringComparison.Ordinal);
        Assert.Contains("--list-sensors", unknown.Stdout, StringComparison.Ordinal);
    }

    /// <summary>The systemd notifier under NativeAOT: READY=1, then WATCHDOG=1 at half WATCHDOG_USEC (no broker: the loops wait, alive).</summary>
    [Fact]
    public async Task The_native_agent_under_a_fake_systemd_says_READY_then_pings_the_watchdog()
    {
        var binary = await agent.BinaryAsync();
        await using var systemd = new FakeSystemd();
        using var data = new TempDirectory();
        await using var run = ChildProcess.Start("native simulated-agent", systemd.Launcher,
            FakeSystemd.ChildOf(binary, [$"--Agent:DataDirectory={data.Path}", "--Agent:Broker:Port=1"]),
            new Dictionary<string, string> { ["NOTIFY_SOCKET"] = systemd.SocketPath, ["WATCHDOG_USEC"] = "300000" });

        await systemd.WaitForAsync("READY=1", TimeSpan.FromSeconds(30));
        for (var i = 0; i < 3; i++)
        {
            Assert.Empty(await systemd.WaitForAsync("WATCHDOG=1", TimeSpan.FromSeconds(10)));
        }
    }

    private static IEnumerable<string> SimulatedSensorIds(string directory)
    {
        using var settings = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "appsettings.Simulation.json")));
        var ids = settings.RootElement.GetProperty("Agent").GetProperty("Sensors").EnumerateArray().Select(s => s.GetProperty("Id").GetString()!).ToList();
        Assert.Equal(11, ids.Count);
        return ids;
    }

    private static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string fileName, params string[] arguments) =>
        ChildProcess.RunToEndAsync(fileName, arguments, TimeSpan.FromMinutes(1), Path.GetDirectoryName(fileName)!);

    /// <summary>One NativeAOT publish for the tests of this class, into a temp folder with its own artifacts.</summary>
    public sealed class PublishedAgent : IDisposable
    {
        private readonly TempDirectory _temp = new();
        private readonly Lazy<Task<string>> _binary;

        public PublishedAgent() => _binary = new Lazy<Task<string>>(PublishAsync);

        public Task<string> BinaryAsync() => _binary.Value;

        public void Dispose() => _temp.Dispose();

        private async Task<string> PublishAsync()
        {
            var rid = RuntimeInformation.OSArchitecture switch
            {
                Architecture.X64 => "linux-x64",
                Architecture.Arm64 => "linux-arm64",
                var other => throw new PlatformNotSupportedException($"NativeAOT is published for linux-x64 and linux-arm64, not {other}"),
            };
            Assert.True(
                OnPath("clang") || Enumerable.Range(14, 10).Any(v => OnPath($"clang-{v}")),
                "NativeAOT needs clang to compile and link the agent, and it is not installed: apt-get install -y clang (Debian/Ubuntu; clang-14 or later).");

            var output = Path.Combine(_temp.Path, "out");
            var publish = await ChildProcess.RunToEndAsync("dotnet",
                ["publish", Path.Combine(RepositoryRoot(), "simulation", "NewTechPark.Edge.Simulation.csproj"), "-c", "Release", "-r", rid, "-p:PublishAot=true", "-o", output, "--artifacts-path", Path.Combine(_temp.Path, "artifacts"), "-nologo"],
                TimeSpan.FromMinutes(10));
            Assert.True(publish.ExitCode == 0, "the NativeAOT publish failed (a trim or AOT warning is an error):" + Environment.NewLine + publish.Stdout + publish.Stderr);

            var binary = Path.Combine(output, "simulated-agent");
            Assert.True(File.Exists(binary), "no simulated-agent binary");
            // Native: no managed entry assembly to hand to a runtime, and the SQLite library beside it.
            Assert.False(File.Exists(Path.Combine(output, "simulated-agent.dll")), "simulated-agent.dll was published: not a NativeAOT build");
            Assert.True(File.Exists(Path.Combine(output, "libe_sqlite3.so")), "libe_sqlite3.so is missing");
            return binary;
        }

        private static bool OnPath(string name) =>
            (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries).Any(dir => File.Exists(Path.Combine(dir, name)));

        private static string RepositoryRoot([System.Runtime.CompilerServices.CallerFilePath] string sourceFile = "")
        {
            var dir = new DirectoryInfo(Path.GetDirectoryName(sourceFile)!);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "NewTechPark.Edge.sln")))
            {
                dir = dir.Parent;
            }

            return dir?.FullName ?? throw new InvalidOperationException("the repository root (NewTechPark.Edge.sln) is not above " + sourceFile);
        }
    }
}
