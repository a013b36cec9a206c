using NewTechPark.Edge.Collector.Site;

namespace NewTechPark.Edge.Collector.Sinks;

/// <summary>
/// The site file's facts about a sensor, as line-protocol tags: <c>room</c> for a sensor or meter
/// that stands in a room, <c>role</c> for a meter (<c>grid</c>, <c>solar</c>, <c>lab</c>), <c>from</c>
/// and <c>to</c> for a door. Dashboards select on them (a room variable, grid against solar, the
/// outside doors) instead of on sensor names. A sensor the site file does not name gets none.
/// The ids are slugs checked when the site file loads, so they need no escaping beyond the client's.
/// </summary>
public sealed class SiteTags
{
    private readonly Dictionary<string, KeyValuePair<string, string>[]> _tags = new(StringComparer.Ordinal);

    public SiteTags(SiteModel site)
    {
        Site = site.Site;
        foreach (var sensor in site.Sensors)
        {
            Add(sensor.Id, ("room", sensor.Room));
        }

        foreach (var meter in site.Meters)
        {
            Add(meter.Id, ("room", meter.Room), ("role", meter.Role));
        }

        foreach (var door in site.Doors)
        {
            Add(door.Id, ("from", door.From), ("to", door.To));
        }
    }

    /// <summary>The site the tags belong to: a batch of another site gets none.</summary>
    public string Site { get; }

    public IReadOnlyList<KeyValuePair<string, string>> For(string site, string sensor) =>
        string.Equals(site, Site, StringComparison.Ordinal) && _tags.TryGetValue(sensor, out var tags) ? tags : [];

    private void Add(string sensor, params (string Key, string? Value)[] tags) =>
        _tags[sensor] = [.. tags.Where(t => !string.IsNullOrEmpty(t.Value)).Select(t => KeyValuePair.Create(t.Key, t.Value!))];
}
