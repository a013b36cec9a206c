using NewTechPark.Edge.Collector.Broker.Security;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Site;

namespace NewTechPark.Edge.Collector.Tests.Sites;

/// <summary>
/// The Mosquitto ACL comes from the site files (<c>collector devices acl</c>): the shipped
/// <c>hardware/mosquitto/acl</c> is its output for the default site, and several sites get a block
/// per device login and the collector reads only its own sites.
/// </summary>
public sealed class MosquittoAclTests
{
    [Fact]
    public void The_shipped_acl_is_the_generators_output_for_the_default_site()
    {
        var shipped = Path.Combine(SettingsFiles.RepositoryRoot(), "hardware", "mosquitto", "acl");
        var options = new CollectorOptions();
        var generated = MosquittoAcl.Build(SiteCatalogLoader.Load(new CollectorOptions { SiteFile = SiteFiles.DefaultSiteFile }), options.Broker.Username,
            options.HomeAssistant.DiscoveryPrefix, options.HomeAssistant.StatePrefix);
        Assert.True(generated == File.ReadAllText(shipped).ReplaceLineEndings("\n"),
            "hardware/mosquitto/acl drifted from the generator: write it again with `collector devices acl --out hardware/mosquitto/acl`");
    }

    [Fact]
    public void Several_sites_get_a_block_per_device_login_and_the_collector_reads_its_sites_only()
    {
        using var dir = new TempDirectory();
        var catalog = SiteCatalogLoader.Load(new CollectorOptions { Sites = [SiteFiles.Folder(dir)] });
        var acl = MosquittoAcl.Build(catalog, "collector-east", "homeassistant", "ntp/ha").Split('\n');

        Assert.DoesNotContain(acl, l => l.StartsWith("pattern", StringComparison.Ordinal));
        Assert.DoesNotContain("topic read ntp/v1/#", acl);
        Assert.Contains("topic read ntp/v1/newtechpark/#", acl);
        Assert.Contains($"topic read ntp/v1/{SiteFiles.SecondSite}/#", acl);
        Assert.Contains($"topic write homeassistant/+/ntp-{SiteFiles.SecondSite}/#", acl);
        var login = Array.IndexOf(acl, $"user pi-zutphen@{SiteFiles.SecondSite}");
        Assert.True(login > 0);
        Assert.Equal($"topic write ntp/v1/{SiteFiles.SecondSite}/pi-zutphen/#", acl[login + 1]);
        Assert.Equal($"topic read ntp/v1/{SiteFiles.SecondSite}/pi-zutphen/#", acl[login + 2]);
        // Only the second site has pi-zutphen: its bare login is allowed too; pi-entrance is the default site's only.
        Assert.Contains("user pi-zutphen", acl);
        Assert.Contains("user pi-entrance@newtechpark", acl);
    }
}
