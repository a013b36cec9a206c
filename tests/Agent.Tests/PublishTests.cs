using NewTechPark.Edge.Agent.Tests.Support;

namespace NewTechPark.Edge.Agent.Tests;

/// <summary>The agent publishes as a self-contained linux-arm64 program, as the deploy script does for a Pi 3/4/5.</summary>
[Trait("Category", "Slow")]
public sealed class PublishTests
{
    [Fact]
    public async Task The_agent_publishes_self_contained_for_linux_arm64()
    {
        using var temp = new TempDirectory();
        var project = Path.Combine(RepositoryRoot(), "edge-agent", "NewTechPark.Edge.Agent.csproj");
        var output = Path.Combine(temp.Path, "out");
        var publish = await ChildProcess.RunToEndAsync("dotnet",
            ["publish", project, "-c", "Release", "-r", "linux-arm64", "--self-contained", "-o", output, "--artifacts-path", Path.Combine(temp.Path, "artifacts"), "-nologo"],
            TimeSpan.FromMinutes(8));

        Assert.True(publish.ExitCode == 0, publish.Stdout + publish.Stderr);
        // The native host for the Pi, its settings file and the native GPIO library of the bindings.
        Assert.True(File.Exists(Path.Combine(output, "edge-agent")), "no edge-agent host");
        Assert.True(File.Exists(Path.Combine(output, "appsettings.json")), "no appsettings.json");
        // Real hardware only: the simulation (twins, scenario, its settings) is not on a Pi.
        Assert.False(File.Exists(Path.Combine(output, "appsettings.Simulation.json")), "appsettings.Simulation.json was published with the production agent");
        Assert.False(File.Exists(Path.Combine(output, "simulated-agent.dll")), "the simulation was published with the production agent");
        Assert.True(File.Exists(Path.Combine(output, "libSystem.Native.so")), "not self-contained");
        var header = new byte[20];
        await using (var host = File.OpenRead(Path.Combine(output, "edge-agent")))
        {
            await host.ReadExactlyAsync(header);
        }

        // ELF, 64-bit, machine 0xB7 = AArch64.
        Assert.Equal([0x7F, (byte)'E', (byte)'L', (byte)'F'], header[..4]);
        Assert.Equal(2, header[4]);
        Assert.Equal(0xB7, header[18]);
    }

    /// <summary>Found from this source file's path: the test may run from an artifacts folder outside the repository.</summary>
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
