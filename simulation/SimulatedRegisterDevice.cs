using System.Device.I2c;

namespace NewTechPark.Edge.Simulation;

/// <summary>
/// Base of simulated I2C parts with 16-bit big-endian registers behind a register pointer, the
/// layout of the INA2xx family: a write of one byte sets the pointer, a write of three bytes sets
/// the pointer and writes the register, a read returns the register at the pointer.
/// </summary>
public abstract class SimulatedRegisterDevice(int busId, int address) : I2cDevice
{
    private readonly Lock _gate = new();
    private byte _pointer;

    public override I2cConnectionSettings ConnectionSettings { get; } = new(busId, address);

    /// <summary>Number of register reads, for tests that check what a reader did.</summary>
    public long Reads { get; private set; }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length == 0)
        {
            return;
        }

        lock (_gate)
        {
            _pointer = buffer[0];
            if (buffer.Length >= 3)
            {
                WriteRegister(_pointer, (ushort)((buffer[1] << 8) | buffer[2]));
            }
        }
    }

    public override void Read(Span<byte> buffer)
    {
        lock (_gate)
        {
            var value = ReadRegister(_pointer);
            Reads++;
            if (buffer.Length > 0)
            {
                buffer[0] = (byte)(value >> 8);
            }

            if (buffer.Length > 1)
            {
                buffer[1] = (byte)value;
            }
        }
    }

    public override void WriteRead(ReadOnlySpan<byte> writeBuffer, Span<byte> readBuffer)
    {
        Write(writeBuffer);
        Read(readBuffer);
    }

    protected abstract ushort ReadRegister(byte register);

    protected abstract void WriteRegister(byte register, ushort value);
}
