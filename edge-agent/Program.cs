using Microsoft.Extensions.Hosting;
using NewTechPark.Edge.Agent.Hosting;

namespace NewTechPark.Edge.Agent;

/// <summary>The edge agent: reads the sensors of one area of the building and publishes them over MQTT.</summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        using var host = EdgeAgentHost.CreateService(args);
        await host.RunAsync().ConfigureAwait(false);
        return 0;
    }
}
