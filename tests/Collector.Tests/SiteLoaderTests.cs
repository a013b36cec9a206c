using System.Text.Json.Nodes;
using NewTechPark.Edge.Collector.Site;

namespace NewTechPark.Edge.Collector.Tests;

public sealed class SiteLoaderTests : IDisposable
{
    /// <summary>The Dutch names of the rooms CONTRACT.md's "Site file" section lists.</summary>
    public static readonly string[] ContractRooms =
    [
        "Technodiscovery", "SecondTech", "E-Novation Hub", "Creatieve Zorgwerkplaats", "Mobiliteit", "Waterloopkundig Lab",
        "Smart Mobility", "DC-Lab", "Transitiehuis Gelderland", "WorldSkills projectruimtes", "3D Printlab", "Smart Building",
        "Business Lounge", "Smart Technology", "IT Solutions", "Climate Experience Room", "Technodiscovery 2 / eventruimte",
        "Smart City", "Trap Tribune", "Ontmoetingsplek", "Medical Technology",
    ];

    private static readonly string ShippedSite = Path.Combine(AppContext.BaseDirectory, "shipped-site", "default-site.json");

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Shipped_default_site_loads_with_every_contract_room()
    {
        var site = SiteLoader.Load(ShippedSite);

        Assert.Equal("newtechpark", site.Site);
        Assert.Equal("Europe/Amsterdam", site.TimeZone);
        var byName = site.Rooms.ToDictionary(r => r.Name.Nl, StringComparer.Ordinal);
        var doorsInto = site.Doors.Select(d => d.To).ToHashSet(StringComparer.Ordinal);
        foreach (var name in ContractRooms)
        {
            Assert.True(byName.TryGetValue(name, out var room), $"room '{name}' is missing from the default site");
            Assert.True(room.Capacity > 0, $"room '{name}' has capacity {room.Capacity}");
            Assert.True(doorsInto.Contains(room.Id), $"room '{name}' ({room.Id}) has no door into it");
        }

        // "and project rooms": at least one project room besides the WorldSkills rooms, each with a door.
        var projectRooms = site.Rooms.Where(r => r.Kind == "project-room" && r.Name.Nl != "WorldSkills projectruimtes").ToList();
        Assert.NotEmpty(projectRooms);
        Assert.All(projectRooms, r =>
        {
            Assert.True(r.Capacity > 0);
            Assert.Contains(r.Id, doorsInto);
        });

        // Every room, not only the named ones, can be counted.
        Assert.All(site.Rooms, r => Assert.Contains(r.Id, doorsInto));
        Assert.Contains(site.Doors, d => d.From == SiteModel.Outside);

        var roles = site.Meters.Select(m => m.Role).ToHashSet(StringComparer.Ordinal);
        Assert.Contains("grid", roles);
        Assert.Contains("solar", roles);
        Assert.Empty(SiteLoader.Check(site));
    }

    public static TheoryData<string, string> BrokenSites => new()
    {
        // name of the breakage, text the message must contain
        { "door-to-missing-room", "to 'nowhere' is not a room of the site" },
        { "duplicate-room-id", "(lab): room id is used twice" },
        { "room-id-not-slug", "id 'Lab A' is not a slug" },
        { "capacity-zero", "(lab): capacity must be above 0" },
        { "meter-role-wind", "role 'wind' is not one of grid, solar, lab" },
        { "unknown-property", "capacty" },
        { "unknown-time-zone", "time_zone 'Europe/Apeldoorn' is not a known time zone" },
    };

