namespace NewTechPark.Edge.Collector.Site;

/// <summary>
/// The sites this collector owns (<c>Collector:Sites</c>, or the one <c>Collector:SiteFile</c>):
/// every site, the default one (the first listed: what an API call without <c>site</c> means),
/// lookup by id. Built once at start; a wrong list stops the collector with a named refusal.
/// </summary>
public sealed class SiteCatalog
{
    /// <summary>At most this many sites per collector: every site has its own services and subscriptions.</summary>
    public const int MaxSites = 1000;

    /// <summary>A folder may hold a site's report targets beside its site file: <c>&lt;site-id&gt;.targets.json</c>.</summary>
    public const string TargetsSuffix = ".targets.json";

    private readonly Dictionary<string, SiteEntry> _byId;

    public SiteCatalog(IReadOnlyList<SiteEntry> entries)
    {
        if (entries.Count == 0)
        {
            throw new SiteFileException("no site: Collector:Sites lists no site file");
        }

        Entries = entries;
        _byId = new Dictionary<string, SiteEntry>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            if (!_byId.TryAdd(entry.Site.Site, entry))
            {
                throw new SiteFileException($"site '{entry.Site.Site}' is in two site files: {_byId[entry.Site.Site].Path} and {entry.Path} (site ids must be unique across Collector:Sites)");
            }
        }

        Sites = [.. entries.Select(e => e.Site)];
    }

    /// <summary>One site (tests, tools).</summary>
    public SiteCatalog(SiteModel site) : this([new SiteEntry(site, string.Empty, null)])
    {
    }

    public IReadOnlyList<SiteEntry> Entries { get; }

    public IReadOnlyList<SiteModel> Sites { get; }

    public SiteModel Default => Sites[0];

    public int Count => Sites.Count;

    public bool Owns(string site) => _byId.ContainsKey(site);

    public SiteModel? Find(string site) => _byId.TryGetValue(site, out var entry) ? entry.Site : null;

    public SiteEntry? Entry(string site) => _byId.TryGetValue(site, out var entry) ? entry : null;
}

/// <summary>A site, the file it came from, and its report targets file when one lies beside it.</summary>
public sealed record SiteEntry(SiteModel Site, string Path, string? TargetsFile);
