using System.Collections.Concurrent;
using System.Device.I2c;
using NewTechPark.Edge.Agent.Hardware;

namespace NewTechPark.Edge.Simulation;

/// <summary>
/// An I2C bus with simulated parts at their addresses. An address with no part behaves like the
/// real bus: opening works, every transfer fails with "no ACK".
/// </summary>
public sealed class SimulatedI2cBus : II2cBus
{
    private readonly ConcurrentDictionary<(int Bus, int Address), I2cDevice> _devices = new();

    /// <summary>Places a simulated part on the bus.</summary>
    public T Attach<T>(int busId, int address, T device)
        where T : I2cDevice
    {
        if (!_devices.TryAdd((busId, address), device))
        {
            throw new InvalidOperationException($"a simulated part already answers at 0x{address:x2} on I2C bus {busId}");
        }

        return device;
    }

    /// <summary>Takes a part off the bus (a cable pulled out).</summary>
    public void Detach(int busId, int address) => _devices.TryRemove((busId, address), out _);

    public I2cDevice OpenDevice(int busId, int address) =>
        new BusConnection(this, new I2cConnectionSettings(busId, address));

    /// <summary>
    /// What a reader holds: it looks the part up at every transfer, so a detached part stops
    /// answering and a re-attached one answers again, as on a real bus.
    /// </summary>
    private sealed class BusConnection(SimulatedI2cBus bus, I2cConnectionSettings settings) : I2cDevice
    {
        public override I2cConnectionSettings ConnectionSettings => settings;

        public override void Read(Span<byte> buffer) => Part().Read(buffer);

        public override void Write(ReadOnlySpan<byte> buffer) => Part().Write(buffer);

        public override void WriteRead(ReadOnlySpan<byte> writeBuffer, Span<byte> readBuffer) => Part().WriteRead(writeBuffer, readBuffer);

        private I2cDevice Part() =>
            bus._devices.TryGetValue((settings.BusId, settings.DeviceAddress), out var device)
                ? device
                : throw new IOException($"no ACK at 0x{settings.DeviceAddress:x2} on I2C bus {settings.BusId}");
    }
}
