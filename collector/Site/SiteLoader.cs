using System.Text.Json;
using NewTechPark.Edge.Contracts;

namespace NewTechPark.Edge.Collector.Site;

/// <summary>A site file that cannot be used; the message lists every problem found.</summary>
public sealed class SiteFileException(string message) : Exception(message);

/// <summary>Reads and checks a site file. A wrong site file stops the collector at start with a clear message.</summary>
public static class SiteLoader
{
    public static readonly string[] MeterRoles = ["grid", "solar", "lab"];

    private static readonly JsonSerializerOptions Options = new()
    {
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
        // "rooms": null or "name": null is an error in the file, not a crash later on.
        RespectNullableAnnotations = true,
    };

    public static SiteModel Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new SiteFileException($"site file {path} does not exist");
        }

        SiteModel? site;
        try
        {
            site = JsonSerializer.Deserialize<SiteModel>(File.ReadAllBytes(path), Options);
        }
        catch (JsonException e)
        {
            throw new SiteFileException($"site file {path} is not valid: {e.Message}");
        }

        if (site is null)
        {
            throw new SiteFileException($"site file {path} is empty");
        }

        var problems = Check(site);
        if (problems.Count > 0)
        {
            throw new SiteFileException($"site file {path} has {problems.Count} problem(s):{Environment.NewLine}- " + string.Join(Environment.NewLine + "- ", problems));
        }

        return site;
    }

    /// <summary>Every problem with the site, in words; empty when it is sound.</summary>
    public static List<string> Check(SiteModel site)
    {
        var problems = new List<string>();
        NullItems("rooms", site.Rooms, problems);
        NullItems("doors", site.Doors, problems);
        NullItems("meters", site.Meters, problems);
        NullItems("sensors", site.Sensors, problems);
        if (problems.Count > 0)
        {
            // The checks below read every item; a null one is reported alone.
            return problems;
        }

        if (!Identifiers.IsSlug(site.Site))
        {
            problems.Add($"site '{site.Site}' is not a slug ({Identifiers.SlugPattern})");
        }

        try
        {
            TimeZoneInfo.FindSystemTimeZoneById(site.TimeZone);
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException or ArgumentException)
        {
            problems.Add($"time_zone '{site.TimeZone}' is not a known time zone");
        }

        if (site.Rooms.Count == 0)
        {
            problems.Add("rooms is empty; a site needs at least one room");
        }

        var rooms = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < site.Rooms.Count; i++)
        {
            var room = site.Rooms[i];
            var at = $"rooms[{i}] ({room.Id})";
            CheckId(room.Id, at, problems);
            if (room.Id == SiteModel.Outside)
            {
                problems.Add($"{at}: '{SiteModel.Outside}' is reserved for the outside of the building");
            }
            else if (!rooms.Add(room.Id))
            {
                problems.Add($"{at}: room id is used twice");
            }

            if (room.Capacity <= 0)
            {
                problems.Add($"{at}: capacity must be above 0");
            }

            if (string.IsNullOrWhiteSpace(room.Name.Nl) || string.IsNullOrWhiteSpace(room.Name.En))
            {
                problems.Add($"{at}: name needs both nl and en");
            }
        }

        var sensorIds = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < site.Doors.Count; i++)
        {
            var door = site.Doors[i];
            var at = $"doors[{i}] ({door.Id})";
            CheckSensorId(door.Id, at, sensorIds, problems);
            CheckSide(door.From, "from", at, rooms, problems);
            CheckSide(door.To, "to", at, rooms, problems);
            if (door.To == SiteModel.Outside)
            {
                problems.Add($"{at}: 'to' must be a room; write an outside door as from outside to the room");
            }

            if (door.From == door.To)
            {
                problems.Add($"{at}: from and to are the same room");
            }

            CheckDevice(door.Device, at, problems);
        }

        for (var i = 0; i < site.Meters.Count; i++)
        {
            var meter = site.Meters[i];
            var at = $"meters[{i}] ({meter.Id})";
            CheckSensorId(meter.Id, at, sensorIds, problems);
            if (!MeterRoles.Contains(meter.Role))
            {
                problems.Add($"{at}: role '{meter.Role}' is not one of {string.Join(", ", MeterRoles)}");
            }

            if (!(meter.PulsesPerKwh > 0))
            {
                problems.Add($"{at}: pulses_per_kwh must be above 0");
            }

            CheckRoom(meter.Room, at, rooms, problems);
            CheckDevice(meter.Device, at, problems);
        }

        for (var i = 0; i < site.Sensors.Count; i++)
        {
            var sensor = site.Sensors[i];
            var at = $"sensors[{i}] ({sensor.Id})";
            CheckSensorId(sensor.Id, at, sensorIds, problems);
            if (!Identifiers.IsSlug(sensor.Kind))
            {
                problems.Add($"{at}: kind '{sensor.Kind}' is not a slug");
            }

            CheckRoom(sensor.Room, at, rooms, problems);
            CheckDevice(sensor.Device, at, problems);
        }

        for (var i = 0; i < site.OpeningHours.Count; i++)
        {
            var hours = site.OpeningHours[i];
            var at = $"opening_hours[{i}]";
            if (hours is null)
            {
                problems.Add($"{at} is null; write an object or leave it out");
                continue;
            }

            foreach (var day in hours.Days.Where(d => !OpeningHours.TryParseDay(d, out _)))
            {
                problems.Add($"{at}: '{day}' is not a day of the week (monday … sunday)");
            }

            if (!OpeningHours.TryParseTime(hours.Open, out var open) || !OpeningHours.TryParseTime(hours.Close, out var close))
            {
                problems.Add($"{at}: open and close must be local times such as 08:30 and 17:00");
            }
            else if (close <= open)
            {
                problems.Add($"{at}: close {hours.Close} must be later than open {hours.Open}");
            }
        }

        return problems;
    }

    private static void NullItems<T>(string list, IReadOnlyList<T> items, List<string> problems)
        where T : class
    {
        for (var i = 0; i < items.Count; i++)
        {
            if (items[i] is null)
            {
                problems.Add($"{list}[{i}] is null; write an object or leave it out");
            }
        }
    }

    private static void CheckId(string id, string at, List<string> problems)
    {
        if (!Identifiers.IsSlug(id))
        {
            problems.Add($"{at}: id '{id}' is not a slug ({Identifiers.SlugPattern})");
        }
    }

    private static void CheckSensorId(string id, string at, HashSet<string> sensorIds, List<string> problems)
    {
        CheckId(id, at, problems);
        if (!sensorIds.Add(id))
        {
            problems.Add($"{at}: sensor id '{id}' is used twice (door, meter and sensor ids share one name space)");
        }
    }

    private static void CheckSide(string side, string name, string at, HashSet<string> rooms, List<string> problems)
    {
        if (side != SiteModel.Outside && !rooms.Contains(side))
        {
            problems.Add($"{at}: {name} '{side}' is not a room of the site (nor '{SiteModel.Outside}')");
        }
    }

    private static void CheckRoom(string? room, string at, HashSet<string> rooms, List<string> problems)
    {
        if (room is not null && !rooms.Contains(room))
        {
            problems.Add($"{at}: room '{room}' is not a room of the site");
        }
    }

    private static void CheckDevice(string? device, string at, List<string> problems)
    {
        if (device is not null && !Identifiers.IsSlug(device))
        {
            problems.Add($"{at}: device '{device}' is not a slug");
        }
    }
}
