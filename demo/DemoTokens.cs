using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Hosting;

namespace NewTechPark.Edge.Demo;

/// <summary>
/// The demo's three tokens, one per role (lab, staff, admin), made at start like the devices'
/// passwords and kept in memory, so a newcomer can try every form of the pages. When the operator
/// configured tokens of his own (<c>Collector:Auth:Tokens</c> or <c>Collector:Admin:Token</c>), those
/// count and none are made.
/// </summary>
public sealed class DemoTokens
{
    public string Lab { get; } = New();

    public string Staff { get; } = New();

    public string Admin { get; } = New();

    /// <summary>Whether the demo's tokens are in use (no tokens were configured).</summary>
    public bool InUse { get; private set; }

    /// <summary>Adds the three tokens to settings that have none.</summary>
    public void AddTo(CollectorOptions options)
    {
        if (options.Auth.Tokens.Count > 0 || !string.IsNullOrEmpty(options.Admin.Token))
        {
            return;
        }

        options.Auth.Tokens.Add(new AuthTokenOptions { Name = "demo-lab", Role = "lab", Token = Lab });
        options.Auth.Tokens.Add(new AuthTokenOptions { Name = "demo-staff", Role = "staff", Token = Staff });
        options.Auth.Tokens.Add(new AuthTokenOptions { Name = "demo-admin", Role = "admin", Token = Admin });
        InUse = true;
    }

    /// <summary>128 random bits as 32 hex digits: as strong as 'openssl rand -hex 16'.</summary>
    private static string New() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
}

public static class DemoTokensExtensions
{
    /// <summary>One token per role for the pages' forms, unless the operator set tokens of his own; printed in the banner.</summary>
    public static IServiceCollection AddDemoTokens(this IServiceCollection services)
    {
        var tokens = new DemoTokens();
        services.AddSingleton(tokens);
        services.PostConfigure<CollectorOptions>(tokens.AddTo);
        services.AddSingleton<IStartupBannerSection, DemoTokensBanner>();
        return services;
    }
}

/// <summary>The demo's tokens in the start banner, once the collector listens (the settings are read by then).</summary>
public sealed class DemoTokensBanner(DemoTokens tokens, IOptions<CollectorOptions> options) : IStartupBannerSection
{
    public string? Title => null;

    public IEnumerable<string> Lines()
    {
        _ = options.Value;
        if (!tokens.InUse)
        {
            yield return "  Tokens: the ones configured in Collector:Auth:Tokens / Collector:Admin:Token.";
            yield break;
        }

        // Printed on purpose, like the spare device's password: demo-only, made for this run.
        yield return "  Tokens for the pages' forms (made for this run; Authorization: Bearer <token>):";
        yield return $"    lab   (start and stop DC-Lab sessions):            {tokens.Lab}";
        yield return $"    staff (also correct counts, register group visits): {tokens.Staff}";
        yield return $"    admin (everything):                                 {tokens.Admin}";
    }
}
