using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Hosting;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Contracts.Configuration;
using Spectre.Console;

namespace NewTechPark.Edge.Collector.CommandLine;

/// <summary>
/// What <c>export</c>, <c>backup</c> and <c>restore</c> need from the collector's settings: the data
/// directory (and for export the site file: its site and time zone), read from the same sources
/// as the service (appsettings.json, <c>NTP_Collector__…</c>, <c>--Collector:…</c>). Only these are
/// read: a nightly backup must not fail on a setting it does not use (a broker password file the
/// timer's environment lacks), so the service's full validation is not run here.
/// </summary>
internal sealed class DataCommandSettings
{
    public const string StoreFileName = "collector.db";

    private readonly CollectorOptions _options;

    private DataCommandSettings(CollectorOptions options) => _options = options;

    public string DataDirectory => Path.GetFullPath(_options.DataDirectory);

    public string StorePath => Path.Combine(DataDirectory, StoreFileName);

    /// <summary>Reads the settings; throws <see cref="DataCommandException"/> when the data directory is not set.</summary>
    public static DataCommandSettings Load(SettingsArguments settings)
    {
        var app = CollectorHost.Build(settings.ForHost("--Logging:LogLevel:Default=Warning"));
        try
        {
            var options = app.Configuration.GetSection(CollectorOptions.Section).Get<CollectorOptions>() ?? new CollectorOptions();
            if (string.IsNullOrWhiteSpace(options.DataDirectory))
            {
                throw new DataCommandException("Collector:DataDirectory is empty: give the folder of the store, e.g. --Collector:DataDirectory=/var/lib/ntp-collector");
            }

            return new DataCommandSettings(options);
        }
        catch (InvalidOperationException e) when (BindingError.Explain(e) is { } problem)
        {
            throw new DataCommandException(problem);
        }
        finally
        {
            ((IDisposable)app).Dispose();
        }
    }

    /// <summary>The site file (its site id and time zone), as the service loads it.</summary>
    public SiteModel LoadSite()
    {
        try
        {
            return CollectorServiceCollectionExtensions.LoadSite(_options);
        }
        catch (Exception e) when (e is SiteFileException or IOException or UnauthorizedAccessException)
        {
            throw new DataCommandException($"the site file cannot be read: {e.Message}");
        }
    }

    /// <summary>A progress bar on stderr, only when stderr is a terminal (never in a log or a pipe).</summary>
    public static IAnsiConsole? ProgressConsole() =>
        Console.IsErrorRedirected ? null : AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });

    /// <summary>Bytes as people read them (1.5 MB).</summary>
    public static string Size(long bytes) => bytes switch
    {
        < 1024 => FormattableString.Invariant($"{bytes} B"),
        < 1024 * 1024 => FormattableString.Invariant($"{bytes / 1024.0:0.0} KiB"),
        < 1024L * 1024 * 1024 => FormattableString.Invariant($"{bytes / 1024.0 / 1024:0.0} MiB"),
        _ => FormattableString.Invariant($"{bytes / 1024.0 / 1024 / 1024:0.00} GiB"),
    };
}

/// <summary>A data command refused its input; the message names what and why (exit code 2).</summary>
internal sealed class DataCommandException(string message) : Exception(message);
