using System.ComponentModel.DataAnnotations;

namespace NewTechPark.Edge.Collector.Configuration;

/// <summary>Energy (<c>Collector:Energy</c>).</summary>
public sealed class EnergyOptions
{
    /// <summary>kg CO2 equivalent per kWh taken from the grid (and avoided per kWh of own solar). Set your supplier's figure.</summary>
    [Range(0.0, 5.0)]
    public double Co2KgPerKwh { get; set; } = 0.33;
}
