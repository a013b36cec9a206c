using Microsoft.Extensions.Options;
using NewTechPark.Edge.Agent.Readers;
using NewTechPark.Edge.Contracts;

namespace NewTechPark.Edge.Agent.Configuration;

/// <summary>
/// Checks the agent's configuration at start, so that a typo fails in the first second with a
/// message that names the setting, not hours later on a ladder.
/// </summary>
public sealed class AgentOptionsValidator : IValidateOptions<AgentOptions>
{
    public ValidateOptionsResult Validate(string? name, AgentOptions options)
    {
        var errors = new List<string>();
        if (!Identifiers.IsSlug(options.Site))
        {
            errors.Add($"Agent:Site '{options.Site}' is not a slug ({Identifiers.SlugPattern})");
        }

        if (!Identifiers.IsSlug(options.Device))
        {
            errors.Add($"Agent:Device '{options.Device}' is not a slug ({Identifiers.SlugPattern}); every agent needs its own device id");
        }

        if (string.IsNullOrWhiteSpace(options.Broker.Host))
        {
            errors.Add("Agent:Broker:Host is missing");
        }

        if (options.Broker.Port is < 1 or > 65535)
        {
            errors.Add($"Agent:Broker:Port {options.Broker.Port} is not a TCP port");
        }

        if (options.Broker.KeepAlive < TimeSpan.FromSeconds(1))
        {
            errors.Add("Agent:Broker:KeepAlive must be at least 1 second");
        }

        if (options.Broker.ReconnectMinDelay <= TimeSpan.Zero || options.Broker.ReconnectMaxDelay < options.Broker.ReconnectMinDelay)
        {
            errors.Add("Agent:Broker:ReconnectMinDelay must be positive and not above ReconnectMaxDelay");
        }

        if (options.Publishing.BatchLinger < TimeSpan.Zero || options.Publishing.BatchLinger > TimeSpan.FromMinutes(1))
        {
            errors.Add("Agent:Publishing:BatchLinger must be between 0 and 1 minute");
        }

        if (options.Publishing.HeartbeatInterval <= TimeSpan.Zero || options.Publishing.HeartbeatInterval > TimeSpan.FromSeconds(60))
        {
            errors.Add("Agent:Publishing:HeartbeatInterval must be above 0 and at most 60 seconds (CONTRACT.md)");
        }

        ValidateSensors(options.Sensors, errors);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void ValidateSensors(List<SensorOptions> sensors, List<string> errors)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var pins = new Dictionary<int, string>();
        var addresses = new Dictionary<(int Bus, int Address), string>();
        for (var i = 0; i < sensors.Count; i++)
        {
            var sensor = sensors[i];
            var at = $"Agent:Sensors:{i}";
            if (!Identifiers.IsSlug(sensor.Id))
            {
                errors.Add($"{at}:Id '{sensor.Id}' is not a slug ({Identifiers.SlugPattern})");
            }
            else if (!ids.Add(sensor.Id))
            {
                errors.Add($"{at}:Id '{sensor.Id}' is used by more than one sensor");
            }

            at = $"{at} ({sensor.Id})";
            if (!SensorTypes.All.TryGetValue(sensor.Type ?? string.Empty, out var type))
            {
                errors.Add($"{at}:Type '{sensor.Type}' is unknown; known types: {string.Join(", ", SensorTypes.All.Keys)}");
                continue;
            }

            if (sensor.Room is not null && !Identifiers.IsSlug(sensor.Room))
            {
                errors.Add($"{at}:Room '{sensor.Room}' is not a slug");
            }

            if (type.UsesGpio)
            {
                ClaimPin(sensor.BeamOuterPin, nameof(SensorOptions.BeamOuterPin), sensor.Id, at, pins, errors);
                ClaimPin(sensor.BeamInnerPin, nameof(SensorOptions.BeamInnerPin), sensor.Id, at, pins, errors);
                if (sensor.Debounce < TimeSpan.Zero || sensor.Debounce > TimeSpan.FromSeconds(1))
                {
                    errors.Add($"{at}:Debounce {sensor.Debounce} must be between 0 and 1 second");
                }
            }

            if (type.UsesI2c)
            {
                if (sensor.Address is not { } address)
                {
                    errors.Add($"{at}:Address is missing (the sensor's I2C address, such as 0x40 written as 64)");
                }
                else if (address is < 0x03 or > 0x77)
                {
                    errors.Add($"{at}:Address {address} (0x{address:x2}) is outside the 7-bit I2C range 0x03-0x77");
                }
                else if (addresses.TryGetValue((sensor.I2cBus, address), out var other))
                {
                    errors.Add($"{at}:Address 0x{address:x2} on I2C bus {sensor.I2cBus} is already used by {other}");
                }
                else
                {
                    addresses[(sensor.I2cBus, address)] = sensor.Id;
                }

                if (sensor.I2cBus < 0)
                {
                    errors.Add($"{at}:I2cBus {sensor.I2cBus} is not a bus number");
                }

                if (sensor.SampleInterval < TimeSpan.FromMilliseconds(10) || sensor.SampleInterval > TimeSpan.FromHours(1))
                {
                    errors.Add($"{at}:SampleInterval {sensor.SampleInterval} must be between 10 ms (100 Hz) and 1 hour");
                }
            }

            if (type.UsesShunt)
            {
                if (!(sensor.ShuntOhms > 0 && sensor.ShuntOhms <= 10))
                {
                    errors.Add($"{at}:ShuntOhms {sensor.ShuntOhms} must be above 0 and at most 10");
                }

                if (!(sensor.MaxCurrentA > 0 && sensor.MaxCurrentA <= 100))
                {
                    errors.Add($"{at}:MaxCurrentA {sensor.MaxCurrentA} must be above 0 and at most 100");
                }
            }
        }
    }

    private static void ClaimPin(int? pin, string setting, string sensorId, string at, Dictionary<int, string> pins, List<string> errors)
    {
        if (pin is not { } number)
        {
            errors.Add($"{at}:{setting} is missing (a GPIO number in BCM numbering)");
            return;
        }

        if (number is < 0 or > 53)
        {
            errors.Add($"{at}:{setting} {number} is not a Raspberry Pi GPIO (0-53)");
            return;
        }

        if (pins.TryGetValue(number, out var owner))
        {
            errors.Add($"{at}:{setting} GPIO {number} is already used by {owner}");
            return;
        }

        pins[number] = $"{sensorId} ({setting})";
    }
}
