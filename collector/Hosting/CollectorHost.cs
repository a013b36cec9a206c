using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Broker;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Storage.Schema;
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

    /// <summary>
    /// Builds and runs a collector program (the collector, the demo) to its end. Settings are
    /// checked before the host starts, so a wrong one is not also logged with a stack trace as a
    /// failed start. A wrong site file or setting, a store of a newer collector, or a broker port
    /// another program holds is said without a stack trace, with exit code 2 (systemd does not restart).
    /// </summary>
    public static async Task<int> RunAsync(Func<WebApplication> build, string program)
    {
        var stopping = CancellationToken.None;
        try
        {
            var app = build();
            stopping = app.Lifetime.ApplicationStopping;
            app.Services.GetRequiredService<IStartupValidator>().Validate();
            EmbeddedBroker.RefuseTakenPorts(app.Services.GetRequiredService<IOptions<CollectorOptions>>().Value.Broker, app.Services.GetRequiredService<BrokerEndpoint>());
            // Held until the collector exits: restore refuses while it is held (DataDirectoryLock).
            var dataDirectory = app.Services.GetRequiredService<IOptions<CollectorOptions>>().Value.DataDirectory;
            using var dataLock = DataDirectoryLock.TryTake(dataDirectory) ?? throw new DataDirectoryInUseException(dataDirectory);
            await app.RunAsync().ConfigureAwait(false);
            return 0;
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // SIGTERM or Ctrl+C while the services were still starting: the host gives up the start
            // with this exception (after disposing the host, hence the token kept); a stop asked for is a clean stop, not a crash with a stack trace.
            await Console.Error.WriteLineAsync($"The {program} was stopped while it was starting.").ConfigureAwait(false);
            return 0;
        }
        catch (Exception e) when (e is SiteFileException or OptionsValidationException or StoreVersionException or BrokerPortInUseException or DataDirectoryInUseException || BindingError.Explain(e) is not null)
        {
            var problems = e is OptionsValidationException invalid ? string.Join(Environment.NewLine + "- ", invalid.Failures) : BindingError.Explain(e) ?? e.Message;
            await Console.Error.WriteLineAsync($"The {program} cannot start:{Environment.NewLine}- {problems}").ConfigureAwait(false);
            return 2;
        }
    }
}
