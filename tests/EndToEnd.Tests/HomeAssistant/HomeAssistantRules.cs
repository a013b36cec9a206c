using System.Text.Json;

namespace NewTechPark.Edge.EndToEnd.Tests.HomeAssistant;

/// <summary>
/// What Home Assistant accepts in an MQTT discovery config, written down from its documentation and
/// source, so the tests can check every config the collector publishes without Home Assistant
/// itself (it cannot be installed here):
/// <list type="bullet">
/// <item>Fields: https://www.home-assistant.io/integrations/sensor.mqtt/ and
/// https://www.home-assistant.io/integrations/binary_sensor.mqtt/ (configuration variables), and
/// https://www.home-assistant.io/integrations/mqtt/#discovery-messages (device, origin, availability).</item>
/// <item>Device classes, their units and state classes: home-assistant/core,
/// homeassistant/components/sensor/const.py (<c>DEVICE_CLASS_UNITS</c>,
/// <c>DEVICE_CLASS_STATE_CLASSES</c>), with the unit enums of homeassistant/const.py
/// (<c>UnitOfEnergy</c>, <c>UnitOfPower</c>, <c>UnitOfElectricPotential</c>,
/// <c>UnitOfElectricCurrent</c>, <c>UnitOfTemperature</c>, <c>UnitOfPressure</c>,
/// <c>PERCENTAGE</c>, <c>CONCENTRATION_PARTS_PER_MILLION</c>); binary sensor classes:
/// homeassistant/components/binary_sensor/__init__.py (<c>BinarySensorDeviceClass</c>).</item>
/// <item>The energy dashboard: https://www.home-assistant.io/docs/energy/ (a sensor with
/// <c>device_class: energy</c>, <c>state_class: total</c> or <c>total_increasing</c>, a unit of
/// Wh, kWh, MWh, GJ or MJ…).</item>
/// </list>
/// Only the device classes the collector uses are listed; an unlisted one fails the test.
/// </summary>
public static class HomeAssistantRules
{
    /// <summary>Documented keys of an MQTT sensor config (full names; the collector uses no abbreviations).</summary>
    public static readonly IReadOnlySet<string> SensorFields = new HashSet<string>(StringComparer.Ordinal)
    {
        "availability", "availability_mode", "availability_template", "availability_topic", "default_entity_id", "device", "device_class",
        "enabled_by_default", "encoding", "entity_category", "entity_picture", "expire_after", "force_update", "icon",
        "json_attributes_template", "json_attributes_topic", "last_reset_value_template", "name", "object_id", "options",
        "origin", "payload_available", "payload_not_available", "platform", "qos", "state_class", "state_topic",
        "suggested_display_precision", "unique_id", "unit_of_measurement", "value_template",
    };

    /// <summary>Documented keys of an MQTT binary sensor config.</summary>
    public static readonly IReadOnlySet<string> BinarySensorFields = new HashSet<string>(StringComparer.Ordinal)
    {
        "availability", "availability_mode", "availability_template", "availability_topic", "default_entity_id", "device", "device_class",
        "enabled_by_default", "encoding", "entity_category", "entity_picture", "expire_after", "force_update", "icon",
        "json_attributes_template", "json_attributes_topic", "name", "object_id", "off_delay", "origin",
        "payload_available", "payload_not_available", "payload_off", "payload_on", "platform", "qos", "state_topic",
        "unique_id", "value_template",
    };

    /// <summary>Keys of the <c>device</c> block.</summary>
    public static readonly IReadOnlySet<string> DeviceFields = new HashSet<string>(StringComparer.Ordinal)
    {
        "configuration_url", "connections", "hw_version", "identifiers", "manufacturer", "model", "model_id", "name",
        "serial_number", "suggested_area", "sw_version", "via_device",
    };

    /// <summary>Keys of the <c>origin</c> block.</summary>
    public static readonly IReadOnlySet<string> OriginFields = new HashSet<string>(StringComparer.Ordinal) { "name", "sw_version", "support_url" };

    /// <summary>Keys of one <c>availability</c> entry.</summary>
    public static readonly IReadOnlySet<string> AvailabilityFields = new HashSet<string>(StringComparer.Ordinal) { "topic", "payload_available", "payload_not_available", "value_template" };

    public static readonly IReadOnlySet<string> StateClasses = new HashSet<string>(StringComparer.Ordinal) { "measurement", "measurement_angle", "total", "total_increasing" };

    public static readonly IReadOnlySet<string> EntityCategories = new HashSet<string>(StringComparer.Ordinal) { "config", "diagnostic" };

    /// <summary>Sensor device class → (units allowed, state classes allowed), from DEVICE_CLASS_UNITS and DEVICE_CLASS_STATE_CLASSES.</summary>
    public static readonly IReadOnlyDictionary<string, (string[] Units, string[] StateClasses)> SensorDeviceClasses = new Dictionary<string, (string[], string[])>(StringComparer.Ordinal)
    {
        ["energy"] = (["J", "kJ", "MJ", "GJ", "mWh", "Wh", "kWh", "MWh", "GWh", "TWh", "cal", "kcal", "Mcal", "Gcal"], ["total", "total_increasing"]),
        ["power"] = (["mW", "W", "kW", "MW", "GW", "TW"], ["measurement"]),
        ["voltage"] = (["µV", "μV", "mV", "V", "kV", "MV"], ["measurement"]),
        ["current"] = (["mA", "A"], ["measurement"]),
        ["temperature"] = (["°C", "°F", "K"], ["measurement"]),
        ["humidity"] = (["%"], ["measurement"]),
        ["atmospheric_pressure"] = (["Pa", "hPa", "kPa", "bar", "cbar", "mbar", "mmHg", "inHg", "psi"], ["measurement"]),
        ["pressure"] = (["Pa", "hPa", "kPa", "bar", "cbar", "mbar", "mmHg", "inHg", "psi"], ["measurement"]),
        ["carbon_dioxide"] = (["ppm"], ["measurement"]),
    };

