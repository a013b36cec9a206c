using System.Diagnostics;
using NewTechPark.Edge.Bench;

// dotnet run -c Release --project bench -- SCENARIO   (ingest, latency, agent, replay, query, pulses, year, backfill, sites, all)
YearSettings year;
int backfillDays;
SitesSettings sites;
try
{
    year = YearSettings.FromEnvironment();
    backfillDays = BackfillScenario.DaysFromEnvironment();
    sites = SitesSettings.FromEnvironment();
}
catch (BenchSettingException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

var scenarios = new Dictionary<string, Func<Task<string>>>(StringComparer.OrdinalIgnoreCase)
{
    ["ingest"] = IngestScenario.RunAsync,
    ["breakdown"] = IngestScenario.BreakdownAsync,
    ["latency"] = () => LatencyScenario.RunAsync(TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(20)),
    ["replay"] = ReplayScenario.RunAsync,
    ["query"] = QueryScenario.RunAsync,
    ["agent"] = () => AgentScenario.RunAsync(TimeSpan.FromSeconds(60)),
    ["pulses"] = () => PulsesScenario.RunAsync(TimeSpan.FromSeconds(60)),
    ["year"] = () => YearScenario.RunAsync(year),
    ["backfill"] = () => BackfillScenario.RunAsync(backfillDays),
    ["sites"] = () => SitesScenario.RunAsync(sites),
};

if (args.Length != 1 || !(scenarios.ContainsKey(args[0]) || args[0].Equals("all", StringComparison.OrdinalIgnoreCase)))
{
    Console.Error.WriteLine($"usage: ntp-bench SCENARIO   where SCENARIO is one of: {string.Join(", ", scenarios.Keys)}, all");
    return 2;
}

Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {MachineInfo.CpuModel()}, {MachineInfo.MemoryGiB():F1} GiB; .NET {Environment.Version}; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
var names = args[0].Equals("all", StringComparison.OrdinalIgnoreCase) ? scenarios.Keys.ToList() : [args[0]];
var summaries = new List<string>();
foreach (var name in names)
{
    Console.WriteLine($"== {name}");
    var watch = Stopwatch.StartNew();
    summaries.Add(await scenarios[name]());
    Console.WriteLine($"   ({name} took {watch.Elapsed.TotalSeconds:F0} s)");
}

if (summaries.Count > 1)
{
    foreach (var s in summaries.SkipLast(1))
    {
        Console.WriteLine(s);
    }
}

Console.WriteLine(summaries.Count == 1 ? summaries[0] : $"all: {string.Join("; ", summaries)}");
return 0;
