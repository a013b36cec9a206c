using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using NewTechPark.Edge.Agent.Hardware;

namespace NewTechPark.Edge.Simulation;

/// <summary>
/// A 1-Wire bus with simulated DS18B20 thermometers, answering with exactly the <c>w1_slave</c>
/// text the Linux <c>w1_therm</c> driver writes: the nine scratchpad bytes with the kernel's CRC
/// verdict, then the bytes again with the temperature in millidegrees.
/// </summary>
public sealed class SimulatedOneWireBus : IOneWireBus
{
    private readonly ConcurrentDictionary<string, SimulatedDs18b20> _devices = new(StringComparer.Ordinal);

    public SimulatedDs18b20 Attach(string deviceId, SimulatedDs18b20 device)
    {
        if (!_devices.TryAdd(deviceId, device))
        {
            throw new InvalidOperationException($"a simulated 1-Wire device {deviceId} is already on the bus");
        }

        return device;
    }

    public void Detach(string deviceId) => _devices.TryRemove(deviceId, out _);

    public bool IsAttached(string deviceId) => _devices.ContainsKey(deviceId);

    public IReadOnlyList<string> ListDevices() => _devices.Keys.Order(StringComparer.Ordinal).ToList();

    public string ReadSlave(string deviceId) =>
        _devices.TryGetValue(deviceId, out var device)
            ? device.W1Slave()
            : throw new IOException($"1-Wire device {deviceId} is not on the bus");
}

/// <summary>A DS18B20 (Maxim datasheet 19-7487): 12-bit temperature in the scratchpad, CRC-8/MAXIM.</summary>
public sealed class SimulatedDs18b20
{
    private double _celsius = 20.0;

    /// <summary>True until the first conversion: the scratchpad then holds the power-on value 85 °C.</summary>
    public bool PowerOnReset { get; set; }

    /// <summary>DQ shorted to ground: every bit reads 0, nine zero bytes whose CRC-8 is also 0.</summary>
    public bool ShortedLow { get; set; }

    /// <summary>Makes the next reads fail the CRC (a long cable, a bad joint).</summary>
    public bool CorruptCrc { get; set; }

    public double Celsius
    {
        get => Volatile.Read(ref _celsius);
        set => Volatile.Write(ref _celsius, value);
    }

    public string W1Slave()
    {
        var raw = PowerOnReset ? (short)0x0550 : (short)Math.Round(Math.Clamp(Celsius, -55, 125) * 16);
        Span<byte> pad = [(byte)raw, (byte)(raw >> 8), 0x4B, 0x46, 0x7F, 0xFF, 0x0C, 0x10, 0];
        pad[8] = Crc8Maxim(pad[..8]);
        if (ShortedLow)
        {
            pad.Clear();
            raw = 0;
        }

        if (CorruptCrc)
        {
            pad[8] ^= 0x5A;
        }

        var ok = Crc8Maxim(pad[..8]) == pad[8];
        var bytes = string.Join(' ', pad.ToArray().Select(b => b.ToString("x2", CultureInfo.InvariantCulture)));
        var text = new StringBuilder()
            .Append(bytes).Append(" : crc=").Append(pad[8].ToString("x2", CultureInfo.InvariantCulture)).Append(ok ? " YES" : " NO").Append('\n')
            .Append(bytes).Append(" t=").Append((raw * 1000 / 16).ToString(CultureInfo.InvariantCulture)).Append('\n');
        return text.ToString();
    }

    /// <summary>CRC-8/MAXIM (polynomial x^8 + x^5 + x^4 + 1, reflected), as the DS18B20 computes it.</summary>
    public static byte Crc8Maxim(ReadOnlySpan<byte> data)
    {
        byte crc = 0;
        foreach (var b in data)
        {
            var x = b;
            for (var i = 0; i < 8; i++)
            {
                var mix = (byte)((crc ^ x) & 1);
                crc >>= 1;
                if (mix != 0)
                {
                    crc ^= 0x8C;
                }

                x >>= 1;
            }
        }

        return crc;
    }
}
