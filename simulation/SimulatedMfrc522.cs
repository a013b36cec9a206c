namespace NewTechPark.Edge.Simulation;

/// <summary>
/// An MFRC522 reader IC (NXP datasheet MFRC522 rev. 3.9) on SPI, with an ISO 14443-3 type A card
/// that the simulation holds in front of it. The chip side models what the binding uses: the
/// register file (address byte <c>(reg &lt;&lt; 1) | read bit</c>), the 64-byte FIFO, the
/// Idle/CalcCRC/Transceive/SoftReset commands, interrupt request bits with their set/clear
/// semantics and the version register. The card side answers REQA/WUPA, anticollision and select
/// for cascade levels 1 and 2 (4- and 7-byte UIDs) and HLTA, with CRC_A checked on the frames
/// that carry one.
/// </summary>
public sealed class SimulatedMfrc522 : SimulatedSpiPart
{
    private const int CommandReg = 0x01;
    private const int ComIrqReg = 0x04;
    private const int DivIrqReg = 0x05;
    private const int ErrorReg = 0x06;
    private const int FifoDataReg = 0x09;
    private const int FifoLevelReg = 0x0A;
    private const int ControlReg = 0x0C;
    private const int BitFramingReg = 0x0D;
    private const int TxControlReg = 0x14;
    private const int CrcResultHighReg = 0x21;
    private const int CrcResultLowReg = 0x22;
    private const int VersionReg = 0x37;

    private const byte Idle = 0x00;
    private const byte CalcCrc = 0x03;
    private const byte Transceive = 0x0C;
    private const byte SoftReset = 0x0F;

    private readonly Lock _gate = new();
    private readonly byte[] _registers = new byte[64];
    private readonly Queue<byte> _fifo = new();
    private byte[]? _card;
    private CardState _cardState;
    private long _cardsRead;

    public SimulatedMfrc522()
    {
        Reset();
    }

    private enum CardState
    {
        Idle,
        Ready,
        Ready2,
        Active,
        Halted,
    }

    /// <summary>Version register: 0x92 for an MFRC522 v2.0; 0x00 makes the reader look unplugged.</summary>
    public byte Version { get; set; } = 0x92;

    /// <summary>Cards that completed a select (for tests).</summary>
    public long CardsSelected => Interlocked.Read(ref _cardsRead);

    /// <summary>Holds a card with this UID (4 or 7 bytes) in front of the antenna.</summary>
    public void PresentCard(ReadOnlySpan<byte> uid)
    {
        if (uid.Length is not (4 or 7))
        {
            throw new ArgumentException("a type A UID has 4 or 7 bytes here", nameof(uid));
        }

        lock (_gate)
        {
            _card = uid.ToArray();
            _cardState = CardState.Idle;
        }
    }

    /// <summary>Takes the card away.</summary>
    public void RemoveCard()
    {
        lock (_gate)
        {
            _card = null;
            _cardState = CardState.Idle;
        }
    }

    public bool CardPresent
    {
        get
        {
            lock (_gate)
            {
                return _card is not null;
            }
        }
    }

    public override void Transfer(ReadOnlySpan<byte> mosi, Span<byte> miso)
    {
        lock (_gate)
        {
            if (mosi.Length == 0)
            {
                return;
            }

            if (miso.Length > 0)
            {
                miso[0] = 0;
            }

            if ((mosi[0] & 0x80) != 0)
            {
                // Read: every byte sent is an address; each answer comes in the next byte.
                for (var i = 1; i < mosi.Length && i < miso.Length; i++)
                {
                    miso[i] = ReadRegister((mosi[i - 1] >> 1) & 0x3F);
                }
            }
            else
            {
                var register = (mosi[0] >> 1) & 0x3F;
                for (var i = 1; i < mosi.Length; i++)
                {
                    WriteRegister(register, mosi[i]);
                }
            }
        }
    }

    /// <summary>CRC_A of ISO/IEC 14443-3 (initial value 0x6363), low byte first.</summary>
    public static (byte Low, byte High) CrcA(ReadOnlySpan<byte> data)
    {
        ushort crc = 0x6363;
        foreach (var b in data)
        {
            var bt = (byte)(b ^ (byte)crc);
            bt ^= (byte)(bt << 4);
            crc = (ushort)((crc >> 8) ^ (bt << 8) ^ (bt << 3) ^ (bt >> 4));
        }

        return ((byte)crc, (byte)(crc >> 8));
    }

    private void Reset()
    {
        Array.Clear(_registers);
        _fifo.Clear();
        _registers[CommandReg] = 0x20;
        _registers[ComIrqReg] = 0x14;
        _registers[TxControlReg] = 0x80;
        _registers[0x11] = 0x3F; // ModeReg
    }

    private byte ReadRegister(int register) => register switch
    {
        FifoDataReg => _fifo.Count > 0 ? _fifo.Dequeue() : (byte)0,
        FifoLevelReg => (byte)_fifo.Count,
        VersionReg => Version,
        _ => _registers[register],
    };

