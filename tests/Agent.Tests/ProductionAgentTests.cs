using NewTechPark.Edge.Agent.Configuration;

namespace NewTechPark.Edge.Agent.Tests;

/// <summary>The production agent drives real hardware only: the twins and the scenario live in simulation/.</summary>
public sealed class ProductionAgentTests
{
    [Fact]
    public void The_edge_agent_assembly_has_no_simulated_type_and_does_not_reference_the_simulation()
    {
        var agent = typeof(AgentOptions).Assembly;
        Assert.Equal("edge-agent", agent.GetName().Name);
        Assert.Empty(agent.GetTypes().Where(t => t.Name.StartsWith("Simulated", StringComparison.Ordinal) || (t.Namespace ?? string.Empty).Contains("Simulation", StringComparison.Ordinal)).Select(t => t.FullName));
        Assert.DoesNotContain(agent.GetReferencedAssemblies(), a => a.Name is "simulated-agent" or "demo");
    }

    [Fact]
    public void The_hardware_setting_has_no_simulated_mode()
    {
        Assert.Equal(["Auto", "Real"], Enum.GetNames<HardwareMode>());
    }
}
