namespace NewTechPark.Edge.Collector.Hosting;

/// <summary>Builds the collector's web application; used by Program and by the tests.</summary>
public static class CollectorHost
{
    public const string DefaultUrl = "http://127.0.0.1:8080";

    /// <summary>
    /// <c>--demo</c> turns on the simulated site; any <c>--Collector:…=value</c> or environment
    /// variable <c>NTP_Collector__…</c> overrides appsettings.json.
    /// </summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var demo = args.Contains("--demo");
        var rest = args.Where(a => a != "--demo").ToArray();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = rest,
            ContentRootPath = AppContext.BaseDirectory,
            WebRootPath = Path.Combine(AppContext.BaseDirectory, "wwwroot"),
        });
        builder.Configuration.AddEnvironmentVariables("NTP_");
        if (demo)
        {
            builder.Configuration.AddInMemoryCollection([new("Collector:Demo:Enabled", "true")]);
        }

        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
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
