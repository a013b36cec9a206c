using System.Device.Spi;

namespace NewTechPark.Edge.Agent.Hardware;

/// <summary>
/// Hands out SPI devices (bus and chip select). Readers ask this for their device instead of
/// opening <c>/dev/spidevB.C</c> themselves, so the same reader runs on a Pi and against a
/// simulated part.
/// </summary>
public interface ISpiBus
{
    SpiDevice OpenDevice(int busId, int chipSelect, int clockFrequency, SpiMode mode);
}

/// <summary>The Linux SPI buses (<c>/dev/spidevB.C</c>) of a Raspberry Pi.</summary>
public sealed class LinuxSpiBus : ISpiBus
{
    public SpiDevice OpenDevice(int busId, int chipSelect, int clockFrequency, SpiMode mode) =>
        SpiDevice.Create(new SpiConnectionSettings(busId, chipSelect) { ClockFrequency = clockFrequency, Mode = mode });
}
