using NewTechPark.Edge.Contracts.Configuration;

namespace NewTechPark.Edge.Collector.Hosting;

/// <summary>Builds the collector's web application; used by Program and by the tests.</summary>
public static class CollectorHost
{
    public const string DefaultUrl = "http://127.0.0.1:8080";

    /// <summary>
    /// Any <c>--Collector:…=value</c> or environment variable <c>NTP_Collector__…</c> overrides
    /// appsettings.json. <paramref name="configure"/> runs after the collector's services are
    /// added: the composition hook of hosts built around the collector (the demo adds its
    /// simulated site there; the tests add log capture).
    /// </summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = SettingsReadOnce.Arguments(args),
            ContentRootPath = AppContext.BaseDirectory,
            WebRootPath = Path.Combine(AppContext.BaseDirectory, "wwwroot"),
        });
        builder.Configuration.AddEnvironmentVariables("NTP_");

        // Kestrel:Endpoints (HTTPS with a certificate, see README 'HTTPS') replaces the default address.
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"])
            && !builder.Configuration.GetSection("Kestrel:Endpoints").Exists())
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        builder.Host.UseSystemd();
        builder.Services.AddCollector(builder.Configuration);
        configure?.Invoke(builder);
        var app = builder.Build();
        app.MapCollector();
        return app;
    }
}
