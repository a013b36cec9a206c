using Microsoft.Extensions.Hosting;
using NewTechPark.Edge.Agent.Hosting;
using NewTechPark.Edge.Simulation;

namespace NewTechPark.Edge.Browser.Tests.Infrastructure;

/// <summary>A real edge agent with one INA219 bench (dc-bench-2) read at 100 Hz, the fastest rate a DC reader allows.</summary>
public sealed class FastBench : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly string _data;

    private FastBench(IHost host, string data)
    {
        _host = host;
        _data = data;
    }

    public static async Task<FastBench> StartAsync(int brokerPort)
    {
        var hardware = new SimulatedHardware();
        var bench = hardware.I2c.Attach(1, 0x41, new SimulatedIna219(1, 0x41, shuntOhms: 0.1));
        bench.SetLoad(5.0, 0.5);
        var data = Directory.CreateTempSubdirectory("ntp-agent-fast-").FullName;
        var host = SimulatedAgentHost.Create(
        [
            new("Agent:Site", "newtechpark"),
            new("Agent:Device", "pi-fast-bench"),
            new("Agent:DataDirectory", data),
            new("Agent:Broker:Host", "127.0.0.1"),
            new("Agent:Broker:Port", brokerPort.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            .. NewTechPark.Edge.EndToEnd.Tests.Infrastructure.TestCredentials.AgentSettings("pi-fast-bench"),
            new("Agent:Broker:ReconnectMinDelay", "00:00:00.100"),
            new("Agent:Publishing:BatchLinger", "00:00:00.050"),
            new("Agent:Sensors:0:Id", "dc-bench-2"),
            new("Agent:Sensors:0:Type", "ina219"),
            new("Agent:Sensors:0:Address", "65"),
            new("Agent:Sensors:0:SampleInterval", "00:00:00.010"),
        ], hardware);
        await host.StartAsync();
        return new FastBench(host, data);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
