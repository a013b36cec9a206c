using System.Device.I2c;

namespace NewTechPark.Edge.Agent.Hardware;

/// <summary>
/// Hands out I2C devices. Readers ask this for their device instead of opening the bus
/// themselves, so the same reader runs on a Pi and against a simulated register map.
/// </summary>
public interface II2cBus
{
    I2cDevice OpenDevice(int busId, int address);
}

/// <summary>The Linux I2C buses (<c>/dev/i2c-N</c>) of a Raspberry Pi.</summary>
public sealed class LinuxI2cBus : II2cBus
{
    public I2cDevice OpenDevice(int busId, int address) => I2cDevice.Create(new I2cConnectionSettings(busId, address));
}
