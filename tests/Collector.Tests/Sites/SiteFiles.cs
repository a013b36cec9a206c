namespace NewTechPark.Edge.Collector.Tests.Sites;

/// <summary>Site files for the several-sites tests: the default site's file, and a small second site.</summary>
public static class SiteFiles
{
    public const string SecondSite = "hub-zutphen";
    public const string SecondRoom = "werkplaats";

    /// <summary>The default site as the collector ships it.</summary>
    public static string DefaultSiteFile => Path.Combine(AppContext.BaseDirectory, "Site", "default-site.json");

    /// <summary>
    /// A second site with the same door and meter ids as the default site (door-main, meter-grid),
    /// so a figure that mixed the sites would show.
    /// </summary>
    public static string Second(string id = SecondSite, string timeZone = "Europe/Amsterdam", string device = "pi-zutphen") => $$"""
        {
          "site": "{{id}}",
          "name": "Tech hub Zutphen",
          "time_zone": "{{timeZone}}",
          "rooms": [
            { "id": "{{SecondRoom}}", "name": { "nl": "Werkplaats", "en": "Workshop" }, "capacity": 40, "kind": "lab" }
          ],
          "doors": [
            { "id": "door-main", "from": "outside", "to": "{{SecondRoom}}", "device": "{{device}}" }
          ],
          "meters": [
            { "id": "meter-grid", "role": "grid", "pulses_per_kwh": 1000, "room": "{{SecondRoom}}", "device": "{{device}}" }
          ]
        }
        """;

    /// <summary>A folder holding the default site's file and the second site's.</summary>
    public static string Folder(TempDirectory dir)
    {
        var folder = Path.Combine(dir.Path, "sites");
        Directory.CreateDirectory(folder);
        File.Copy(DefaultSiteFile, Path.Combine(folder, "a-newtechpark.json"));
        File.WriteAllText(Path.Combine(folder, "b-zutphen.json"), Second());
        return folder;
    }
}
