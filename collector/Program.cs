using NewTechPark.Edge.Collector.CommandLine;

// The collector: broker, ingest, store, live occupancy, HTTP API and dashboards, and its commands
// (collector --help). The demo (a simulated site around this collector) is its own program: `dotnet run --project demo`.
return await CollectorCommandLine.RunAsync(args);

/// <summary>Visible to the tests.</summary>
public partial class Program;
