using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NewTechPark.Edge.Bench;

/// <summary>
/// The real edge agent code as the simulated agent process (simulation/: the agent host on
/// simulated buses, appsettings.Simulation.json, one of each of the ten sensor types fed by the
/// built-in scenario) publishing to the collector with its
/// embedded broker for 60 s, twice: as the NativeAOT binary the Pi runs (published here for this
/// machine's architecture, as <c>hardware/deploy.sh</c> does) and, for comparison, as the JIT
/// program (<c>dotnet simulated-agent.dll</c>). Resident memory (VmRSS, VmHWM of /proc/PID/status) and
/// CPU share (utime + stime of /proc/PID/stat) are read from outside. The target (DESIGN.md) is
/// for the NativeAOT binary. Bytes the agent makes the block layer write (write_bytes of
/// /proc/PID/io: its state file, WAL and checkpoints; logs go to a pipe) are scaled to a day:
/// what the Pi's SD card would take, against a budget of 1 GB a day.
/// </summary>
public static class AgentScenario
{
    /// <summary>Extra <c>dotnet publish</c> arguments for the NativeAOT build, to measure one setting (<c>-p:InvariantGlobalization=false</c>).</summary>
    public const string PublishArgumentsVariable = "NTP_BENCH_AGENT_PUBLISH_ARGS";

    /// <summary>Set to 0 to measure only the JIT program (no NativeAOT publish: quick before/after comparisons of writes).</summary>
    public const string AotVariable = "NTP_BENCH_AGENT_AOT";

    public static async Task<string> RunAsync(TimeSpan duration)
    {
        if (Environment.GetEnvironmentVariable(AotVariable) == "0")
        {
            var jitOnly = await MeasureAsync("JIT", "dotnet", [FindJitAgent()], duration);
            return $"agent (JIT only): {jitOnly.MaxRssMb:F1} MB resident, {jitOnly.CpuShare * 100:F1} % of one core, {jitOnly.BytesPerDay / 1e9:F2} GB written a day";
        }

        var aot = await PublishAotAsync();
        Console.WriteLine($"  NativeAOT {aot.Rid}: {aot.Path} ({aot.Bytes / 1048576.0:F1} MB), published in {aot.PublishTime.TotalSeconds:F0} s");
        var aotRun = await MeasureAsync("NativeAOT", aot.Path, [], duration);

        var jitDll = FindJitAgent();
        Console.WriteLine($"  JIT for comparison: dotnet {jitDll}");
        var jitRun = await MeasureAsync("JIT", "dotnet", [jitDll], duration);

        Console.WriteLine($"  target < 40 MB resident (NativeAOT): {(aotRun.MaxRssMb < 40 ? "met" : "MISSED")}");
        Console.WriteLine($"  SD card budget < {SdCardBudgetBytesPerDay / 1e9:F0} GB written a day (NativeAOT): {(aotRun.BytesPerDay < SdCardBudgetBytesPerDay ? "met" : "MISSED")}");
        return $"agent: NativeAOT {aotRun.MaxRssMb:F1} MB resident, {aotRun.CpuShare * 100:F1} % of one core, {aotRun.BytesPerDay / 1e9:F2} GB written a day; "
            + $"JIT {jitRun.MaxRssMb:F1} MB, {jitRun.CpuShare * 100:F1} %, {jitRun.BytesPerDay / 1e9:F2} GB a day (max VmRSS over {duration.TotalSeconds:F0} s)";
    }

    /// <summary>What an SD card should take from the agent in a day (issue 19).</summary>
    public const double SdCardBudgetBytesPerDay = 1e9;

    private sealed record Run(double MaxRssMb, double CpuShare, double BytesPerDay);

    private sealed record Published(string Rid, string Path, long Bytes, TimeSpan PublishTime);

    private static async Task<Run> MeasureAsync(string label, string fileName, IReadOnlyList<string> firstArguments, TimeSpan duration)
    {
        await using var collector = await BenchCollector.StartAsync();
        using var data = new TempDirectory("ntp-bench-agent-");
        var program = fileName == "dotnet" ? firstArguments[0] : fileName;
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = Path.GetDirectoryName(program)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in firstArguments.Concat(
                 [
                     $"--Agent:DataDirectory={data.Path}",
                     "--Agent:Broker:Host=127.0.0.1", $"--Agent:Broker:Port={collector.BrokerPort}",
                     "--Agent:Broker:Username=pi-simulated", $"--Agent:Broker:Password={BenchUsers.PasswordOf("pi-simulated")}",
                     "--Logging:LogLevel:Default=Warning",
                 ]))
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start the edge agent ({label})");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            // Measured from the first committed batch on: start-up is not the steady state.
            var wait = Stopwatch.StartNew();
            while (collector.CommittedBatches() == 0)
            {
                if (process.HasExited || wait.Elapsed > TimeSpan.FromSeconds(60))
                {
                    throw new InvalidOperationException($"the edge agent ({label}) published nothing (exited: {process.HasExited})");
                }

                await Task.Delay(100);
            }

