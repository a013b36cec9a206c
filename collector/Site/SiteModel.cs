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

    /// <summary>
    /// When the building is open (local time); utilisation and "rooms in use" count these hours
    /// only. Optional in the site file; default Monday to Friday 08:30–17:00.
    /// </summary>
    [JsonPropertyName("opening_hours")]
    public IReadOnlyList<OpeningHours> OpeningHours { get; init; } = NewTechPark.Edge.Collector.Site.OpeningHours.Default;

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

/// <summary>Opening hours on some weekdays, local time: <c>{ "days": ["monday", …], "open": "08:30", "close": "17:00" }</c>.</summary>
public sealed record OpeningHours
{
    public static readonly IReadOnlyList<OpeningHours> Default =
    [
        new OpeningHours { Days = ["monday", "tuesday", "wednesday", "thursday", "friday"], Open = "08:30", Close = "17:00" },
    ];

    [JsonPropertyName("days")]
    public IReadOnlyList<string> Days { get; init; } = [];

    [JsonPropertyName("open")]
    public string Open { get; init; } = "08:30";

    [JsonPropertyName("close")]
    public string Close { get; init; } = "17:00";

    public static bool TryParseDay(string day, out DayOfWeek dayOfWeek) =>
        Enum.TryParse(day, ignoreCase: true, out dayOfWeek) && !int.TryParse(day, out _);

    public static bool TryParseTime(string text, out TimeOnly time) =>
        TimeOnly.TryParseExact(text, "HH:mm", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out time);

    /// <summary>The open intervals of a local date, as UTC milliseconds, through <paramref name="toUtcMs"/>.</summary>
    public static List<(long From, long To)> Intervals(IReadOnlyList<OpeningHours> hours, DateOnly date, Func<DateTime, long> toUtcMs)
    {
        var result = new List<(long, long)>();
        foreach (var h in hours)
        {
            if (!h.Days.Any(d => TryParseDay(d, out var dow) && dow == date.DayOfWeek)
                || !TryParseTime(h.Open, out var open) || !TryParseTime(h.Close, out var close) || close <= open)
            {
                continue;
            }

            result.Add((toUtcMs(date.ToDateTime(open)), toUtcMs(date.ToDateTime(close))));
        }

        return result;
    }
}
