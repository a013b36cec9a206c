namespace NewTechPark.Edge.Simulation;

/// <summary>
/// The simulated agent: what <c>edge-agent</c> does on a Pi, off a Pi. <c>check</c>,
/// <c>sensors</c> (and their old spellings <c>--once</c>, <c>--list-sensors</c>), <c>--help</c>,
/// <c>--version</c> and a plain run behave as the agent's, on simulated buses fed by the
/// built-in scenario (sensors from appsettings.Simulation.json).
/// </summary>
public static class Program
{
    public static Task<int> Main(string[] args) => SimulatedAgentHost.RunAsync(args);
}