    private void WriteRegister(int register, byte value)
    {
        switch (register)
        {
            case ComIrqReg or DivIrqReg:
                // Bit 7 = 1 sets the marked bits, 0 clears them.
                _registers[register] = (value & 0x80) != 0
                    ? (byte)(_registers[register] | (value & 0x7F))
                    : (byte)(_registers[register] & ~(value & 0x7F));
                break;
            case FifoDataReg:
                if (_fifo.Count < 64)
                {
                    _fifo.Enqueue(value);
                }
                else
                {
                    _registers[ErrorReg] |= 0x10; // BufferOvfl
                }

                break;
            case FifoLevelReg:
                if ((value & 0x80) != 0)
                {
                    _fifo.Clear();
                    _registers[ErrorReg] &= unchecked((byte)~0x10);
                }

                break;
            case CommandReg:
                Command((byte)(value & 0x0F));
                break;
            case BitFramingReg:
                _registers[BitFramingReg] = (byte)(value & 0x7F);
                if ((value & 0x80) != 0 && (_registers[CommandReg] & 0x0F) == Transceive)
                {
                    RunTransceive((byte)(value & 0x07));
                }

                break;
            case VersionReg or CrcResultHighReg or CrcResultLowReg:
                break;
            default:
                _registers[register] = value;
                break;
        }
    }

    private void Command(byte command)
    {
        switch (command)
        {
            case SoftReset:
                Reset();
                return;
            case CalcCrc:
                var (low, high) = CrcA(_fifo.ToArray());
                _fifo.Clear();
                _registers[CrcResultLowReg] = low;
                _registers[CrcResultHighReg] = high;
                _registers[DivIrqReg] |= 0x04; // CRCIRq
                break;
            case Idle:
                break;
        }

        _registers[CommandReg] = (byte)((_registers[CommandReg] & 0xF0) | command);
    }

    private void RunTransceive(byte txLastBits)
    {
        var frame = _fifo.ToArray();
        _fifo.Clear();
        _registers[ErrorReg] = 0;
        _registers[ControlReg] = (byte)(_registers[ControlReg] & 0xF8);
        var antennaOn = (_registers[TxControlReg] & 0x03) == 0x03;
        var answer = antennaOn ? Card(frame, txLastBits) : null;
        if (answer is null)
        {
            // Nobody answered before the timer ran out.
            _registers[ComIrqReg] |= 0x01 | 0x40; // TimerIRq, TxIRq
            return;
        }

        foreach (var b in answer)
        {
            _fifo.Enqueue(b);
        }

        _registers[ComIrqReg] |= 0x20 | 0x40 | 0x10; // RxIRq, TxIRq, IdleIRq
    }

    /// <summary>The card's answer to a frame, or null when it stays silent.</summary>
    private byte[]? Card(byte[] frame, byte txLastBits)
    {
        if (_card is not { } uid || frame.Length == 0)
        {
            return null;
        }

        var sevenByte = uid.Length == 7;
        byte[] Atqa() => [(byte)(sevenByte ? 0x44 : 0x04), 0x00];

        if (frame.Length == 1 && txLastBits == 7)
        {
            switch (frame[0])
            {
                case 0x26 when _cardState != CardState.Halted: // REQA
                case 0x52: // WUPA wakes a halted card too
                    _cardState = CardState.Ready;
                    return Atqa();
                default:
                    return null;
            }
        }

        if (frame.Length == 4 && frame[0] == 0x50 && frame[1] == 0x00 && CrcOk(frame))
        {
            _cardState = CardState.Halted;
            return null;
        }

        var level1 = sevenByte ? new byte[] { 0x88, uid[0], uid[1], uid[2] } : uid[..4];
        var level2 = sevenByte ? uid[3..7] : null;
        if (frame.Length == 2 && frame[1] == 0x20)
        {
            var part = (frame[0], _cardState) switch
            {
                (0x93, CardState.Ready) => level1,
                (0x95, CardState.Ready2) => level2,
                _ => null,
            };
            return part is null ? null : [.. part, Bcc(part)];
        }

        if (frame.Length == 9 && frame[1] == 0x70 && CrcOk(frame))
        {
            var (part, next) = (frame[0], _cardState) switch
            {
                (0x93, CardState.Ready) => (level1, sevenByte ? CardState.Ready2 : CardState.Active),
                (0x95, CardState.Ready2) => (level2, CardState.Active),
                _ => (null, _cardState),
            };
            if (part is null || !frame.AsSpan(2, 4).SequenceEqual(part) || frame[6] != Bcc(part))
            {
                return null;
            }

            _cardState = next;
            byte sak = next == CardState.Ready2 ? (byte)0x04 : sevenByte ? (byte)0x00 : (byte)0x08;
            if (next == CardState.Active)
            {
                Interlocked.Increment(ref _cardsRead);
            }

            var (low, high) = CrcA([sak]);
            return [sak, low, high];
        }

        // Anything else makes a card that is not halted fall back to idle.
        _cardState = _cardState == CardState.Halted ? CardState.Halted : CardState.Idle;
        return null;
    }

    private static bool CrcOk(byte[] frame)
    {
        var (low, high) = CrcA(frame.AsSpan(0, frame.Length - 2));
        return frame[^2] == low && frame[^1] == high;
    }

    private static byte Bcc(byte[] part) => (byte)(part[0] ^ part[1] ^ part[2] ^ part[3]);
}
