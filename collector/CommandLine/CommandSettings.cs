using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Hosting;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Contracts.Configuration;

namespace NewTechPark.Edge.Collector.CommandLine;

/// <summary>A command's settings could not be read or are not valid: said as the collector says it at start, exit code 2.</summary>
public sealed class SettingsRefusedException(IReadOnlyList<string> problems) : Exception(string.Join("; ", problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;

    public string Explain(string what) => $"{what}:{Environment.NewLine}- " + string.Join(Environment.NewLine + "- ", Problems);
}

/// <summary>
/// The collector's host for a command: the same configuration sources as the service
/// (appsettings.json, <c>NTP_…</c> variables, <see cref="SettingsArguments"/>), built but never
/// started, with its logging quiet so a command's output stays its own.
/// </summary>
public sealed class CommandSettings : IDisposable
{
    private readonly WebApplication _app;

    private CommandSettings(WebApplication app) => _app = app;

    public IServiceProvider Services => _app.Services;

    public CollectorOptions Options => _app.Services.GetRequiredService<IOptions<CollectorOptions>>().Value;

    /// <summary>
    /// Builds the host; with <paramref name="validate"/> the settings pass the same checks as a
    /// start (every setting, the site file, the targets file), otherwise only their binding.
    /// </summary>
    /// <exception cref="SettingsRefusedException">A setting is wrong.</exception>
    public static CommandSettings Load(SettingsArguments settings, bool validate)
    {
        WebApplication? app = null;
        try
        {
            app = CollectorHost.Build(settings.ForHost("--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Warning"));
            var loaded = new CommandSettings(app);
            if (validate)
            {
                app.Services.GetRequiredService<IStartupValidator>().Validate();
            }
            else
            {
                _ = loaded.Options;
            }

            return loaded;
        }
        catch (Exception e) when (Problems(e) is { } problems)
        {
            (app as IDisposable)?.Dispose();
            throw new SettingsRefusedException(problems);
        }
    }

    /// <summary>The site file, or the reason it cannot be read.</summary>
    public SiteModel? TrySite(out string? problem)
    {
        try
        {
            problem = null;
            return _app.Services.GetRequiredService<SiteCatalog>().Default;
        }
        catch (SiteFileException e)
        {
            problem = e.Message;
            return null;
        }
    }

    public static IReadOnlyList<string>? Problems(Exception e) => e switch
    {
        OptionsValidationException invalid => [.. invalid.Failures],
        AggregateException many when many.InnerExceptions.All(i => Problems(i) is not null) => [.. many.InnerExceptions.SelectMany(i => Problems(i)!)],
        SiteFileException site => [site.Message],
        _ when BindingError.Explain(e) is { } binding => [binding],
        _ => null,
    };

    public void Dispose() => ((IDisposable)_app).Dispose();
}
