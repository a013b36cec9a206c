using System.Text.Json.Serialization;

namespace NewTechPark.Edge.Collector.Site;

/// <summary>
/// The building as the collector sees it: rooms, the doors between them, the meters and where the
/// other sensors stand. Loaded from the site file; the edge only reports facts.
/// </summary>
public sealed record SiteModel
{
    /// <summary>The pseudo-room on the other side of an outside door.</summary>
    public const string Outside = "outside";

    [JsonPropertyName("site")]
    public string Site { get; init; } = string.Empty;

    [JsonPropertyName("name")]
    public string Name { get; init; } = string.Empty;

    [JsonPropertyName("address")]
    public string? Address { get; init; }

    [JsonPropertyName("time_zone")]
    public string TimeZone { get; init; } = "Europe/Amsterdam";

    [JsonPropertyName("rooms")]
    public IReadOnlyList<Room> Rooms { get; init; } = [];

    [JsonPropertyName("doors")]
    public IReadOnlyList<Door> Doors { get; init; } = [];

    [JsonPropertyName("meters")]
    public IReadOnlyList<Meter> Meters { get; init; } = [];

    [JsonPropertyName("sensors")]
    public IReadOnlyList<SiteSensor> Sensors { get; init; } = [];

    /// <summary>Every device (Pi) named by a door, meter or sensor, in order of appearance.</summary>
    public IEnumerable<string> Devices =>
        Doors.Select(d => d.Device).Concat(Meters.Select(m => m.Device)).Concat(Sensors.Select(s => s.Device))
            .OfType<string>().Distinct(StringComparer.Ordinal);
}

public sealed record LocalizedName
{
    [JsonPropertyName("nl")]
    public string Nl { get; init; } = string.Empty;

    [JsonPropertyName("en")]
    public string En { get; init; } = string.Empty;
}

public sealed record Room
{
    [JsonPropertyName("id")]
    public string Id { get; init; } = string.Empty;

    [JsonPropertyName("name")]
    public LocalizedName Name { get; init; } = new();

    [JsonPropertyName("capacity")]
    public int Capacity { get; init; }

    /// <summary>lab, tech-hub, event-space, meeting, project-room, hall.</summary>
    [JsonPropertyName("kind")]
    public string Kind { get; init; } = string.Empty;
}

/// <summary>A counted door; its id is the id of the door counter sensor. <c>in</c> means into <see cref="To"/>.</summary>
public sealed record Door
{
    [JsonPropertyName("id")]
    public string Id { get; init; } = string.Empty;

    /// <summary>A room id, or <see cref="SiteModel.Outside"/>.</summary>
    [JsonPropertyName("from")]
    public string From { get; init; } = string.Empty;

    [JsonPropertyName("to")]
    public string To { get; init; } = string.Empty;

    [JsonPropertyName("device")]
    public string? Device { get; init; }
}

public sealed record Meter
{
    [JsonPropertyName("id")]
    public string Id { get; init; } = string.Empty;

    /// <summary>grid, solar or lab.</summary>
    [JsonPropertyName("role")]
    public string Role { get; init; } = string.Empty;

    [JsonPropertyName("pulses_per_kwh")]
    public double PulsesPerKwh { get; init; }

    [JsonPropertyName("room")]
    public string? Room { get; init; }

    [JsonPropertyName("device")]
    public string? Device { get; init; }
}

public sealed record SiteSensor
{
    [JsonPropertyName("id")]
    public string Id { get; init; } = string.Empty;

    [JsonPropertyName("kind")]
    public string Kind { get; init; } = string.Empty;

    [JsonPropertyName("room")]
    public string? Room { get; init; }

    [JsonPropertyName("device")]
    public string? Device { get; init; }
}