    /// <summary>Binary sensor device classes the collector may use (BinarySensorDeviceClass).</summary>
    public static readonly IReadOnlySet<string> BinarySensorDeviceClasses = new HashSet<string>(StringComparer.Ordinal) { "connectivity", "occupancy", "problem", "running" };

    /// <summary>Units the energy dashboard takes for an electricity sensor (https://www.home-assistant.io/docs/energy/electricity-grid/).</summary>
    public static readonly IReadOnlySet<string> EnergyDashboardUnits = new HashSet<string>(StringComparer.Ordinal) { "Wh", "kWh", "MWh", "GWh", "TWh", "MJ", "GJ" };

    /// <summary>Every problem with one config, in words; empty when Home Assistant takes it as it is.</summary>
    public static List<string> Problems(string component, JsonElement config)
    {
        var problems = new List<string>();
        var fields = component switch
        {
            "sensor" => SensorFields,
            "binary_sensor" => BinarySensorFields,
            _ => null,
        };
        if (fields is null)
        {
            problems.Add($"component '{component}' is not one the collector should publish");
            return problems;
        }

        foreach (var property in config.EnumerateObject())
        {
            if (!fields.Contains(property.Name))
            {
                problems.Add($"unknown field '{property.Name}'");
            }
        }

        foreach (var required in new[] { "unique_id", "state_topic", "name" })
        {
            if (!config.TryGetProperty(required, out var value) || value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(value.GetString()))
            {
                problems.Add($"missing {required}");
            }
        }

        if (!config.TryGetProperty("availability", out var availability) || availability.ValueKind != JsonValueKind.Array || availability.GetArrayLength() == 0)
        {
            problems.Add("missing availability");
        }
        else
        {
            foreach (var entry in availability.EnumerateArray())
            {
                problems.AddRange(entry.EnumerateObject().Where(p => !AvailabilityFields.Contains(p.Name)).Select(p => $"unknown availability field '{p.Name}'"));
                if (!entry.TryGetProperty("topic", out _))
                {
                    problems.Add("availability entry without a topic");
                }
            }
        }

        if (!config.TryGetProperty("device", out var device) || device.ValueKind != JsonValueKind.Object)
        {
            problems.Add("missing device");
        }
        else
        {
            problems.AddRange(device.EnumerateObject().Where(p => !DeviceFields.Contains(p.Name)).Select(p => $"unknown device field '{p.Name}'"));
            if (!device.TryGetProperty("identifiers", out var ids) || ids.ValueKind != JsonValueKind.Array || ids.GetArrayLength() == 0)
            {
                problems.Add("device without identifiers");
            }

            foreach (var required in new[] { "name", "manufacturer", "model" })
            {
                if (!device.TryGetProperty(required, out _))
                {
                    problems.Add($"device without {required}");
                }
            }
        }

        if (config.TryGetProperty("origin", out var origin))
        {
            problems.AddRange(origin.EnumerateObject().Where(p => !OriginFields.Contains(p.Name)).Select(p => $"unknown origin field '{p.Name}'"));
            if (!origin.TryGetProperty("name", out _))
            {
                problems.Add("origin without name");
            }
        }

        if (config.TryGetProperty("entity_category", out var category) && !EntityCategories.Contains(category.GetString() ?? string.Empty))
        {
            problems.Add($"entity_category '{category}' is not config or diagnostic");
        }

        var deviceClass = config.TryGetProperty("device_class", out var dc) ? dc.GetString() : null;
        if (component == "binary_sensor")
        {
            if (deviceClass is not null && !BinarySensorDeviceClasses.Contains(deviceClass))
            {
                problems.Add($"binary sensor device_class '{deviceClass}' is not known");
            }

            return problems;
        }

        var stateClass = config.TryGetProperty("state_class", out var sc) ? sc.GetString() : null;
        var unit = config.TryGetProperty("unit_of_measurement", out var u) ? u.GetString() : null;
        if (stateClass is not null && !StateClasses.Contains(stateClass))
        {
            problems.Add($"state_class '{stateClass}' is not known");
        }

        if (deviceClass is not null)
        {
            if (!SensorDeviceClasses.TryGetValue(deviceClass, out var allowed))
            {
                problems.Add($"sensor device_class '{deviceClass}' is not in the table");
            }
            else
            {
                if (!allowed.Units.Contains(unit))
                {
                    problems.Add($"unit '{unit}' is not one of device_class {deviceClass}'s: {string.Join(' ', allowed.Units)}");
                }

                if (stateClass is null || !allowed.StateClasses.Contains(stateClass))
                {
                    problems.Add($"state_class '{stateClass}' is not one of device_class {deviceClass}'s: {string.Join(' ', allowed.StateClasses)}");
                }
            }
        }

        if (config.TryGetProperty("suggested_display_precision", out var precision) && (precision.ValueKind != JsonValueKind.Number || precision.GetInt32() is < 0 or > 10))
        {
            problems.Add("suggested_display_precision is not a small whole number");
        }

        return problems;
    }
}
