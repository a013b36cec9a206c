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

        if (!Enum.IsDefined(options.Hardware))
        {
            errors.Add($"Agent:Hardware '{options.Hardware}' must be Auto, Real or Simulated");
        }

        if (options.Broker.KeepAlive < TimeSpan.FromSeconds(1) || options.Broker.KeepAlive > TimeSpan.FromSeconds(ushort.MaxValue))
        {
            errors.Add($"Agent:Broker:KeepAlive {options.Broker.KeepAlive} must be between 1 second and 65535 seconds (MQTT's limit)");
        }

        if (options.Broker.SessionExpiry <= TimeSpan.Zero || options.Broker.SessionExpiry > TimeSpan.FromSeconds(uint.MaxValue))
        {
            errors.Add($"Agent:Broker:SessionExpiry {options.Broker.SessionExpiry} must be above 00:00:00 and at most 4294967295 seconds (MQTT's limit)");
        }

        if (options.Broker.ReconnectMaxDelay > TimeSpan.FromDays(1))
        {
            errors.Add($"Agent:Broker:ReconnectMaxDelay {options.Broker.ReconnectMaxDelay} must be at most 1.00:00:00");
        }

        if (options.Broker.ReconnectMinDelay <= TimeSpan.Zero || options.Broker.ReconnectMaxDelay < options.Broker.ReconnectMinDelay)
        {
            errors.Add($"Agent:Broker:ReconnectMinDelay {options.Broker.ReconnectMinDelay} must be above 00:00:00 and not above Agent:Broker:ReconnectMaxDelay ({options.Broker.ReconnectMaxDelay})");
        }

        if (options.Publishing.BatchLinger < TimeSpan.Zero || options.Publishing.BatchLinger > TimeSpan.FromMinutes(1))
        {
            errors.Add("Agent:Publishing:BatchLinger must be between 0 and 1 minute");
        }

        if (options.ClockSyncTimeout < TimeSpan.Zero || options.ClockSyncTimeout > TimeSpan.FromHours(1))
        {
            errors.Add("Agent:ClockSyncTimeout must be between 0 and 1 hour");
        }

        if (options.Publishing.MaxBatchLinger < options.Publishing.BatchLinger || options.Publishing.MaxBatchLinger > TimeSpan.FromSeconds(10))
        {
            errors.Add("Agent:Publishing:MaxBatchLinger must be at least BatchLinger and at most 10 seconds");
        }

        if (options.Publishing.HeartbeatInterval <= TimeSpan.Zero || options.Publishing.HeartbeatInterval > TimeSpan.FromSeconds(60))
        {
            errors.Add("Agent:Publishing:HeartbeatInterval must be above 0 and at most 60 seconds (CONTRACT.md)");
        }

        if (options.Outbox.MaxAge < TimeSpan.FromMinutes(1) || options.Outbox.MaxAge > TimeSpan.FromDays(400))
        {
            errors.Add($"Agent:Outbox:MaxAge {options.Outbox.MaxAge} must be between 1 minute and 400 days (older readings are refused by the collector)");
        }

        if (options.Outbox.MaxBytes < 1L << 20)
        {
            errors.Add($"Agent:Outbox:MaxBytes {options.Outbox.MaxBytes} must be at least 1048576 (1 MiB; a batch can be 256 KiB)");
        }

        if (options.Outbox.DeleteGroup is < 1 or > 10_000)
        {
            errors.Add($"Agent:Outbox:DeleteGroup {options.Outbox.DeleteGroup} must be between 1 and 10000");
        }

        if (options.OneWirePin is < 0 or > 53)
        {
            errors.Add($"Agent:OneWirePin {options.OneWirePin} is not a Raspberry Pi GPIO (0-53)");
        }

        if (!string.IsNullOrEmpty(options.SiteKey) && options.SiteKey.Length < Readers.Badge.VisitorPseudonym.MinimumKeyLength)
        {
            errors.Add($"Agent:SiteKey must have at least {Readers.Badge.VisitorPseudonym.MinimumKeyLength} characters");
        }

        if (!string.IsNullOrEmpty(options.Broker.Username) && string.IsNullOrEmpty(options.Broker.Password))
        {
            errors.Add($"Agent:Broker:Password is empty for user '{options.Broker.Username}'; give it through the environment (NTP_Agent__Broker__Password)");
        }

        if (!string.IsNullOrWhiteSpace(options.Broker.CaCertificateFile) && !File.Exists(options.Broker.CaCertificateFile))
        {
            errors.Add($"Agent:Broker:CaCertificateFile '{options.Broker.CaCertificateFile}' does not exist");
        }

        if (!string.IsNullOrWhiteSpace(options.Broker.CaCertificateFile) && !options.Broker.UseTls)
        {
            errors.Add("Agent:Broker:CaCertificateFile is set but Agent:Broker:UseTls is false; turn TLS on (and use the broker's TLS port, 8883)");
        }

        ValidateSensors(options, errors);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void ValidateSensors(AgentOptions options, List<string> errors)
    {
        var sensors = options.Sensors;
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var pins = new Dictionary<int, string>();
        var addresses = new Dictionary<(int Bus, int Address), string>();
        var chipSelects = new Dictionary<(int Bus, int ChipSelect), string>();
        var oneWireIds = new Dictionary<string, string>(StringComparer.Ordinal);
        ReserveBusPins(options, pins);
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

            foreach (var pin in type.Pins)
            {
                ClaimPin(pin.Get(sensor), pin.Name, pin.Required, sensor.Id, at, pins, errors);
            }

            if (type.UsesGpio && (type.DebounceOf(sensor) < TimeSpan.Zero || type.DebounceOf(sensor) > TimeSpan.FromSeconds(1)))
            {
                errors.Add($"{at}:Debounce {sensor.Debounce} must be between 0 and 1 second");
            }

            if (type.UsesI2c)
            {
                ValidateI2c(sensor, type, at, addresses, errors);
            }

            if (type.Bus == SensorBus.Spi)
            {
                if (sensor.SpiBus is < 0 or > 6)
                {
                    errors.Add($"{at}:SpiBus {sensor.SpiBus} is not an SPI bus of a Raspberry Pi (0-6)");
                }
                else if (sensor.ChipSelect is < 0 or > 2)
                {
                    errors.Add($"{at}:ChipSelect {sensor.ChipSelect} is not a chip select line (0-2)");
                }
                else if (!chipSelects.TryAdd((sensor.SpiBus, sensor.ChipSelect), sensor.Id))
                {
                    errors.Add($"{at}:ChipSelect {sensor.ChipSelect} on SPI bus {sensor.SpiBus} is already used by {chipSelects[(sensor.SpiBus, sensor.ChipSelect)]}");
                }

                if (sensor.SpiClockHz is < 10_000 or > 10_000_000)
                {
                    errors.Add($"{at}:SpiClockHz {sensor.SpiClockHz} must be between 10 kHz and 10 MHz (the MFRC522's limit)");
                }
            }

            if (type.Bus == SensorBus.OneWire && sensor.OneWireId is { } oneWireId && !oneWireIds.TryAdd(oneWireId, sensor.Id))
            {
                errors.Add($"{at}:OneWireId {oneWireId} is already used by {oneWireIds[oneWireId]}");
            }

            if (type.Bus != SensorBus.Gpio || type.Name == SensorTypes.S0Meter)
            {
                var interval = type.IntervalOf(sensor);
                if (interval < type.MinInterval || interval > type.MaxInterval)
                {
                    errors.Add($"{at}:SampleInterval {interval} must be between {Describe(type.MinInterval)} and {Describe(type.MaxInterval)} for {type.Name}");
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

            ValidateFilters(sensor, type, at, errors);
            type.Check?.Invoke(sensor, options, at, errors);
        }
    }

    /// <summary>
    /// Publish filters: only on types with filterable fields (never on counters), deltas on the
    /// type's own fields and finite, throttle and heartbeat longer than a sample, at most an hour.
    /// </summary>
    private static void ValidateFilters(SensorOptions sensor, SensorType type, string at, List<string> errors)
    {
        var filters = sensor.Filters;
        if (!filters.Any)
        {
            return;
        }

        var named = filters.Delta.Keys.Select(field => $"{at}:Filters:Delta:{field}")
            .Concat(filters.Throttle is null ? [] : [$"{at}:Filters:Throttle"])
            .Concat(filters.Heartbeat is null ? [] : [$"{at}:Filters:Heartbeat"]);
        if (type.FilterFields.Count == 0)
        {
            foreach (var setting in named)
            {
                errors.Add($"{setting}: a {type.Name} sensor gives {type.Kind} readings, counters that are never filtered (a deadband would hide crossings, a mean of totals means nothing)");
            }

            return;
        }

        foreach (var (field, delta) in filters.Delta)
        {
            if (!type.FilterFields.Contains(field, StringComparer.Ordinal))
            {
                errors.Add($"{at}:Filters:Delta:{field}: '{field}' is not a value of a {type.Name} reading ({string.Join(", ", type.FilterFields)})");
            }
            else if (!double.IsFinite(delta) || delta < 0)
            {
                errors.Add($"{at}:Filters:Delta:{field} {delta} must be a finite number, 0 or more (0: publish on any change)");
            }
        }

        var interval = type.IntervalOf(sensor);
        if (filters.Throttle is { } throttle && (throttle <= interval || throttle > FilterOptions.MaxWindow))
        {
            errors.Add($"{at}:Filters:Throttle {throttle} must be longer than the sample interval ({interval}) and at most {FilterOptions.MaxWindow}");
        }

        if (filters.Heartbeat is { } heartbeat)
        {
            var floor = filters.Throttle is { } t && t > interval ? t : interval;
            if (filters.Delta.Count == 0)
            {
                errors.Add($"{at}:Filters:Heartbeat is set without Filters:Delta: without a deadband every reading is published anyway");
            }
            else if (heartbeat <= floor || heartbeat > FilterOptions.MaxWindow)
            {
                errors.Add($"{at}:Filters:Heartbeat {heartbeat} must be longer than the sample interval and the throttle ({floor}) and at most {FilterOptions.MaxWindow}");
            }
        }
    }

    /// <summary>10 ms (100 Hz), 1 s (1 Hz), 5 s, 1 hour.</summary>
    private static string Describe(TimeSpan interval) => interval switch
    {
        { TotalHours: >= 1 } => $"{interval.TotalHours:0.##} hour",
        { TotalSeconds: >= 1 } when interval.TotalSeconds == 1 => "1 s (1 Hz)",
        { TotalSeconds: >= 1 } => $"{interval.TotalSeconds:0.##} s",
        _ => $"{interval.TotalMilliseconds:0.##} ms ({1000 / interval.TotalMilliseconds:0.##} Hz)",
    };

    private static void ValidateI2c(SensorOptions sensor, SensorType type, string at, Dictionary<(int Bus, int Address), string> addresses, List<string> errors)
    {
        if (sensor.I2cBus < 0)
        {
            errors.Add($"{at}:I2cBus {sensor.I2cBus} is not a bus number");
        }

        int address;
        if (sensor.Address is { } given)
        {
            address = given;
        }
        else if (!type.AddressRequired && type.Addresses.Count > 0)
        {
            address = type.Addresses[0];
        }
        else
        {
            errors.Add($"{at}:Address is missing (the sensor's I2C address, such as 0x40 written as 64)");
            return;
        }

        if (address is < 0x03 or > 0x77)
        {
            errors.Add($"{at}:Address {address} (0x{address:x2}) is outside the 7-bit I2C range 0x03-0x77");
        }
        else if (type.Addresses.Count > 0 && !type.Addresses.Contains(address))
        {
            errors.Add($"{at}:Address 0x{address:x2} is not an address a {type.Part} can have ({string.Join(", ", type.Addresses.Select(a => $"0x{a:x2}"))})");
        }
        else if (addresses.TryGetValue((sensor.I2cBus, address), out var other))
        {
            errors.Add($"{at}:Address 0x{address:x2} on I2C bus {sensor.I2cBus} is already used by {other}");
        }
        else
        {
            addresses[(sensor.I2cBus, address)] = sensor.Id;
        }
    }

    /// <summary>
    /// The GPIOs the buses in use take: I2C bus 1 (GPIO 2, 3), SPI bus 0 (GPIO 9, 10, 11 and the
    /// chip selects 8, 7), SPI bus 1 (GPIO 19, 20, 21 and 18, 17, 16) and the 1-Wire pin. A beam or
    /// a meter wired to one of them is refused.
    /// </summary>
    private static void ReserveBusPins(AgentOptions options, Dictionary<int, string> pins)
    {
        var types = options.Sensors.Select(s => (Sensor: s, Type: SensorTypes.All.GetValueOrDefault(s.Type ?? string.Empty))).Where(x => x.Type is not null).ToList();
        if (types.Any(x => x.Type!.UsesI2c && x.Sensor.I2cBus == 1))
        {
            pins.TryAdd(2, "I2C bus 1 (SDA)");
            pins.TryAdd(3, "I2C bus 1 (SCL)");
        }

        foreach (var spi in types.Where(x => x.Type!.Bus == SensorBus.Spi))
        {
            var (miso, mosi, sclk, ce) = spi.Sensor.SpiBus switch
            {
                0 => (9, 10, 11, new[] { 8, 7 }),
                1 => (19, 20, 21, new[] { 18, 17, 16 }),
                _ => (-1, -1, -1, Array.Empty<int>()),
            };
            if (miso < 0)
            {
                continue;
            }

            pins.TryAdd(miso, $"SPI bus {spi.Sensor.SpiBus} (MISO)");
            pins.TryAdd(mosi, $"SPI bus {spi.Sensor.SpiBus} (MOSI)");
            pins.TryAdd(sclk, $"SPI bus {spi.Sensor.SpiBus} (SCLK)");
            if (spi.Sensor.ChipSelect >= 0 && spi.Sensor.ChipSelect < ce.Length)
            {
                pins.TryAdd(ce[spi.Sensor.ChipSelect], $"SPI bus {spi.Sensor.SpiBus} (CE{spi.Sensor.ChipSelect}, {spi.Sensor.Id})");
            }
        }

        if (types.Any(x => x.Type!.Bus == SensorBus.OneWire))
        {
            pins.TryAdd(options.OneWirePin, "the 1-Wire bus (Agent:OneWirePin)");
        }
    }

    private static void ClaimPin(int? pin, string setting, bool required, string sensorId, string at, Dictionary<int, string> pins, List<string> errors)
    {
        if (pin is not { } number)
        {
            if (required)
            {
                errors.Add($"{at}:{setting} is missing (a GPIO number in BCM numbering)");
            }

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
