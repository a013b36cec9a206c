using System.Buffers.Binary;
using System.Device.I2c;

namespace NewTechPark.Edge.Agent.Readers.TimeOfFlight;

/// <summary>
/// The few VL53L1X registers the door reader reads or writes itself, beside the Iot.Device.Bindings
/// 4.2 <c>Vl53L1X</c> class on the same <see cref="I2cDevice"/> (16-bit register index, big-endian
/// data; names and addresses from ST's ULD, STSW-IMG009).
/// </summary>
internal static class Vl53l1xRegisters
{
    /// <summary>IDENTIFICATION__MODEL_ID (0xEA) and MODULE_TYPE (0xCC), read as one word.</summary>
    public const ushort ModelId = 0x010F;

    /// <summary>What <see cref="ModelId"/> reads on a VL53L1X.</summary>
    public const ushort ExpectedModelId = 0xEACC;

    /// <summary>GPIO_HV_MUX__CTRL: bit 4 set = interrupt active low.</summary>
    public const ushort GpioHvMuxCtrl = 0x0030;

    /// <summary>GPIO__TIO_HV_STATUS: bit 0 equals the interrupt polarity when a result is ready.</summary>
    public const ushort GpioTioHvStatus = 0x0031;

    /// <summary>SYSTEM__INTERMEASUREMENT_PERIOD (32 bits, in oscillator ticks).</summary>
    public const ushort IntermeasurementPeriod = 0x006C;

    /// <summary>ROI_CONFIG__USER_ROI_CENTRE_SPAD.</summary>
    public const ushort RoiCentre = 0x007F;

    /// <summary>RESULT__RANGE_STATUS: the low 5 bits are the raw status; 9 is a valid ranging.</summary>
    public const ushort RangeStatus = 0x0089;

    /// <summary>The raw range status of a valid ranging.</summary>
    public const byte RangeValid = 9;

    /// <summary>RESULT__OSC_CALIBRATE_VAL (16 bits; the low 10 bits are the PLL ticks per ms).</summary>
    public const ushort OscCalibrateVal = 0x00DE;

    public static byte ReadByte(I2cDevice device, ushort register)
    {
        Span<byte> index = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(index, register);
        Span<byte> value = stackalloc byte[1];
        device.WriteRead(index, value);
        return value[0];
    }

    public static ushort ReadUInt16(I2cDevice device, ushort register)
    {
        Span<byte> index = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(index, register);
        Span<byte> value = stackalloc byte[2];
        device.WriteRead(index, value);
        return BinaryPrimitives.ReadUInt16BigEndian(value);
    }

    public static void WriteUInt32(I2cDevice device, ushort register, uint value)
    {
        Span<byte> buffer = stackalloc byte[6];
        BinaryPrimitives.WriteUInt16BigEndian(buffer, register);
        BinaryPrimitives.WriteUInt32BigEndian(buffer[2..], value);
        device.Write(buffer);
    }
}
