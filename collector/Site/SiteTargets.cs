using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Reports;

namespace NewTechPark.Edge.Collector.Site;

/// <summary>
/// A site's report targets. The default site keeps <c>Collector:Report:TargetsFile</c> (or
/// <c>targets.json</c> beside its site file); a site from a folder of site files takes
/// <c>&lt;site-id&gt;.targets.json</c> beside them. A site without one has no targets.
/// </summary>
public static class SiteTargets
{
    public static ReportTargets Load(SiteEntry entry, SiteCatalog catalog, CollectorOptions options)
    {
        var isDefault = ReferenceEquals(entry.Site, catalog.Default);
        if (isDefault && (options.Sites.Count == 0 || !string.IsNullOrWhiteSpace(options.Report.TargetsFile)))
        {
            return ReportTargets.Load(options);
        }

        var path = entry.TargetsFile
            ?? (isDefault ? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(entry.Path)) ?? ".", ReportTargets.DefaultFileName) : null);
        if (path is null || !File.Exists(path))
        {
            return ReportTargets.None;
        }

        var (targets, problems) = ReportTargets.Read(path);
        return problems.Count == 0 ? targets! : throw new SiteFileException(string.Join("; ", problems));
    }
}
