using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Site;

namespace NewTechPark.Edge.Collector.Tests.Sites;

/// <summary><c>Collector:Sites</c>: files and folders of site files, the default site, and the named refusals.</summary>
public sealed class SiteCatalogTests
{
    [Fact]
    public void A_folder_and_a_file_make_the_sites_the_first_being_the_default()
    {
        using var dir = new TempDirectory();
        var folder = SiteFiles.Folder(dir);
        File.WriteAllText(Path.Combine(folder, "targets.json"), "{}");
        File.WriteAllText(Path.Combine(folder, SiteFiles.SecondSite + SiteCatalog.TargetsSuffix), "{}");
        var third = dir.File("third.json");
        File.WriteAllText(third, SiteFiles.Second("hub-deventer"));

        var catalog = SiteCatalogLoader.Load(new CollectorOptions { Sites = [folder, third] });

        Assert.Equal(["newtechpark", SiteFiles.SecondSite, "hub-deventer"], catalog.Sites.Select(s => s.Site));
        Assert.Equal("newtechpark", catalog.Default.Site);
        Assert.True(catalog.Owns("hub-deventer"));
        Assert.False(catalog.Owns("elsewhere"));
        Assert.Equal(Path.Combine(folder, SiteFiles.SecondSite + SiteCatalog.TargetsSuffix), catalog.Entry(SiteFiles.SecondSite)!.TargetsFile);
        Assert.Null(catalog.Entry("newtechpark")!.TargetsFile);
    }

    [Fact]
    public void Without_sites_the_site_file_is_the_one_site()
    {
        var catalog = SiteCatalogLoader.Load(new CollectorOptions { SiteFile = SiteFiles.DefaultSiteFile });
        Assert.Equal("newtechpark", Assert.Single(catalog.Sites).Site);
    }

    [Fact]
    public void Wrong_lists_are_refused_by_name()
    {
        using var dir = new TempDirectory();
        var empty = Path.Combine(dir.Path, "empty");
        Directory.CreateDirectory(empty);
        var twin = dir.File("twin.json");
        File.Copy(SiteFiles.DefaultSiteFile, twin);
        var notASite = dir.File("not-a-site.json");
        File.WriteAllText(notASite, """{ "hello": 1 }""");
        var otherZone = dir.File("other-zone.json");
        File.WriteAllText(otherZone, SiteFiles.Second(timeZone: "Europe/London"));

        Assert.Contains("Collector:Sites:0", Refusal(dir.File("missing.json")));
        Assert.Contains("holds no site file", Refusal(empty));
        Assert.Contains("unique", Refusal(SiteFiles.DefaultSiteFile, twin));
        Assert.Contains("Collector:Sites:1", Refusal(SiteFiles.DefaultSiteFile, notASite));
        Assert.Contains("time zone", Refusal(SiteFiles.DefaultSiteFile, otherZone));
        Assert.Contains("1000", Refusal([.. Enumerable.Repeat(SiteFiles.DefaultSiteFile, SiteCatalog.MaxSites + 1)]));
    }

    private static string Refusal(params string[] sites) =>
        Assert.Throws<SiteFileException>(() => SiteCatalogLoader.Load(new CollectorOptions { Sites = [.. sites] })).Message;
}
