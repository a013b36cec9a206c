using System.Diagnostics;

namespace NewTechPark.Edge.Bench;

/// <summary>
/// The real edge agent process (edge-agent, Hardware=Simulated: appsettings.Simulation.json, one
/// of each of the ten sensor types fed by the built-in scenario) publishing to the collector with
/// its embedded broker for 60 s. Its resident memory (VmRSS, VmHWM of /proc/PID/status) and CPU
/// share (utime + stime of /proc/PID/stat) are read from outside.
/// </summary>
public static class AgentScenario
{
    public static async Task<string> RunAsync(TimeSpan duration)
    {
        var agentDll = FindAgent();
        await using var collector = await BenchCollector.StartAsync();
        using var data = new TempFolder("ntp-bench-agent-");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(agentDll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[]
                 {
                     agentDll, "--Agent:Hardware=Simulated", $"--Agent:DataDirectory={data.Path}",
                     "--Agent:Broker:Host=127.0.0.1", $"--Agent:Broker:Port={collector.BrokerPort}",
                     "--Logging:LogLevel:Default=Warning",
                 })
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the edge agent");
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
                    throw new InvalidOperationException($"the edge agent published nothing (exited: {process.HasExited})");
                }

                await Task.Delay(100);
            }

            var batchesBefore = collector.CommittedBatches();
            var cpuBefore = CpuTicks(process.Id);
            var watch = Stopwatch.StartNew();
            var samples = new List<double>();
            while (watch.Elapsed < duration)
            {
                await Task.Delay(1000);
                if (process.HasExited)
                {
                    throw new InvalidOperationException("the edge agent exited during the run");
                }

                samples.Add(StatusKb(process.Id, "VmRSS") / 1024.0);
            }

            var cpu = (CpuTicks(process.Id) - cpuBefore) / 100.0 / watch.Elapsed.TotalSeconds; // USER_HZ = 100
            var hwm = StatusKb(process.Id, "VmHWM") / 1024.0;
            var (anon, file, shmem) = (StatusKb(process.Id, "RssAnon") / 1024.0, StatusKb(process.Id, "RssFile") / 1024.0, StatusKb(process.Id, "RssShmem") / 1024.0);
            var batches = collector.CommittedBatches() - batchesBefore;
            samples.Sort();
            var rss = samples[^1];
            Console.WriteLine($"  edge-agent pid {process.Id}, {duration.TotalSeconds:F0} s, {batches:N0} batches committed by the collector in that time");
            Console.WriteLine($"  VmRSS median {samples[samples.Count / 2]:F1} MB, max {rss:F1} MB; VmHWM {hwm:F1} MB (includes start-up)");
            Console.WriteLine($"  at the end: RssAnon {anon:F1} MB (private: heap, stacks), RssFile {file:F1} MB (mapped runtime, framework and app assemblies, ICU; shared and clean), RssShmem {shmem:F1} MB (JIT code, double-mapped for W^X)");
            Console.WriteLine($"  CPU {cpu * 100:F1} % of one core ({cpu * 100 / Environment.ProcessorCount:F1} % of the machine's {Environment.ProcessorCount} cores)");
            Console.WriteLine($"  target < 40 MB resident: {(rss < 40 ? "met" : "MISSED")}");
            return $"agent: {rss:F1} MB resident (max VmRSS over {duration.TotalSeconds:F0} s), {cpu * 100:F1} % of one core";
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

    private static string FindAgent()
    {
        var here = AppContext.BaseDirectory;
        // --artifacts-path: bin/NewTechPark.Edge.Bench/release → bin/NewTechPark.Edge.Agent/release.
        var artifacts = Path.GetFullPath(Path.Combine(here, "..", "..", "NewTechPark.Edge.Agent", new DirectoryInfo(here).Name, "edge-agent.dll"));
        return new[] { artifacts, Path.Combine(here, "edge-agent.dll") }.FirstOrDefault(File.Exists)
            ?? throw new FileNotFoundException("edge-agent.dll was not built next to the benchmark");
    }

    private static long StatusKb(int pid, string field)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
    }

    private static long CpuTicks(int pid)
    {
        // Fields after the ")" of the command name: state is field 3, utime 14, stime 15.
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[11]) + long.Parse(fields[12]);
    }
}
