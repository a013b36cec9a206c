using System.Collections.Concurrent;
using System.Device.Spi;
using NewTechPark.Edge.Agent.Hardware;

namespace NewTechPark.Edge.Simulation;

/// <summary>
/// SPI buses with simulated parts on their chip selects. A chip select with nothing on it reads
/// as a floating MISO line: every byte comes back 0x00, as on a Pi with the reader unplugged.
/// </summary>
public sealed class SimulatedSpiBus : ISpiBus
{
    private readonly ConcurrentDictionary<(int Bus, int ChipSelect), SimulatedSpiPart> _parts = new();

    public T Attach<T>(int busId, int chipSelect, T part)
        where T : SimulatedSpiPart
    {
        if (!_parts.TryAdd((busId, chipSelect), part))
        {
            throw new InvalidOperationException($"a simulated part already sits on SPI {busId}.{chipSelect}");
        }

        return part;
    }

    public void Detach(int busId, int chipSelect) => _parts.TryRemove((busId, chipSelect), out _);

    public bool IsAttached(int busId, int chipSelect) => _parts.ContainsKey((busId, chipSelect));

    public SpiDevice OpenDevice(int busId, int chipSelect, int clockFrequency, SpiMode mode) =>
        new Connection(this, new SpiConnectionSettings(busId, chipSelect) { ClockFrequency = clockFrequency, Mode = mode });

    private sealed class Connection(SimulatedSpiBus bus, SpiConnectionSettings settings) : SpiDevice
    {
        public override SpiConnectionSettings ConnectionSettings => settings;

        public override byte ReadByte()
        {
            Span<byte> one = stackalloc byte[1];
            Read(one);
            return one[0];
        }

        public override void Read(Span<byte> buffer)
        {
            Span<byte> zeros = stackalloc byte[buffer.Length];
            zeros.Clear();
            TransferFullDuplex(zeros, buffer);
        }

        public override void WriteByte(byte value) => Write([value]);

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            var sink = new byte[buffer.Length];
            TransferFullDuplex(buffer, sink);
        }

        public override void TransferFullDuplex(ReadOnlySpan<byte> writeBuffer, Span<byte> readBuffer)
        {
            if (bus._parts.TryGetValue((settings.BusId, settings.ChipSelectLine), out var part))
            {
                // The buffers may be the same memory (the MFRC522 binding does that): copy first.
                var sent = writeBuffer.ToArray();
                part.Transfer(sent, readBuffer);
            }
            else
            {
                readBuffer.Clear();
            }
        }
    }
}

/// <summary>A part on a simulated SPI bus: one chip-select frame in, the bytes it clocks out back.</summary>
public abstract class SimulatedSpiPart
{
    public abstract void Transfer(ReadOnlySpan<byte> mosi, Span<byte> miso);
}
