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

    /// <summary>
    /// On first start (no store yet) fill the past <see cref="HistoryDays"/> days of simulated
    /// history through the collector's ingest before going live; false (<c>--no-history</c>): start empty.
    /// </summary>
    public bool History { get; set; } = true;

    /// <summary>Days of history a first start fills (365: the last 12 months; a few for a quick look or a test).</summary>
    [Range(1, 366)]
    public int HistoryDays { get; set; } = 365;
}

/// <summary>The attribute checks of <see cref="DemoOptions"/>, generated at build time.</summary>
[OptionsValidator]
public sealed partial class DemoOptionsAttributeValidator : IValidateOptions<DemoOptions>;
