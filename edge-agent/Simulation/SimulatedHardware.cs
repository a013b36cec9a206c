namespace NewTechPark.Edge.Agent.Simulation;

/// <summary>The simulated buses of one agent: a GPIO driver and an I2C bus of register maps.</summary>
public sealed class SimulatedHardware
{
    public SimulatedGpioDriver Gpio { get; } = new();

    public SimulatedI2cBus I2c { get; } = new();
}
