using System.Buffers;
using System.Text;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Broker.Security;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Ingest;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Storage;

namespace NewTechPark.Edge.Collector.Tests.Sites;

/// <summary>
/// Logins and topic rules with several sites: <c>&lt;device&gt;@&lt;site&gt;</c> always, a bare device id
/// only when one owned site has it; a device of site A never publishes or reads for site B; a
/// message for a site the collector does not own is refused by name.
/// </summary>
public sealed class SiteLoginTests
{
    private static readonly SiteCatalog TwoSites = Catalog(("site-a", "pi-a"), ("site-b", "pi-b"), ("site-c", "pi-a"));

    [Theory]
    [InlineData("pi-b", "site-b")]
    [InlineData("pi-b@site-b", "site-b")]
    [InlineData("pi-a@site-a", "site-a")]
    [InlineData("pi-a@site-c", "site-c")]
    [InlineData("pi-new@site-a", "site-a")]
    public void A_login_stands_for_one_device_of_one_owned_site(string user, string site)
    {
        var authorization = Authorization();
        Assert.Equal(site, authorization.DeviceOf(user)?.Site);
        var device = user.Split('@')[0];
        Assert.True(authorization.MayPublish(user, $"ntp/v1/{site}/{device}/readings"));
        Assert.True(authorization.MaySubscribe(user, $"ntp/v1/{site}/{device}/#"));
        Assert.True(authorization.MayUseClientId(user, $"ntp-{site}-{device}"));
    }

    [Theory]
    [InlineData("pi-a")] // two owned sites have pi-a: ambiguous
    [InlineData("pi-unknown")] // no owned site names it
    [InlineData("pi-a@elsewhere")] // not an owned site
    [InlineData("pi-a@")]
    [InlineData("@site-a")]
    [InlineData("pi-a@site-a@site-b")]
    public void Ambiguous_unknown_or_foreign_logins_get_nothing(string user)
    {
        var authorization = Authorization();
        Assert.Null(authorization.DeviceOf(user));
        Assert.False(authorization.MayUseClientId(user, user));
        Assert.False(authorization.MayPublish(user, "ntp/v1/site-a/pi-a/readings"));
        Assert.False(authorization.MaySubscribe(user, "ntp/v1/site-a/pi-a/#"));
    }

    [Fact]
    public void A_device_of_one_site_never_publishes_or_reads_for_another()
    {
        var authorization = Authorization();
        Assert.False(authorization.MayPublish("pi-b@site-b", "ntp/v1/site-a/pi-b/readings"));
        Assert.False(authorization.MayPublish("pi-b", "ntp/v1/site-a/pi-b/status"));
        Assert.False(authorization.MayPublish("pi-a@site-a", "ntp/v1/site-c/pi-a/readings"));
        Assert.False(authorization.MaySubscribe("pi-a@site-a", "ntp/v1/site-c/pi-a/#"));
        Assert.False(authorization.MaySubscribe("pi-b", "ntp/v1/+/pi-b/#"));
        Assert.False(authorization.MayUseClientId("pi-a@site-a", "ntp-site-c-pi-a"));
    }

    [Fact]
    public void With_one_site_a_bare_device_id_is_that_site_as_before()
    {
        var authorization = new BrokerAuthorization(Options.Create(new CollectorOptions()), Catalog(("site-a", "pi-a")));
        Assert.Equal(("pi-other", "site-a"), authorization.DeviceOf("pi-other"));
        Assert.True(authorization.MayPublish("pi-other", "ntp/v1/site-a/pi-other/readings"));
    }

    [Theory]
    [InlineData("pi-a@site-a", true)]
    [InlineData("pi-a", true)]
    [InlineData("pi-a@", false)]
    [InlineData("Pi@site-a", false)]
    [InlineData("pi@site@x", false)]
    public void Password_file_users_may_name_their_site(string user, bool valid) =>
        Assert.Equal(valid, BrokerCredentials.IsValidUserName(user));

    [Fact]
    public void A_message_for_a_site_not_owned_is_refused_by_name()
    {
        var intake = new IngestIntake(TimeProvider.System, TwoSites, Options.Create(new CollectorOptions()));
        var payload = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes($$"""{ "v": 1, "seq": 1, "sent": "{{DateTimeOffset.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ}}", "readings": [ { "ts": "{{DateTimeOffset.UtcNow.AddSeconds(-1):yyyy-MM-ddTHH:mm:ss.fffZ}}", "sensor": "climate-x", "kind": "climate", "values": { "temperature_c": 21.5 } } ] }"""));
        var refused = Assert.IsType<DeadLetterItem>(intake.Read("ntp/v1/elsewhere/pi-a/readings", payload, DateTimeOffset.UtcNow));
        Assert.Equal(ReadingsGuard.Rules.SiteNotOwned, refused.Rule);
        var status = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes("""{ "v": 1, "state": "offline" }"""));
        Assert.Equal(ReadingsGuard.Rules.SiteNotOwned, Assert.IsType<DeadLetterItem>(intake.Read("ntp/v1/elsewhere/pi-a/status", status, DateTimeOffset.UtcNow)).Rule);
        Assert.IsType<ReadingsItem>(intake.Read("ntp/v1/site-b/pi-b/readings", payload, DateTimeOffset.UtcNow));
        Assert.IsType<StatusItem>(intake.Read("ntp/v1/site-c/pi-a/status", status, DateTimeOffset.UtcNow));

        var one = new IngestIntake(TimeProvider.System, Catalog(("site-a", "pi-a")), Options.Create(new CollectorOptions()));
        Assert.Equal(ReadingsGuard.Rules.SiteNotOwned, Assert.IsType<DeadLetterItem>(one.Read("ntp/v1/site-b/pi-a/readings", payload, DateTimeOffset.UtcNow)).Rule);
    }

    private static BrokerAuthorization Authorization() => new(Options.Create(new CollectorOptions()), TwoSites);

    private static SiteCatalog Catalog(params (string Site, string Device)[] sites) =>
        new([.. sites.Select(s => new SiteEntry(new SiteModel
        {
            Site = s.Site,
            Name = s.Site,
            Rooms = [new Room { Id = "hall", Name = new LocalizedName { Nl = "Hal", En = "Hall" }, Capacity = 10, Kind = "hall" }],
            Doors = [new Door { Id = "door-main", From = SiteModel.Outside, To = "hall", Device = s.Device }],
        }, s.Site + ".json", null))]);
}