            var batchesBefore = collector.CommittedBatches();
            var cpuBefore = CpuTicks(process.Id);
            var writtenBefore = IoBytes(process.Id, "write_bytes");
            var watch = Stopwatch.StartNew();
            var samples = new List<double>();
            while (watch.Elapsed < duration)
            {
                await Task.Delay(1000);
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"the edge agent ({label}) exited during the run");
                }

                samples.Add(StatusKb(process.Id, "VmRSS") / 1024.0);
            }

            var cpu = (CpuTicks(process.Id) - cpuBefore) / 100.0 / watch.Elapsed.TotalSeconds; // USER_HZ = 100
            var hwm = StatusKb(process.Id, "VmHWM") / 1024.0;
            var (anon, file, shmem) = (StatusKb(process.Id, "RssAnon") / 1024.0, StatusKb(process.Id, "RssFile") / 1024.0, StatusKb(process.Id, "RssShmem") / 1024.0);
            var batches = collector.CommittedBatches() - batchesBefore;
            var written = IoBytes(process.Id, "write_bytes") - writtenBefore;
            var perDay = written / watch.Elapsed.TotalSeconds * 86400;
            samples.Sort();
            var rss = samples[^1];
            Console.WriteLine($"  {label}: edge-agent pid {process.Id}, {duration.TotalSeconds:F0} s, {batches:N0} batches committed by the collector in that time");
            Console.WriteLine($"  {label}: VmRSS median {samples[samples.Count / 2]:F1} MB, max {rss:F1} MB; VmHWM {hwm:F1} MB (includes start-up)");
            Console.WriteLine($"  {label}: at the end RssAnon {anon:F1} MB (private: heap, stacks), RssFile {file:F1} MB (mapped program, runtime and libraries; shared and clean), RssShmem {shmem:F1} MB (JIT code, double-mapped for W^X)");
            Console.WriteLine($"  {label}: CPU {cpu * 100:F1} % of one core ({cpu * 100 / Environment.ProcessorCount:F1} % of the machine's {Environment.ProcessorCount} cores)");
            Console.WriteLine($"  {label}: wrote {written / 1048576.0:F1} MiB to disk for {batches:N0} batches ({written / Math.Max(1.0, batches):F0} bytes a batch): {perDay / 1e9:F2} GB a day");
            return new Run(rss, cpu, perDay);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
                await process.WaitForExitAsync();
            }
        }
    }

    /// <summary>
    /// <c>dotnet publish simulation -r linux-x64|linux-arm64 -p:PublishAot=true</c> into a folder
    /// beside the benchmark, with its own artifacts folder so that the repository's obj/ is left
    /// alone; the second run only relinks what changed.
    /// </summary>
    private static async Task<Published> PublishAotAsync()
    {
        var rid = RuntimeInformation.OSArchitecture switch
        {
            Architecture.X64 => "linux-x64",
            Architecture.Arm64 => "linux-arm64",
            var other => throw new PlatformNotSupportedException($"the agent is published with NativeAOT for linux-x64 and linux-arm64, not {other}"),
        };
        var output = Path.Combine(AppContext.BaseDirectory, "simulated-agent-aot", rid);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        var arguments = new List<string>
        {
            "publish", Path.Combine(RepositoryRoot(), "simulation", "NewTechPark.Edge.Simulation.csproj"),
            "-c", "Release", "-r", rid, "-p:PublishAot=true", "-o", output,
            "--artifacts-path", Path.Combine(AppContext.BaseDirectory, "simulated-agent-aot", "artifacts"), "-nologo",
        };
        arguments.AddRange((Environment.GetEnvironmentVariable(PublishArgumentsVariable) ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries));
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        Console.WriteLine($"  dotnet publish simulation {string.Join(' ', arguments.Skip(2))}");
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet publish");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"the NativeAOT publish of the agent failed:{Environment.NewLine}{await stdout}{await stderr}");
        }

        var binary = Path.Combine(output, "simulated-agent");
        return new Published(rid, binary, new FileInfo(binary).Length, watch.Elapsed);
    }

    /// <summary>
    /// The agent's own build output, with its own deps.json: the copy beside the benchmark lacks
    /// the Microsoft.Extensions assemblies that the benchmark takes from the ASP.NET framework.
    /// </summary>
    private static string FindJitAgent()
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory);
        var candidates = new[]
        {
            // --artifacts-path: bin/NewTechPark.Edge.Bench/release → bin/NewTechPark.Edge.Simulation/release.
            Path.Combine(here.Parent!.Parent!.FullName, "NewTechPark.Edge.Simulation", here.Name, "simulated-agent.dll"),
            // bench/bin/Release/net10.0 → simulation/bin/Release/net10.0.
            Path.Combine(RepositoryRoot(), "simulation", "bin", here.Parent.Name, here.Name, "simulated-agent.dll"),
        };
        return candidates.FirstOrDefault(File.Exists)
            ?? throw new FileNotFoundException($"the simulated agent was not built: none of {string.Join(", ", candidates)}");
    }

    /// <summary>Found from this source file's path: the benchmark runs from its bin folder.</summary>
    private static string RepositoryRoot([CallerFilePath] string sourceFile = "")
    {
        var dir = new DirectoryInfo(Path.GetDirectoryName(sourceFile)!);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "NewTechPark.Edge.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("the repository root (NewTechPark.Edge.sln) is not above " + sourceFile);
    }

    private static long StatusKb(int pid, string field)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
    }

    /// <summary>A field of /proc/PID/io (write_bytes: what the process caused to be written to storage).</summary>
    private static long IoBytes(int pid, string field)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/io"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(field.Length + 1).Trim(), System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"/proc/{pid}/io has no {field}");
    }

    private static long CpuTicks(int pid)
    {
        // Fields after the ")" of the command name: state is field 3, utime 14, stime 15.
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[11]) + long.Parse(fields[12]);
    }
}
