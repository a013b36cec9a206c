using NewTechPark.Edge.Collector.Hosting;

// The collector: broker, ingest, store, live occupancy, HTTP API and dashboards.
// The demo (a simulated site around this collector) is its own program: `dotnet run --project demo`.
if (NewTechPark.Edge.Collector.Broker.Security.PasswordCommands.TryRun(args, Console.In, Console.Out, Console.Error) is { } exitCode)
{
    return exitCode;
}

if (NewTechPark.Edge.Collector.Reports.ReportCommand.TryRun(args, Console.Out, Console.Error) is { } reportExit)
{
    return reportExit;
}

return await CollectorHost.RunAsync(() => CollectorHost.Build(args), "collector");

/// <summary>Visible to the tests.</summary>
public partial class Program;
