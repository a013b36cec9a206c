using NewTechPark.Edge.Agent.Hosting;

namespace NewTechPark.Edge.Agent;

/// <summary>
/// The edge agent: reads the sensors of one area of the building and publishes them over MQTT.
/// <c>check</c> reads every sensor once and prints the readings; <c>sensors</c> prints the
/// configured sensors and their health (old spellings <c>--once</c>, <c>--list-sensors</c>).
/// Neither needs a broker. <c>--help</c> lists the rest (<see cref="AgentCommandLine"/>). Real hardware only: off a Pi it
/// stops with exit code 2 and points to the simulated agent (<c>dotnet run --project simulation</c>).
/// </summary>
public static class Program
{
    public static Task<int> Main(string[] args) => AgentCommandLine.RunAsync(args);
}
