using NewTechPark.Edge.Collector.Hosting;

// The collector: broker, ingest, store, live occupancy, HTTP API and dashboards.
// `dotnet run --project collector -- --demo` adds simulated agents for the whole default site.
var app = CollectorHost.Build(args);
await app.RunAsync();

/// <summary>Visible to the tests.</summary>
public partial class Program;
