using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Collector.HomeAssistant;

/// <summary>How often an entity's state may go out.</summary>
public enum StateCadence
{
    /// <summary>At most once per <c>Collector:HomeAssistant:OccupancyInterval</c> (rooms, building).</summary>
    Occupancy,

    /// <summary>At most once per <c>Collector:HomeAssistant:StateInterval</c> (meters, DC, climate).</summary>
    Measurement,

    /// <summary>On each change (a Pi going on- or offline: rare, and wanted at once).</summary>
    OnChange,
}

/// <summary>
/// How one value of a reading becomes a Home Assistant sensor: its object id suffix, name, device
/// class, state class, unit and display precision. The combinations are those Home Assistant
/// documents (checked by tests/EndToEnd.Tests/HomeAssistant/HomeAssistantRules.cs).
/// </summary>
public sealed record HomeAssistantQuantity(string Field, string Suffix, string Name, string DeviceClass, string StateClass, string Unit, int Precision);

/// <summary>One Home Assistant entity the collector publishes.</summary>
public sealed record HomeAssistantEntity(
    string Component,
    string ObjectId,
    string Name,
    string? Device,
    string? DeviceClass,
    string? StateClass,
    string? Unit,
    string? Icon,
    int? Precision,
    string? EntityCategory,
    StateCadence Cadence,
    string? Room = null,
    string? Sensor = null,
    string? Field = null)
{
    /// <summary>Rooms carry their capacity and names as attributes (json_attributes_topic).</summary>
    public bool HasAttributes => Room is not null;
}

/// <summary>
/// The entities of a site, as a table (after Home Assistant's own integrations): each room's
/// occupancy, the building total, each meter's energy and power, each DC bench's voltage, current
/// and power, each climate sensor's values as it reports them, and each Pi's connectivity.
/// Object ids come from the site's ids and the value's name, never from a counter, so they are
/// the same at every start and on every machine.
/// </summary>
public static class HomeAssistantEntities
{
    public const string Sensor = "sensor";
    public const string BinarySensor = "binary_sensor";

    private const string Measurement = "measurement";

    /// <summary>What a reading of each kind gives, by value field.</summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlyList<HomeAssistantQuantity>> Quantities = new Dictionary<string, IReadOnlyList<HomeAssistantQuantity>>(StringComparer.Ordinal)
    {
        [ReadingKinds.Energy] =
        [
            // The meter's own cumulative counter: Home Assistant's energy dashboard takes a
            // total_increasing sensor in Wh as it is, and reads a drop (a swapped meter) as a new cycle.
            new("energy_wh_total", "energy", "Energy", "energy", "total_increasing", "Wh", 0),
            new("power_w", "power", "Power", "power", Measurement, "W", 0),
        ],
        [ReadingKinds.Dc] =
        [
            new("voltage_v", "voltage", "Voltage", "voltage", Measurement, "V", 2),
            new("current_a", "current", "Current", "current", Measurement, "A", 3),
            new("power_w", "power", "Power", "power", Measurement, "W", 1),
        ],
        [ReadingKinds.Climate] =
        [
            new("temperature_c", "temperature", "Temperature", "temperature", Measurement, "°C", 1),
            new("humidity_pct", "humidity", "Humidity", "humidity", Measurement, "%", 0),
            new("pressure_hpa", "pressure", "Pressure", "atmospheric_pressure", Measurement, "hPa", 1),
            new("co2_ppm", "co2", "CO2", "carbon_dioxide", Measurement, "ppm", 0),
        ],
    };

    /// <summary>
    /// The site's entities. Climate sensors differ in what they measure (a DS18B20 only
    /// temperature, an SCD4x no pressure), so their entities are those of the values
    /// <paramref name="climateFields"/> says they have reported; meters and DC benches always
    /// report all of theirs.
    /// </summary>
    public static IReadOnlyList<HomeAssistantEntity> Build(SiteModel site, IReadOnlyDictionary<string, IReadOnlySet<string>> climateFields)
    {
        var entities = new List<HomeAssistantEntity>();
        foreach (var room in site.Rooms)
        {
            entities.Add(new(Sensor, $"room-{room.Id}-occupancy", $"{room.Name.En} occupancy", null, null, Measurement, "people", "mdi:account-group", 0, null, StateCadence.Occupancy, Room: room.Id));
        }

        entities.Add(new(Sensor, "building-occupancy", "Building occupancy", null, null, Measurement, "people", "mdi:account-group", 0, null, StateCadence.Occupancy));
        foreach (var meter in site.Meters)
        {
            entities.AddRange(Quantities[ReadingKinds.Energy].Select(q => FromQuantity(meter.Id, meter.Device, q)));
        }

        foreach (var sensor in site.Sensors.Where(s => s.Kind == ReadingKinds.Dc))
        {
            entities.AddRange(Quantities[ReadingKinds.Dc].Select(q => FromQuantity(sensor.Id, sensor.Device, q)));
        }

        foreach (var sensor in site.Sensors.Where(s => s.Kind == ReadingKinds.Climate))
        {
            var seen = climateFields.GetValueOrDefault(sensor.Id);
            entities.AddRange(Quantities[ReadingKinds.Climate].Where(q => seen?.Contains(q.Field) == true).Select(q => FromQuantity(sensor.Id, sensor.Device, q)));
        }

        foreach (var device in site.Devices)
        {
            entities.Add(new(BinarySensor, $"device-{device}-online", "Online", device, "connectivity", null, null, null, null, "diagnostic", StateCadence.OnChange));
        }

        return entities;
    }

    /// <summary>The quantity a climate reading's value field stands for, or null when Home Assistant gets no entity for it.</summary>
    public static HomeAssistantQuantity? ClimateQuantity(string field) =>
        Quantities[ReadingKinds.Climate].FirstOrDefault(q => q.Field == field);

    private static HomeAssistantEntity FromQuantity(string sensor, string? device, HomeAssistantQuantity q) =>
        new(Sensor, $"{sensor}-{q.Suffix}", $"{sensor} {q.Name.ToLowerInvariant()}", device, q.DeviceClass, q.StateClass, q.Unit, null, q.Precision, null, StateCadence.Measurement, Sensor: sensor, Field: q.Field);
}