    [Theory]
    [MemberData(nameof(BrokenSites))]
    public void Broken_site_file_fails_with_a_message_naming_the_problem(string breakage, string expected)
    {
        var json = ValidSite();
        Break(json, breakage);
        var path = Write(json.ToJsonString());

        var error = Assert.Throws<SiteFileException>(() => SiteLoader.Load(path));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_valid_base_site_of_the_broken_cases_loads()
    {
        var site = SiteLoader.Load(Write(ValidSite().ToJsonString()));
        Assert.Equal(2, site.Rooms.Count);
    }

    [Fact]
    public void Invalid_json_fails_with_site_file_exception()
    {
        var path = Write("""{ "site": "x", "rooms": [ { "id": "lab", """);

        var error = Assert.Throws<SiteFileException>(() => SiteLoader.Load(path));

        Assert.Contains("is not valid", error.Message, StringComparison.Ordinal);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "site": "x", "rooms": null }""", "rooms")]
    [InlineData("""{ "site": "x", "rooms": [ { "id": "a", "name": null, "capacity": 1, "kind": "lab" } ] }""", "name")]
    [InlineData("""{ "site": "x", "rooms": [ null ] }""", "rooms[0] is null")]
    [InlineData("""{ "site": "x", "rooms": [ { "id": "a", "name": { "nl": "A", "en": "A" }, "capacity": 1, "kind": "lab" } ], "doors": [ null ] }""", "doors[0] is null")]
    [InlineData("""null""", "is empty")]
    public void Null_where_the_site_needs_a_value_fails_with_site_file_exception(string json, string expected)
    {
        var path = Write(json);

        var error = Assert.Throws<SiteFileException>(() => SiteLoader.Load(path));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_file_fails_with_site_file_exception()
    {
        var path = _dir.File("no-such-site.json");

        var error = Assert.Throws<SiteFileException>(() => SiteLoader.Load(path));

        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Several_problems_are_all_listed()
    {
        var json = ValidSite();
        Break(json, "door-to-missing-room");
        Break(json, "capacity-zero");
        Break(json, "meter-role-wind");
        Break(json, "unknown-time-zone");
        var path = Write(json.ToJsonString());

        var error = Assert.Throws<SiteFileException>(() => SiteLoader.Load(path));

        Assert.Contains("4 problem(s)", error.Message, StringComparison.Ordinal);
        Assert.Contains("to 'nowhere' is not a room of the site", error.Message, StringComparison.Ordinal);
        Assert.Contains("capacity must be above 0", error.Message, StringComparison.Ordinal);
        Assert.Contains("role 'wind'", error.Message, StringComparison.Ordinal);
        Assert.Contains("time_zone 'Europe/Apeldoorn'", error.Message, StringComparison.Ordinal);
    }

    private string Write(string text)
    {
        var path = _dir.File($"site-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, text);
        return path;
    }

    private static JsonObject ValidSite() => JsonNode.Parse("""
        {
          "site": "test-site",
          "name": "Test",
          "time_zone": "Europe/Amsterdam",
          "rooms": [
            { "id": "hall", "name": { "nl": "Hal", "en": "Hall" }, "capacity": 100, "kind": "hall" },
            { "id": "lab", "name": { "nl": "Lab", "en": "Lab" }, "capacity": 20, "kind": "lab" }
          ],
          "doors": [
            { "id": "door-main", "from": "outside", "to": "hall", "device": "pi-entrance" },
            { "id": "door-lab", "from": "hall", "to": "lab", "device": "pi-hall" }
          ],
          "meters": [
            { "id": "meter-grid", "role": "grid", "pulses_per_kwh": 1000, "room": "hall", "device": "pi-entrance" }
          ],
          "sensors": [
            { "id": "climate-lab", "kind": "climate", "room": "lab", "device": "pi-hall" }
          ]
        }
        """)!.AsObject();

    private static void Break(JsonObject site, string breakage)
    {
        var rooms = site["rooms"]!.AsArray();
        switch (breakage)
        {
            case "door-to-missing-room":
                site["doors"]![1]!["to"] = "nowhere";
                break;
            case "duplicate-room-id":
                rooms.Add(JsonNode.Parse("""{ "id": "lab", "name": { "nl": "Lab 2", "en": "Lab 2" }, "capacity": 10, "kind": "lab" }"""));
                break;
            case "room-id-not-slug":
                rooms.Add(JsonNode.Parse("""{ "id": "Lab A", "name": { "nl": "Lab A", "en": "Lab A" }, "capacity": 10, "kind": "lab" }"""));
                break;
            case "capacity-zero":
                rooms[1]!["capacity"] = 0;
                break;
            case "meter-role-wind":
                site["meters"]![0]!["role"] = "wind";
                break;
            case "unknown-property":
                var lab = rooms[1]!.AsObject();
                lab.Remove("capacity");
                lab["capacty"] = 20;
                break;
            case "unknown-time-zone":
                site["time_zone"] = "Europe/Apeldoorn";
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(breakage), breakage, "unknown breakage");
        }
    }
}
