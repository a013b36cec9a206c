using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Reports;

namespace NewTechPark.Edge.Collector.Site;

/// <summary>
/// Reads <c>Collector:Sites</c>: each entry a site file or a folder of site files (every
/// <c>*.json</c> in it except <c>targets.json</c> and <c>&lt;site&gt;.targets.json</c>, in name
/// order). Empty: the one <c>Collector:SiteFile</c>. Every problem is a <see cref="SiteFileException"/>
/// naming the setting and the file, so the collector stops at start with exit code 2.
/// </summary>
public static class SiteCatalogLoader
{
    public static SiteCatalog Load(CollectorOptions options)
    {
        if (options.Sites.Count == 0)
        {
            var file = Resolve(options.SiteFile);
            return new SiteCatalog([new SiteEntry(SiteLoader.Load(file), file, null)]);
        }

        if (options.Sites.Count > SiteCatalog.MaxSites)
        {
            throw new SiteFileException($"Collector:Sites lists {options.Sites.Count} entries, more than the {SiteCatalog.MaxSites} sites a collector owns");
        }

        var entries = new List<SiteEntry>();
        for (var i = 0; i < options.Sites.Count; i++)
        {
            var given = options.Sites[i];
            if (string.IsNullOrWhiteSpace(given))
            {
                throw new SiteFileException($"Collector:Sites:{i} is empty");
            }

            var path = Resolve(given);
            if (Directory.Exists(path))
            {
                var files = SiteFilesIn(path);
                if (files.Count == 0)
                {
                    throw new SiteFileException($"Collector:Sites:{i} folder {path} holds no site file (*.json)");
                }

                foreach (var file in files)
                {
                    Add(entries, file, i);
                    var targets = Path.Combine(path, entries[^1].Site.Site + SiteCatalog.TargetsSuffix);
                    if (File.Exists(targets))
                    {
                        entries[^1] = entries[^1] with { TargetsFile = targets };
                    }
                }
            }
            else if (File.Exists(path))
            {
                Add(entries, path, i);
            }
            else
            {
                throw new SiteFileException($"Collector:Sites:{i} '{given}' is neither a site file nor a folder of site files (relative paths are taken from the working folder, then from the collector's folder)");
            }
        }

        return new SiteCatalog(entries);
    }

    /// <summary>The site files of a folder: <c>*.json</c> that are not targets files, in ordinal name order (a stable default site).</summary>
    public static IReadOnlyList<string> SiteFilesIn(string folder) =>
        [.. Directory.EnumerateFiles(folder, "*.json", SearchOption.TopDirectoryOnly)
            .Where(f => !Path.GetFileName(f).Equals(ReportTargets.DefaultFileName, StringComparison.OrdinalIgnoreCase)
                && !f.EndsWith(SiteCatalog.TargetsSuffix, StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal)];

    /// <summary>A relative path is looked up in the working folder, then beside the program.</summary>
    public static string Resolve(string path) =>
        Path.IsPathRooted(path) || File.Exists(path) || Directory.Exists(path) ? path : Path.Combine(AppContext.BaseDirectory, path);

    private static void Add(List<SiteEntry> entries, string file, int index)
    {
        if (entries.Count >= SiteCatalog.MaxSites)
        {
            throw new SiteFileException($"Collector:Sites:{index} brings the sites past the {SiteCatalog.MaxSites} a collector owns");
        }

        SiteModel site;
        try
        {
            site = SiteLoader.Load(file);
        }
        catch (SiteFileException e)
        {
            throw new SiteFileException($"Collector:Sites:{index}: {e.Message}");
        }

        if (entries.FirstOrDefault(e => e.Site.Site == site.Site) is { } twin)
        {
            throw new SiteFileException($"Collector:Sites:{index}: site '{site.Site}' of {file} is also the site of {twin.Path} (site ids must be unique)");
        }

        // The store keeps one set of day/month/year rollups: their boundaries follow one time zone.
        if (entries.Count > 0 && entries[0].Site.TimeZone != site.TimeZone)
        {
            throw new SiteFileException($"Collector:Sites:{index}: site '{site.Site}' is in time zone {site.TimeZone}, the first site in {entries[0].Site.TimeZone}; the sites of one collector share a time zone (the store's rollups follow one)");
        }

        entries.Add(new SiteEntry(site, file, null));
    }
}
