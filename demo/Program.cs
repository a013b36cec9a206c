using NewTechPark.Edge.Collector.Hosting;
using NewTechPark.Edge.Demo;

// The whole system on one machine: the collector with its embedded broker and SQLite store, and a
// simulated Pi for every device of the site file publishing over real MQTT. Data goes to the
// collector's Collector:DataDirectory (./data/ of the working folder unless set otherwise).
// A wrong site file or setting stops it with exit code 2 and a message naming it.
return await CollectorHost.RunAsync(() => DemoHost.Build(args), "demo");
