using Microsoft.Extensions.Options;
using NewTechPark.Edge.Contracts.Configuration;
using NewTechPark.Edge.Collector.Hosting;
using NewTechPark.Edge.Collector.Site;

// The collector: broker, ingest, store, live occupancy, HTTP API and dashboards.
// The demo (a simulated site around this collector) is its own program: `dotnet run --project demo`.
if (NewTechPark.Edge.Collector.Broker.Security.PasswordCommands.TryRun(args, Console.In, Console.Out, Console.Error) is { } exitCode)
{
    return exitCode;
}

try
{
    var app = CollectorHost.Build(args);
    // Checked before the host starts, so a wrong setting is not also logged with a stack trace as a failed start.
    app.Services.GetRequiredService<IStartupValidator>().Validate();
    NewTechPark.Edge.Collector.Broker.EmbeddedBroker.RefuseTakenPorts(
        app.Services.GetRequiredService<IOptions<NewTechPark.Edge.Collector.Configuration.CollectorOptions>>().Value.Broker,
        app.Services.GetRequiredService<NewTechPark.Edge.Collector.Broker.BrokerEndpoint>());
    await app.RunAsync();
    return 0;
}
catch (Exception e) when (e is SiteFileException or OptionsValidationException or NewTechPark.Edge.Collector.Storage.Schema.StoreVersionException or NewTechPark.Edge.Collector.Broker.BrokerPortInUseException || BindingError.Explain(e) is not null)
{
    // A wrong site file or setting, a store of a newer collector, or a broker port another program
    // holds: say what is wrong, without a stack trace (exit 2: systemd does not restart).
    var problems = e is OptionsValidationException invalid ? string.Join(Environment.NewLine + "- ", invalid.Failures) : BindingError.Explain(e) ?? e.Message;
    Console.Error.WriteLine("The collector cannot start:" + Environment.NewLine + "- " + problems);
    return 2;
}

/// <summary>Visible to the tests.</summary>
public partial class Program;
