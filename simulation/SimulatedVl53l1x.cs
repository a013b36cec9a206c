using System.Buffers.Binary;
using System.Device.I2c;

namespace NewTechPark.Edge.Simulation;

/// <summary>
/// A VL53L1X time-of-flight sensor above a door, as a register map (16-bit register index, bytes
/// in sequence, as the real part and ST's ULD address it). It answers what a driver reads at
/// start (boot state, model id 0xEACC, optical centre, oscillator value) and keeps every byte
/// written (ST's default configuration, timing budget, ROI size and centre). A ranging starts on
/// <c>SYSTEM__MODE_START</c> = 0x40 or on an interrupt clear while ranging, takes the ROI centre
/// written at that moment, and is ready at once (the twin does not model the timing budget; the
/// reader waits it out anyway). Its distance is the simulated person's when a person stands in
/// the zone whose centre was selected, else the floor.
/// </summary>
public sealed class SimulatedVl53l1x(int busId, int address = 0x29) : I2cDevice
{
    private const ushort GpioHvMuxCtrl = 0x0030;
    private const ushort GpioTioHvStatus = 0x0031;
    private const ushort RoiCentre = 0x007F;
    private const ushort InterruptClear = 0x0086;
    private const ushort ModeStart = 0x0087;
    private const ushort RangeStatus = 0x0089;
    private const ushort FinalRangeMm = 0x0096;
    private const ushort OscCalibrateVal = 0x00DE;
    private const ushort FirmwareSystemStatus = 0x00E5;
    private const ushort ModelId = 0x010F;
    private const ushort OpticalCentre = 0x013E;

    private readonly Lock _gate = new();
    private readonly byte[] _registers = CreateRegisters();
    private readonly HashSet<byte> _occupied = [];
    private readonly Queue<byte> _recent = new();
    private ushort _pointer;
    private bool _ranging;
    private bool _ready;
    private byte _rangedCentre;
    private long _results;

    public override I2cConnectionSettings ConnectionSettings { get; } = new(busId, address);

    /// <summary>Distance to the floor (or anything else when nobody is there), in mm.</summary>
    public int FloorMm { get; set; } = 2300;

    /// <summary>Distance to the head and shoulders of a person under the sensor, in mm.</summary>
    public int PersonMm { get; set; } = 600;

    /// <summary>Distances read so far, for tests that wait until each zone has been measured.</summary>
    public long Results => Interlocked.Read(ref _results);

    /// <summary>The ROI centres of the distances read so far, newest last (at most 64).</summary>
    public IReadOnlyList<byte> RecentCentres
    {
        get
        {
            lock (_gate)
            {
                return [.. _recent];
            }
        }
    }

    /// <summary>Says whether a person stands in the zone of the SPAD array centred on <paramref name="roiCentre"/>.</summary>
    public void SetOccupied(byte roiCentre, bool occupied)
    {
        lock (_gate)
        {
            if (occupied)
            {
                _occupied.Add(roiCentre);
            }
            else
            {
                _occupied.Remove(roiCentre);
            }
        }
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length < 2)
        {
            throw new IOException("VL53L1X: a transfer starts with a 16-bit register index");
        }

        lock (_gate)
        {
            _pointer = BinaryPrimitives.ReadUInt16BigEndian(buffer);
            for (var i = 2; i < buffer.Length; i++)
            {
                WriteByte((ushort)(_pointer + i - 2), buffer[i]);
            }
        }
    }

    public override void Read(Span<byte> buffer)
    {
        lock (_gate)
        {
            for (var i = 0; i < buffer.Length; i++)
            {
                buffer[i] = ReadByteAt((ushort)(_pointer + i));
            }

            if (_pointer == FinalRangeMm && buffer.Length > 0)
            {
                Interlocked.Increment(ref _results);
                _recent.Enqueue(_rangedCentre);
                if (_recent.Count > 64)
                {
                    _recent.Dequeue();
                }
            }
        }
    }

    public override void WriteRead(ReadOnlySpan<byte> writeBuffer, Span<byte> readBuffer)
    {
        Write(writeBuffer);
        Read(readBuffer);
    }

    private static byte[] CreateRegisters()
    {
        var registers = new byte[0x200];
        registers[FirmwareSystemStatus] = 0x01; // booted
        BinaryPrimitives.WriteUInt16BigEndian(registers.AsSpan(ModelId), 0xEACC);
        registers[OpticalCentre] = 199; // the SPAD at the optical centre
        BinaryPrimitives.WriteUInt16BigEndian(registers.AsSpan(OscCalibrateVal), 0x0030); // PLL ticks per ms (a plausible value)
        registers[GpioHvMuxCtrl] = 0x01; // interrupt active high
        return registers;
    }

    private void WriteByte(ushort register, byte value)
    {
        if (register >= _registers.Length)
        {
            throw new IOException($"VL53L1X: register 0x{register:x4} is not in the simulated map");
        }

        switch (register)
        {
            case ModeStart:
                _registers[register] = value;
                _ranging = value == 0x40;
                _ready = false;
                if (_ranging)
                {
                    StartRanging();
                }

                break;
            case InterruptClear when (value & 1) != 0:
                _ready = false;
                if (_ranging)
                {
                    StartRanging();
                }

                break;
            case InterruptClear:
                break;
            default:
                _registers[register] = value;
                break;
        }
    }

    private byte ReadByteAt(ushort register)
    {
        if (register >= _registers.Length)
        {
            throw new IOException($"VL53L1X: register 0x{register:x4} is not in the simulated map");
        }

        var distance = (ushort)(_occupied.Contains(_rangedCentre) ? PersonMm : FloorMm);
        return register switch
        {
            // Bit 0 equals the interrupt polarity (bit 4 of GPIO_HV_MUX__CTRL clear = active high) when ready.
            GpioTioHvStatus => (byte)(_ready == ((_registers[GpioHvMuxCtrl] & 0x10) == 0) ? 1 : 0),
            RangeStatus => 9, // a valid ranging
            FinalRangeMm => (byte)(distance >> 8),
            FinalRangeMm + 1 => (byte)distance,
            _ => _registers[register],
        };
    }

    private void StartRanging()
    {
        _rangedCentre = _registers[RoiCentre];
        _ready = true;
    }
}
