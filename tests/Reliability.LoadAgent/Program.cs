using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NewTechPark.Edge.Agent.Hosting;
using NewTechPark.Edge.Simulation;
using NewTechPark.Edge.Reliability.LoadAgent;

// ntp-load-agent --Agent:Device=pi-load --Agent:DataDirectory=/tmp/x --Agent:Broker:Port=1883
//                --Load:Rate=2000 --Load:Total=20000 --Load:RecordFile=/tmp/x/recorded.log
var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
builder.Configuration.AddCommandLine(args);
builder.Services.AddLogging(logging => logging
    .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; })
    .SetMinimumLevel(LogLevel.Information)
    .AddFilter("Microsoft", LogLevel.Warning));
builder.Services.AddEdgeAgent(builder.Configuration, new SimulatedHardware().ToAgentHardware());
builder.Services.Configure<LoadOptions>(builder.Configuration.GetSection(LoadOptions.Section));
builder.Services.AddSingleton<RecordLog>();
builder.Services.AddHostedService<LoadGenerator>();
using var host = builder.Build();
await host.RunAsync();
