using Microsoft.Extensions.DependencyInjection;
using NewTechPark.Edge.Collector.Hosting;
using NewTechPark.Edge.Demo;
using NewTechPark.Edge.EndToEnd.Tests.Infrastructure;

namespace NewTechPark.Edge.EndToEnd.Tests.HomeAssistant;

/// <summary>
/// The demo turns discovery on and prints the read-only login Home Assistant uses; with it, the
/// whole simulated site appears, every config as Home Assistant documents it, climate sensors with
/// the values their parts measure.
/// </summary>
[Trait("Category", "Slow")]
public sealed class DemoHomeAssistantTests
{
    [Fact]
    public async Task The_banners_login_reads_the_whole_simulated_site_as_home_assistant_would()
    {
        await using var collector = await RunningCollector.StartAsync(demo: true);
        var lines = collector.Services.GetServices<IStartupBannerSection>().SelectMany(s => s.Lines()).ToList();
        var hint = Assert.Single(lines, l => l.Contains("MQTT integration: broker", StringComparison.Ordinal));
        var password = collector.Services.GetRequiredService<DemoHomeAssistant>().Password;
        Assert.Contains($"user {DemoHomeAssistant.User}, password {password}", hint, StringComparison.Ordinal);

        await using var ha = await HomeAssistantListener.ConnectAsync(collector.BrokerPort, DemoHomeAssistant.User, password);
        // The simulated climate sensors report within seconds; their entities follow.
        await Eventually.UntilAsync(() => ha.ParsedConfigs().Keys.Count(k => k.Contains("/climate-", StringComparison.Ordinal)) >= 4, "climate entities appear", TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100));
        await Eventually.UntilAsync(() => ha.Latest("ntp/ha/newtechpark/dc-bench-1-power/state") is not null, "a DC bench's power arrives", TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(50));

        var configs = ha.ParsedConfigs();
        var problems = configs.SelectMany(c => HomeAssistantRules.Problems(c.Key.Split('/')[1], c.Value).Select(p => $"{c.Key}: {p}")).ToList();
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
        // The login reads and announces, nothing more.
        await ha.SendBirthAsync();
        await using var probe = await Security.MqttProbe.ConnectAsync(collector.BrokerPort, DemoHomeAssistant.User, password, configure: b => b.WithClientId("homeassistant-probe"));
        Assert.False((await probe.PublishAsync("homeassistant/sensor/ntp-newtechpark/room-dc-lab-occupancy/config", "")).IsSuccess);
    }
}
