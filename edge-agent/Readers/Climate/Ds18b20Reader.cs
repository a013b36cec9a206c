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
/// part lost power or never converted, typical of parasite power on a long cable), so neither is
/// published as a temperature.
/// </summary>
public sealed partial class Ds18b20Reader(
    SensorOptions options,
    IOneWireBus bus,
    SensorHealth health,
    TimeProvider clock,
    ILogger<Ds18b20Reader> logger) : ISensorReader
{
    public string SensorId => options.Id;

    public string Kind => ReadingKinds.Climate;

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

        // 50 05 in the scratchpad = the power-on reset value, not a measurement.
        if (lines[1].StartsWith("50 05 ", StringComparison.OrdinalIgnoreCase))
        {
            throw new IOException($"1-Wire {deviceId}: power-on value 85 °C, the part did not convert (power or wiring)");
        }

        return millidegrees / 1000.0;
    }

    public async Task RunAsync(IReadingSink sink, CancellationToken cancellationToken)
    {
        var id = options.OneWireId ?? throw new ArgumentException($"{SensorId}: OneWireId is missing");
        var interval = SensorTypes.All[SensorTypes.Ds18b20].IntervalOf(options);
        logger.LogInformation("DS18B20 {Sensor} ({Id}) on 1-Wire, every {Interval}", SensorId, id, interval);
        using var timer = new PeriodicTimer(interval, clock);
        do
        {
            var ts = clock.GetUtcNow();
            var celsius = Parse(bus.ReadSlave(id), id);
            var reading = ClimateValues.Create(SensorId, ts, celsius: celsius);
            health.ReportOk(SensorId);
            sink.TryAdd(reading);
        }
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
    }

    [GeneratedRegex("^28-[0-9a-f]{12}$")]
    private static partial Regex DeviceId();
}
