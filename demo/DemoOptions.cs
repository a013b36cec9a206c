using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Contracts.Configuration;

namespace NewTechPark.Edge.Demo;

/// <summary>The demo's scenario, bound from the <c>Demo</c> section (<c>--Demo:Seed=7</c>).</summary>
public sealed class DemoOptions
{
    public const string Section = "Demo";

    public int Seed { get; set; } = 2026;

    /// <summary>People arriving per minute on average, besides the school class at the start.</summary>
    [Range(0.0, 10_000.0)]
    public double ArrivalsPerMinute { get; set; } = 30;
}

/// <summary>The attribute checks of <see cref="DemoOptions"/>, generated at build time.</summary>
[OptionsValidator]
public sealed partial class DemoOptionsAttributeValidator : IValidateOptions<DemoOptions>;
