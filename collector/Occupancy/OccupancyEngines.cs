namespace NewTechPark.Edge.Collector.Occupancy;

/// <summary>
/// Every owned site's <see cref="OccupancyEngine"/>, found by the site of a committed batch. With
/// one site (the usual case) a lookup is one string comparison, so ingest stays as fast as before.
/// </summary>
public sealed class OccupancyEngines
{
    private readonly OccupancyEngine? _single;
    private readonly Dictionary<string, OccupancyEngine> _bySite = new(StringComparer.Ordinal);

    public OccupancyEngines(IEnumerable<OccupancyEngine> engines)
    {
        All = [.. engines];
        foreach (var engine in All)
        {
            _bySite[engine.Site.Site] = engine;
        }

        _single = All.Count == 1 ? All[0] : null;
    }

    public IReadOnlyList<OccupancyEngine> All { get; }

    /// <summary>The site's engine; null for a site the collector does not own (the intake refuses those before).</summary>
    public OccupancyEngine? For(string site) =>
        _single is not null ? (string.Equals(_single.Site.Site, site, StringComparison.Ordinal) ? _single : null) : _bySite.GetValueOrDefault(site);

    /// <summary>One site's engine (tests and tools that drive one site).</summary>
    public static implicit operator OccupancyEngines(OccupancyEngine engine) => new([engine]);
}
