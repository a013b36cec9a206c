using System.Device.Gpio;

namespace NewTechPark.Edge.Simulation;

/// <summary>The simulated buses of one agent: GPIO, I2C register maps, SPI parts and a 1-Wire bus.</summary>
public sealed class SimulatedHardware
{
    public SimulatedGpioDriver Gpio { get; } = new();

    public SimulatedI2cBus I2c { get; } = new();

    public SimulatedSpiBus Spi { get; } = new();

    public SimulatedOneWireBus OneWire { get; } = new();

    /// <summary>These buses as the agent's hardware: what the agent host takes instead of the Pi's.</summary>
    public AgentHardware ToAgentHardware() => new("Simulated", _ => new GpioController(Gpio), _ => I2c, _ => Spi, _ => OneWire, EdgeEvents: _ => Gpio);
}
