using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using NewTechPark.Edge.Collector.Site;

namespace NewTechPark.Edge.Collector.HomeAssistant;

/// <summary>
/// Writes an entity's discovery config as Home Assistant's MQTT integration documents it: full key
/// names (no abbreviations, so a reader of the broker can follow), <c>unique_id</c>,
/// <c>state_topic</c>, availability bound to the collector's status topic, a <c>device</c> block
/// (one per Pi, with <c>via_device</c> the site's collector) and an <c>origin</c> block.
/// </summary>
public static class DiscoveryConfig
{
    public const string Manufacturer = "NewTechPark.Edge";

    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <param name="deviceVersions">A Pi's software version from its last status, when known.</param>
    public static byte[] Build(HomeAssistantEntity entity, HomeAssistantTopics topics, SiteModel site, string collectorVersion, IReadOnlyDictionary<string, string> deviceVersions)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var json = new Utf8JsonWriter(buffer, Options))
        {
            json.WriteStartObject();
            json.WriteString("name", entity.Name);
            json.WriteString("unique_id", $"{topics.NodeId}-{entity.ObjectId}");
            json.WriteString("state_topic", topics.State(entity.ObjectId));
            if (entity.HasAttributes)
            {
                json.WriteString("json_attributes_topic", topics.Attributes(entity.ObjectId));
            }

            Optional(json, "device_class", entity.DeviceClass);
            Optional(json, "state_class", entity.StateClass);
            Optional(json, "unit_of_measurement", entity.Unit);
            Optional(json, "icon", entity.Icon);
            Optional(json, "entity_category", entity.EntityCategory);
            if (entity.Precision is { } precision)
            {
                json.WriteNumber("suggested_display_precision", precision);
            }

            if (entity.Component == HomeAssistantEntities.BinarySensor)
            {
                json.WriteString("payload_on", StateText.On);
                json.WriteString("payload_off", StateText.Off);
            }

            json.WriteStartArray("availability");
            json.WriteStartObject();
            json.WriteString("topic", topics.Availability);
            json.WriteString("payload_available", HomeAssistantTopics.Online);
            json.WriteString("payload_not_available", HomeAssistantTopics.Offline);
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteNumber("qos", 1);

            json.WriteStartObject("device");
            if (entity.Device is { } device)
            {
                json.WriteStartArray("identifiers");
                json.WriteStringValue($"{topics.NodeId}-{device}");
                json.WriteEndArray();
                json.WriteString("name", device);
                json.WriteString("manufacturer", Manufacturer);
                json.WriteString("model", "Edge agent (Raspberry Pi)");
                Optional(json, "sw_version", deviceVersions.GetValueOrDefault(device));
                json.WriteString("via_device", topics.NodeId);
            }
            else
            {
                json.WriteStartArray("identifiers");
                json.WriteStringValue(topics.NodeId);
                json.WriteEndArray();
                json.WriteString("name", string.IsNullOrWhiteSpace(site.Name) ? site.Site : site.Name);
                json.WriteString("manufacturer", Manufacturer);
                json.WriteString("model", "Collector");
                json.WriteString("sw_version", collectorVersion);
            }

            json.WriteEndObject();
            json.WriteStartObject("origin");
            json.WriteString("name", Manufacturer);
            json.WriteString("sw_version", collectorVersion);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A room's attributes: its capacity, names and capacity level.</summary>
    public static byte[] RoomAttributes(Room room, long count)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer, Options))
        {
            json.WriteStartObject();
            json.WriteNumber("capacity", room.Capacity);
            json.WriteString("room", room.Id);
            json.WriteString("name_nl", room.Name.Nl);
            json.WriteString("name_en", room.Name.En);
            json.WriteString("kind", room.Kind);
            json.WriteString("capacity_level", Occupancy.OccupancyEngine.CapacityLevel(count, room.Capacity));
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void Optional(Utf8JsonWriter json, string name, string? value)
    {
        if (value is not null)
        {
            json.WriteString(name, value);
        }
    }
}

/// <summary>State payloads: plain numbers in invariant culture, <c>ON</c>/<c>OFF</c> for a binary sensor.</summary>
public static class StateText
{
    public const string On = "ON";
    public const string Off = "OFF";

    public static string Number(double value) => value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
}
