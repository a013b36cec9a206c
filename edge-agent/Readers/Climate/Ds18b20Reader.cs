using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Hardware;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Agent.Readers.Climate;

/// <summary>
/// A DS18B20 1-Wire thermometer through the kernel's <c>w1_therm</c> driver. The reader checks the
/// kernel's CRC verdict (<c>YES</c>) and refuses the power-on value 85 °C (scratchpad 0x0550: the
/// part lost power or never converted, typical of parasite power on a long cable) and an all-zero
/// scratchpad (DQ shorted to ground: every bit reads 0, and the CRC of nine zero bytes is 0, so
/// the kernel says <c>YES</c> to 0 °C), so none of them is published as a temperature.
/// </summary>
public sealed partial class Ds18b20Reader(
    SensorOptions options,
    IOneWireBus bus,
    SensorHealth health,
    TimeProvider clock,
    ILogger<Ds18b20Reader> logger) : PollingSensorReader(options, health, clock)
{
    public override string Kind => ReadingKinds.Climate;

    public static ISensorReader Create(SensorOptions options, IServiceProvider services) =>
        ActivatorUtilities.CreateInstance<Ds18b20Reader>(services, options);

    public static void Check(SensorOptions sensor, AgentOptions agent, string at, List<string> errors)
    {
        if (sensor.OneWireId is not { } id)
        {
            errors.Add($"{at}:OneWireId is missing (the thermometer's id, such as 28-0000075a1b2c: ls /sys/bus/w1/devices)");
        }
        else if (!DeviceId().IsMatch(id))
        {
            errors.Add($"{at}:OneWireId '{id}' is not a DS18B20 id (28- and 12 hexadecimal digits)");
        }
    }

    /// <summary>The temperature in a <c>w1_slave</c> text, in °C; throws when the read is not sound.</summary>
    public static double Parse(string w1Slave, string deviceId)
    {
        var lines = w1Slave.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (lines.Length < 2)
        {
            throw new IOException($"1-Wire {deviceId}: no answer (w1_slave is empty)");
        }

        if (!lines[0].EndsWith("YES", StringComparison.Ordinal))
        {
            throw new IOException($"1-Wire {deviceId}: CRC error");
        }

        var at = lines[1].LastIndexOf("t=", StringComparison.Ordinal);
        if (at < 0 || !int.TryParse(lines[1].AsSpan(at + 2), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var millidegrees))
        {
            throw new IOException($"1-Wire {deviceId}: no temperature in w1_slave");
        }

        // A shorted data line reads every byte as 0; a real scratchpad has 0xFF in byte 5 (reserved)
        // and a resolution setting in byte 4, so nine zero bytes are never a measurement.
        if (lines[1].StartsWith("00 00 00 00 00 00 00 00 00", StringComparison.Ordinal))
        {
            throw new IOException($"1-Wire {deviceId}: all-zero scratchpad, the data line is shorted to ground");
        }

        // 50 05 in the scratchpad = the power-on reset value, not a measurement.
        if (lines[1].StartsWith("50 05 ", StringComparison.OrdinalIgnoreCase))
        {
            throw new IOException($"1-Wire {deviceId}: power-on value 85 °C, the part did not convert (power or wiring)");
        }

        return millidegrees / 1000.0;
    }

    protected override Poll Open()
    {
        var id = Options.OneWireId ?? throw new ArgumentException($"{SensorId}: OneWireId is missing");
        var interval = SensorTypes.All[SensorTypes.Ds18b20].IntervalOf(Options);
        logger.LogInformation("DS18B20 {Sensor} ({Id}) on 1-Wire, every {Interval}", SensorId, id, interval);
        return new Poll(interval, ts => ClimateValues.Create(SensorId, ts, celsius: Parse(bus.ReadSlave(id), id)));
    }

    [GeneratedRegex("^28-[0-9a-f]{12}$")]
    private static partial Regex DeviceId();
}
