using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Contracts.Configuration;

namespace NewTechPark.Edge.Simulation;

/// <summary>The built-in scenario of a simulated agent, bound from <c>Agent:Simulation</c> (where it was before it left the agent).</summary>
public sealed class SimulationOptions
{
    public const string Section = "Agent:Simulation";

    /// <summary>Same seed, same visitors, pulses and experiments.</summary>
    public int Seed { get; set; } = 2026;

    /// <summary>1 = real time; 60 = an hour of scenario a minute.</summary>
    [Range(0.001, 100_000)]
    public double Speed { get; set; } = 1;
}

/// <summary>The attribute checks of <see cref="SimulationOptions"/>, generated at build time (no reflection, NativeAOT-safe).</summary>
[OptionsValidator]
public sealed partial class SimulationOptionsAttributeValidator : IValidateOptions<SimulationOptions>;
