using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Demo;

// The whole system on one machine: the collector with its embedded broker and SQLite store, and a
// simulated Pi for every device of the site file publishing over real MQTT. Data goes to the
// collector's Collector:DataDirectory (./data/ of the working folder unless set otherwise).
try
{
    var app = DemoHost.Build(args);
    await app.RunAsync();
    return 0;
}
catch (Exception e) when (e is SiteFileException or OptionsValidationException)
{
    // A wrong site file or setting: say what is wrong, without a stack trace.
    var problems = e is OptionsValidationException invalid ? string.Join(Environment.NewLine + "- ", invalid.Failures) : e.Message;
    Console.Error.WriteLine("The demo cannot start:" + Environment.NewLine + "- " + problems);
    return 2;
}
