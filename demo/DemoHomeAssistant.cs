using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Broker;
using NewTechPark.Edge.Collector.Broker.Security;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Hosting;

namespace NewTechPark.Edge.Demo;

/// <summary>
/// The demo turns Home Assistant discovery on and provisions the read-only login Home Assistant
/// uses: a reader <c>homeassistant</c> with a password made at start (kept in memory, its hash
/// given to the broker), printed in the start banner like the spare device's.
/// </summary>
public sealed class DemoHomeAssistant
{
    /// <summary>The reader Home Assistant logs in as.</summary>
    public const string User = "homeassistant";

    public DemoHomeAssistant(BrokerCredentials credentials, IOptions<CollectorOptions> options)
    {
        Password = MqttPasswordHash.NewPassword(18);
        if (options.Value.HomeAssistant.Enabled)
        {
            credentials.Add(User, MqttPasswordHash.Create(Password));
        }
    }

    public string Password { get; }

    /// <summary>Turns discovery on unless the command line, environment or settings file says otherwise.</summary>
    public static string[] WithDiscoveryOn(string[] args, IConfiguration settings) =>
        string.IsNullOrEmpty(settings["Collector:HomeAssistant:Enabled"]) ? [.. args, "--Collector:HomeAssistant:Enabled=true"] : args;
}

public static class DemoHomeAssistantExtensions
{
    /// <summary>
    /// <c>--Collector:HomeAssistant:Enabled=true</c> unless the operator set it, and the reader
    /// (only while discovery is on: a login nobody needs is a login too many).
    /// </summary>
    public static IServiceCollection AddDemoHomeAssistant(this IServiceCollection services)
    {
        services.AddSingleton<DemoHomeAssistant>();
        services.PostConfigure<CollectorOptions>(o =>
        {
            if (o.HomeAssistant.Enabled && !o.Broker.Readers.Contains(DemoHomeAssistant.User))
            {
                o.Broker.Readers.Add(DemoHomeAssistant.User);
            }
        });
        services.AddSingleton<IStartupBannerSection, DemoHomeAssistantBanner>();
        return services;
    }
}

/// <summary>The demo's Home Assistant lines in the start banner.</summary>
// Takes the login in its constructor: banner sections are made when the host starts, before the
// broker listens, so the reader's password is known to the broker from the first connection.
public sealed class DemoHomeAssistantBanner(DemoHomeAssistant login, BrokerEndpoint broker, IOptions<CollectorOptions> options) : IStartupBannerSection
{
    public string? Title => null;

    public IEnumerable<string> Lines()
    {
        if (!options.Value.HomeAssistant.Enabled)
        {
            yield break;
        }

        // Printed on purpose, like the spare device's password: demo-only, made for this run, read-only.
        yield return $"  Home Assistant (read-only login, discovery prefix {options.Value.HomeAssistant.DiscoveryPrefix}):";
        yield return $"    MQTT integration: broker {broker.Host}, port {broker.Port}, user {DemoHomeAssistant.User}, password {login.Password}";
    }
}
